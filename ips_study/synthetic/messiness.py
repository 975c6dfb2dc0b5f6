"""Messiness of real register deliveries, added when the synthetic registers are written.

Real extracts contain exact duplicate spells, overlapping pieces of one spell, open end
dates, FD-Trygd style ``YYYYMM`` months, SSB sex codes (``1``/``2``), rows registered late
(delivered at the end of the file, with a later ``registered_date``) and a few invalid rows
(end before start). Every change here is undone by a correct loader: duplicates and
overlapping pieces merge back into the original spell, ``YYYYMM`` is only used where it is
lossless (monthly benefits: first day to last day of the month), and invalid rows are
copies that the loader quarantines. So ``read_registers(written)`` equals the clean
registers, with ``kept + merged + quarantined = read`` exercised on every table.

Example
-------
>>> MessSpec().duplicate
0.01
>>> MessSpec.none().overlap
0.0
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class MessSpec:
    """Shares of rows affected by each kind of messiness."""

    duplicate: float = 0.01     # spell rows delivered twice
    overlap: float = 0.005      # closed spells delivered as two overlapping pieces
    yyyymm: float = 0.5         # monthly benefit rows written with YYYYMM months
    late: float = 0.01          # rows registered late (moved to the end of the file)
    invalid: float = 0.0005     # extra rows with end before start
    ssb_sex: float = 0.3        # persons with SSB sex codes 1/2

    @classmethod
    def none(cls) -> "MessSpec":
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


SPELL_TABLES = ("residence", "benefits", "employment")


def _iso(x: pd.Series) -> pd.Series:
    return x.dt.strftime("%Y-%m-%d").astype(object).where(x.notna(), None)


def _mess_spells(df: pd.DataFrame, spec: MessSpec, rng: np.random.Generator) -> pd.DataFrame:
    n = len(df)
    parts = [df]
    dup = df[rng.random(n) < spec.duplicate]
    parts.append(dup)
    closed = df["end_date"].notna() & ((df["end_date"] - df["start_date"]).dt.days > 60)
    pick = closed.to_numpy() & (rng.random(n) < spec.overlap)
    if pick.any():
        src = df[pick]
        mid = src["start_date"] + (src["end_date"] - src["start_date"]) / 2
        mid = mid.dt.normalize()
        first = src.assign(end_date=mid + pd.Timedelta(days=15))
        second = src.assign(start_date=mid)
        parts[0] = df[~pick]
        parts += [first, second]
    bad = df[df["end_date"].notna().to_numpy() & (rng.random(n) < spec.invalid)]
    if len(bad):
        parts.append(bad.assign(start_date=bad["end_date"] + pd.Timedelta(days=10)))
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["person_id", "start_date"], kind="stable").reset_index(drop=True)
    lag = rng.integers(5, 40, len(out))
    late = rng.random(len(out)) < spec.late
    lag[late] = rng.integers(120, 800, late.sum())
    out["registered_date"] = out["start_date"] + pd.to_timedelta(lag, unit="D")
    return pd.concat([out[~late], out[late]], ignore_index=True)


def messy_tables(tables: dict[str, pd.DataFrame], spec: MessSpec,
                 rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """Apply ``spec`` to clean typed tables; returns new tables ready to write.

    Date columns stay dates except in ``benefits``, whose dates become strings so that
    ISO dates and ``YYYYMM`` months can be mixed as in FD-Trygd deliveries.
    """
    out = dict(tables)
    for name in SPELL_TABLES:
        if name in tables:
            out[name] = _mess_spells(tables[name], spec, rng)
    b = out["benefits"]
    monthly = b["benefit"].isin(["social_assistance", "qualification"]).to_numpy()
    ym = monthly & (rng.random(len(b)) < spec.yyyymm) & (b["start_date"] <= b["end_date"].fillna(b["start_date"])).to_numpy()
    start, end = _iso(b["start_date"]), _iso(b["end_date"])
    start[ym] = b.loc[ym, "start_date"].dt.strftime("%Y%m")
    has_end = ym & b["end_date"].notna().to_numpy()
    end[has_end] = b.loc[has_end, "end_date"].dt.strftime("%Y%m")
    out["benefits"] = b.assign(start_date=start, end_date=end)
    p = tables["persons"]
    ssb = rng.random(len(p)) < spec.ssb_sex
    out["persons"] = p.assign(sex=np.where(ssb, np.where(p["sex"] == "F", "2", "1"), p["sex"]))
    return out
