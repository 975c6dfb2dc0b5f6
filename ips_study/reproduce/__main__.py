"""``python -m ips_study.reproduce [--data DIR] [--out DIR] [--study FILE] [--work DIR] [--only NAME ...] [--partitions K]``."""

from __future__ import annotations

import argparse
import sys

from .pipeline import run


def output_table() -> str:
    """The README's table: output -> step -> function (program) -> files."""
    from .outputs import OUTPUTS

    lines = ["| output | step | made by | files |", "|---|---|---|---|"]
    for o in OUTPUTS:
        ext = {"figure": "png, pdf", "etable": "md, tex, html"}.get(o.kind, "csv, md, tex")
        doc = (o.make.__doc__ or "").strip().split("\n")[0]
        lines.append(f"| `{o.name}` | {o.step} | `ips_study.reproduce.outputs.{o.make.__name__}` {doc} | {ext} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ips_study.reproduce", description=__doc__)
    p.add_argument("--data", default=None, help="register directory (default: synthetic_data/)")
    p.add_argument("--out", default=None, help="output directory (default: figures/)")
    p.add_argument("--study", default=None, help="study TOML file (default: the data contract's study defaults)")
    p.add_argument("--work", default=None, help="confidential work area for intermediates")
    p.add_argument("--only", nargs="*", default=None, help="output names or step names to (re)build")
    p.add_argument("--quiet", action="store_true")
    p.add_argument("--lang", choices=["en", "no"], default="en", help="figure labels: English or Norwegian")
    p.add_argument("--list", action="store_true", help="print the output table (Markdown) and exit")
    p.add_argument("--workers", type=int, default=1,
                   help="local Dask worker processes for the simulations (outputs are the same)")
    p.add_argument("--partitions", type=int, default=None, metavar="K",
                   help="build the panels in K person partitions (default: $IPS_STUDY_PARTITIONS, "
                        "else in memory; the outputs are the same)")
    a = p.parse_args(argv)
    if a.list:
        print(output_table())
        return 0
    return run(data=a.data, out=a.out, study=a.study, quiet=a.quiet, only=a.only, work=a.work, lang=a.lang,
               workers=a.workers, partitions=a.partitions)


if __name__ == "__main__":
    sys.exit(main())
