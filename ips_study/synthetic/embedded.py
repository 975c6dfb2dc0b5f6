"""The embedded default data in ``synthetic_data/``: where it is and how it is rebuilt.

``python -m ips_study.synthetic.embedded`` (or ``make synthetic``) regenerates the committed
directory byte for byte: 60,000 persons, seed 20130101, default :class:`Effects`, default
:class:`MessSpec`, Parquet with pinned writer options. :func:`load_default` reads it through
the package's register loader, like any real delivery.

Example
-------
>>> embedded_dir().name
'synthetic_data'
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from .generate import DEFAULT_N_PERSONS, DEFAULT_SEED, generate

#: written by :func:`build` next to the data; the codebook README is maintained by hand
CHECKSUMS = "SHA256SUMS"


def embedded_dir() -> Path:
    """The embedded data folder: ``synthetic_data/`` in a checkout, the data package when installed."""
    from ..datasets import registers_dir

    return registers_dir()


def checksums(directory: Path) -> str:
    """``sha256  name`` lines for every data file in ``directory`` (sorted by name)."""
    lines = []
    for p in sorted(directory.iterdir()):
        if p.suffix in (".parquet", ".csv", ".json"):
            lines.append(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}")
    return "\n".join(lines) + "\n"


def build(out_dir: str | Path | None = None, *, progress: bool = True) -> Path:
    """Regenerate the embedded default data (every table, ``truth.json``, ``SHA256SUMS``)."""
    out = embedded_dir() if out_dir is None else Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = generate(DEFAULT_N_PERSONS, seed=DEFAULT_SEED, progress=progress)
    data.write(out, format="parquet", messy=True)
    (out / CHECKSUMS).write_text(checksums(out), encoding="utf-8")
    return out


def load_default(quarantine_dir: str | Path | None = None):
    """Read the embedded data with :func:`ips_study.registers.read_registers`.

    Quarantined rows go to ``quarantine_dir`` (default: a fresh temporary directory), never
    into the committed data directory.
    """
    import tempfile

    from ..registers.validate import read_registers
    qdir = quarantine_dir if quarantine_dir is not None else tempfile.mkdtemp(prefix="ips_quarantine_")
    return read_registers(embedded_dir(), quarantine_dir=qdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ips_study.synthetic.embedded",
                                     description="Regenerate the embedded synthetic registers.")
    parser.add_argument("--out", default=None, help="output directory (default: synthetic_data/)")
    parser.add_argument("--check", action="store_true",
                        help="regenerate into a temporary directory and compare with SHA256SUMS")
    args = parser.parse_args(argv)
    if args.check:
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            new = checksums(build(tmp, progress=False))
        old = (embedded_dir() / CHECKSUMS).read_text(encoding="utf-8")
        print("identical" if new == old else "DIFFERENT")
        return 0 if new == old else 1
    out = build(args.out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
