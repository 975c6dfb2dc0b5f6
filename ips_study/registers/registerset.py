"""The typed register set: the tables read and validated from one delivery.

Its own module so that the reader (:mod:`ips_study.registers.validate`) and the package
namespace can both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass
class RegisterSet:
    """Typed register tables keyed by table name (see :mod:`ips_study.registers.schema`).

    Conventions of the typed tables: ids and codes are ``str`` (municipality codes keep
    their leading zero), dates are ``datetime64[ns]`` with ``NaT`` for an empty (open) end,
    numeric columns are float64, integer columns (``employer_meetings``, ``centrality``)
    int64. Optional tables that were not delivered are absent from ``tables``.

    >>> rs = RegisterSet({"persons": pd.DataFrame({"person_id": ["a"]})})
    >>> rs["persons"].shape, "benefits" in rs
    ((1, 1), False)
    """

    tables: dict[str, pd.DataFrame]
    report: Any = None  # ValidationReport, when read from files
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        try:
            return self.tables[name]
        except KeyError:
            raise KeyError(f"register table {name!r} is not in this register set") from None

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def get(self, name: str, default: pd.DataFrame | None = None) -> pd.DataFrame | None:
        return self.tables.get(name, default)

    def __getattr__(self, name: str) -> pd.DataFrame:
        tables = self.__dict__.get("tables", {})
        if name in tables:
            return tables[name]
        raise AttributeError(name)


def subset_registers(registers, ids: set[str]):
    """The registers of the people in ``ids`` only (tables without ``person_id`` kept whole).

    Used to build a panel of one group of people (e.g. a municipality's cohort) in the
    factual and the counterfactual world without building the whole population's panel.
    Source and metadata are kept; rows keep their order and index.

    Parameters
    ----------
    registers : RegisterSet
        Typed register tables (:class:`ips_study.registers.RegisterSet`).
    ids : set of str
        Person ids to keep.

    Returns
    -------
    RegisterSet

    Examples
    --------
    >>> import pandas as pd
    >>> from ips_study.registers import RegisterSet
    >>> rs = RegisterSet({"persons": pd.DataFrame({"person_id": ["a", "b"], "sex": ["F", "M"]})},
    ...                  source="demo")
    >>> subset_registers(rs, {"b"}).tables["persons"]["sex"].tolist()
    ['M']
    """
    tables = {}
    for name, df in registers.tables.items():
        tables[name] = df[df["person_id"].isin(ids)] if "person_id" in df.columns else df
    return RegisterSet(tables, source=registers.source, meta=registers.meta)
