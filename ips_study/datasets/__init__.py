"""Datasets that ship inside the package: the embedded synthetic registers and their truth.

The embedded data are synthetic registers in exactly the format of the confidential files
(the data contract, ``docs/data_contract.md``), made by :mod:`ips_study.synthetic` with a
known IPS effect. They install with the wheel as the data package
``ips_study.datasets.synthetic`` (the ``synthetic_data/`` folder of the repository), so every
loader here works from an installed package far from any checkout.

Example
-------
>>> import ips_study as ips
>>> ips.datasets.registers_dir().joinpath("persons.parquet").is_file()
True
>>> ips.datasets.load_truth()["treated_municipality"]
'1804'
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path

__all__ = ["registers_dir", "load_registers", "load_truth", "load_table"]

#: the register tables of the embedded data, in the order of the data contract
TABLES = ("persons", "residence", "benefits", "employment", "diagnoses", "ips_caseload",
          "specialist_weeks", "municipalities")


def registers_dir() -> Path:
    """The folder that holds the embedded synthetic registers.

    Returns
    -------
    pathlib.Path
        A real directory: the installed data package, or ``synthetic_data/`` in a checkout.

    Example
    -------
    >>> registers_dir().name in ("synthetic", "synthetic_data")
    True
    """
    try:
        root = resources.files("ips_study.datasets.synthetic")
        path = Path(str(root))
        if (path / "persons.parquet").is_file():
            return path
    except ModuleNotFoundError:  # a plain checkout on sys.path without an install
        pass
    checkout = Path(__file__).resolve().parents[2] / "synthetic_data"
    if (checkout / "persons.parquet").is_file():
        return checkout
    raise FileNotFoundError("the embedded synthetic registers are not installed with this copy "
                            "of ips_study (expected the data package ips_study.datasets.synthetic)")


def load_registers(quarantine_dir: str | Path | None = None):
    """Read the embedded synthetic registers through the package's register loader.

    60,000 synthetic persons (everyone aged 18–40 at some time in 2006–2020 in one of 28
    municipalities, Bodø 1804 among them), eight tables, about 620,000 rows, 5 MB of Parquet,
    generated with seed 20130101 by :func:`ips_study.synthetic.generate` and deliberately
    messy like a real delivery (so some rows are merged or quarantined on reading).

    Parameters
    ----------
    quarantine_dir
        Where quarantined rows (which hold person ids) are written. Default: a fresh temporary
        directory, never inside the installed package.

    Returns
    -------
    ips_study.registers.RegisterSet
        Validated tables with the row accounting (``.report``).

    Example
    -------
    >>> regs = load_registers()  # doctest: +SKIP
    >>> len(regs["persons"])  # doctest: +SKIP
    59985
    """
    from ..registers import read_registers

    qdir = quarantine_dir if quarantine_dir is not None else tempfile.mkdtemp(prefix="ips_quarantine_")
    return read_registers(registers_dir(), quarantine_dir=qdir)


def load_table(name: str):
    """One raw table of the embedded data as delivered (no validation), as a DataFrame.

    Example
    -------
    >>> load_table("municipalities").columns.tolist()[:2]
    ['municipality', 'name']
    """
    import pandas as pd

    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; the embedded data has {', '.join(TABLES)}")
    return pd.read_parquet(registers_dir() / f"{name}.parquet")


def load_truth() -> dict:
    """The true effects behind the embedded data (``truth.json``).

    Computed by :mod:`ips_study.synthetic.truth` from the simulated potential outcomes with
    common random numbers: for each outcome the average effect on the treated municipality's
    target group in the post period, and the estimand of each design.

    Example
    -------
    >>> isinstance(load_truth(), dict)
    True
    """
    return json.loads((registers_dir() / "truth.json").read_text(encoding="utf-8"))
