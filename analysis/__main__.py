"""``python -m analysis [--data DIR] [--out DIR] [--study FILE] [--work DIR] [--only NAME ...]``."""

from __future__ import annotations

import argparse
import sys

from .pipeline import run


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
    p.add_argument("--data", default=None, help="register directory (default: synthetic_data/)")
    p.add_argument("--out", default=None, help="output directory (default: figures/)")
    p.add_argument("--study", default=None, help="study TOML file (default: SPEC defaults)")
    p.add_argument("--work", default=None, help="confidential work area for intermediates")
    p.add_argument("--only", nargs="*", default=None, help="output names or step names to (re)build")
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    return run(data=a.data, out=a.out, study=a.study, quiet=a.quiet, only=a.only, work=a.work)


if __name__ == "__main__":
    sys.exit(main())
