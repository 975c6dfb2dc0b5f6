"""The register pipeline's panels as role columns: the adapter behind ``fit_panel``.

The study's person-period panel (data contract, section 5: ``person_id``, ``municipality``, ``period``,
``post``, ``treated``, ``n_persons``, ``event_time``, ``ips_start``) is mapped onto the role
arguments of :func:`ips_study.designs.did.did` and :func:`ips_study.designs.event.event_study`:

* person level: ``unit="person_id"``, ``cluster="municipality"`` (placebos permute
  municipalities), weights only when a column is named;
* municipality level: the aggregate panel, ``unit="municipality"``, weights and unit size
  ``n_persons`` (``weights=False`` switches the weights off but never the size).

The treatment is ``municipality == config.treated_municipality`` and ``post``; other
municipalities that adopted IPS inside the window are dropped (data contract, section 3), and a
municipality marked in the ``treated`` column that is not the design's treated one is an
error rather than a silent control.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> df, roles, extras, notes = register_roles(example_panel(seed=1), outcome="workdays",
...                                          config=StudyConfig())
>>> roles["unit"], roles["cluster"], extras["level"]
('person_id', 'municipality', 'person')
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from .roles import DesignError, MissingColumnError, covariate_frame

LEVELS = ("person", "municipality")
#: column holding the derived treatment indicator of a register panel
TREAT = "_treated_post"


def aggregate(panel: pd.DataFrame, outcome: str, covariates: Sequence[str] = (),
              weights: str | None = None) -> pd.DataFrame:
    """Municipality-period means of the outcome and covariates, with ``n_persons``.

    Used when ``level="municipality"`` is asked for on a person-period panel (the format of
    ``ips_study.panel.aggregate_panel``). ``weights`` (a column) gives weighted means and
    ``n_persons`` as the sum of weights.
    """
    keys = ["municipality", "period"]
    w = np.ones(len(panel)) if weights is None else panel[weights].to_numpy(float)
    cov = covariate_frame(panel, covariates)
    vals = pd.concat([panel[[outcome]].astype(float), cov], axis=1).mul(w, axis=0)
    vals["n_persons"] = w
    for c in ("post", "treated"):
        vals[c] = panel[c].to_numpy() * w if c in panel else 0.0
    g = vals.groupby([panel[k] for k in keys], sort=True).sum()
    n = g.pop("n_persons")
    out = g.div(n, axis=0)
    out["n_persons"] = n
    out = out.reset_index()
    for c in ("post", "treated"):
        out[c] = (out[c] > 0.5).astype(np.int8)
    first = panel.groupby(keys, sort=True).first()
    for c in ("period_start", "event_time", "ips_start"):
        if c in panel:
            out[c] = first[c].to_numpy()
    return out


def period_start(df: pd.DataFrame) -> pd.Series:
    """First day of each row's period (from ``period_start`` or the ``period`` label)."""
    if "period_start" in df:
        return pd.to_datetime(df["period_start"])
    label = df["period"].astype(str)
    return pd.to_datetime(label.where(label.str.len() > 4, label + "-01"), format="%Y-%m")


def aggregation_level(aggregation: str | None, level: str | None) -> str | None:
    """The aggregation level from ``aggregation=`` or its older name ``level=``.

    ``level`` means the confidence level in :func:`ips_study.did`; the register adapters
    accept it for the aggregation only for backward compatibility.
    """
    if aggregation is not None and level is not None and aggregation != level:
        raise DesignError(f"give aggregation= only (got aggregation={aggregation!r} and the "
                          f"older level={level!r})")
    return aggregation if aggregation is not None else level


def _is_label(col: pd.Series, label: str) -> np.ndarray:
    """Rows whose value as text equals ``label``.

    A categorical column compares its categories once and then its integer codes: turning
    20 million categorical values into strings first took most of a TWFE fit's set-up.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        hit = np.flatnonzero(np.asarray(col.cat.categories.astype(str)) == label)
        codes = col.cat.codes.to_numpy()
        return codes == hit[0] if len(hit) == 1 else np.isin(codes, hit)
    return (col.astype(str) == label).to_numpy()


def register_roles(panel: pd.DataFrame, *, outcome: str, config, level: str | None = None,
                   covariates: Sequence[str] = (), weights: str | None | bool = None,
                   drop_other_treated: bool = True
                   ) -> tuple[pd.DataFrame, dict[str, Any], dict[str, Any], list[str]]:
    """The frame, role arguments, extras and notes for a register panel (module docstring).

    ``weights``: a column name, ``None`` (default: ``n_persons`` at municipality level, none
    at person level) or ``False`` (unweighted; the unit size still comes from ``n_persons``).
    """
    if level is None:
        level = "municipality" if ("n_persons" in panel and "person_id" not in panel) else "person"
    if level not in LEVELS:
        raise DesignError(f"level must be one of {LEVELS}, got {level!r}")
    for c in ("municipality", "period", outcome, *covariates):
        if c not in panel:
            raise MissingColumnError(f"panel lacks column {c!r} (outcome, covariates and "
                              "'municipality', 'period' are needed)")
    treated = str(config.treated_municipality)
    df = panel
    notes: list[str] = []
    extras: dict[str, Any] = {"level": level}
    if drop_other_treated and "ips_start" in df:
        other = (df["municipality"].astype(str) != treated) & df["ips_start"].notna() & (
            pd.to_datetime(df["ips_start"]) <= config.window_end)
        if other.any():
            dropped = sorted(df.loc[other, "municipality"].unique().tolist())
            extras["dropped_municipalities"] = dropped
            notes.append(f"dropped {len(dropped)} municipalities that adopted IPS in the window")
            df = df.loc[~other]
    if "treated" in df:
        marked = df.loc[df["treated"].astype(bool), "municipality"].astype(str)
        other = sorted(set(marked) - {treated})
        if other:
            raise DesignError(f"column 'treated' marks {len(other)} municipality(ies) other than "
                              f"the design's treated municipality {treated}: set "
                              "config.treated_municipality, drop them, or call ips.did with "
                              "several treated units")
    ok = np.ones(len(df), dtype=bool)
    for c in (outcome, *covariates):
        ok &= df[c].notna().to_numpy()
    if not ok.all():
        extras["dropped_missing"] = int((~ok).sum())
        df = df.loc[ok]
    aggregated = "n_persons" in df and "person_id" not in df
    if level == "municipality" and not aggregated:
        df = aggregate(df, outcome, covariates, weights if isinstance(weights, str) else None)
        aggregated = True
        base = {"municipality", "period", outcome, "n_persons", "post", "treated",
                "period_start", "event_time", "ips_start"}
        covariates = [c for c in df.columns if c not in base]
    elif level == "person" and aggregated:
        raise DesignError("level='person' needs a person-period panel (person_id column)")
    in_t = _is_label(df["municipality"], treated)
    if not in_t.any():
        raise DesignError(f"treated municipality {treated} has no rows in the panel")
    if "post" in df:
        post = df["post"].to_numpy().astype(bool)
    else:
        post = (period_start(df) >= config.ips_start).to_numpy()
    df = df.copy(deep=False)  # adds one column: the panel's own columns are not copied
    df[TREAT] = (in_t & post).astype(np.int8)
    roles: dict[str, Any] = {"y": outcome, "time": "period", "treat": TREAT,
                             "covariates": list(covariates)}
    if aggregated:
        roles.update(unit="municipality", size="n_persons",
                     weights=None if weights is False else
                     (weights if isinstance(weights, str) and weights in df else "n_persons"))
    else:
        roles.update(unit="person_id", cluster="municipality",
                     weights=weights if isinstance(weights, str) else None)
    return df, roles, extras, notes


def example_panel(n_controls: int = 20, treated_size: int = 60, years=range(2008, 2020),
                  effect: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A small person-year panel in the data-contract format for examples and tests.

    Municipality ``1804`` has ``treated_size`` persons; controls have 20 to 200 persons.
    The outcome ``workdays`` has person and year effects, a municipality-year shock and
    ``effect`` added for the treated from 2013.
    """
    rng = np.random.default_rng(seed)
    sizes = np.r_[treated_size, rng.integers(20, 200, n_controls)]
    codes = ["1804"] + [f"{1805 + j:04d}" for j in range(n_controls)]
    years = np.asarray(list(years))
    rows = []
    pid = 0
    for code, size in zip(codes, sizes):
        shock = rng.normal(0, 3, len(years))
        for _ in range(size):
            a = rng.normal(60, 20)
            y = a + 2 * (years - years[0]) + shock + rng.normal(0, 15, len(years))
            y = y + effect * ((code == "1804") & (years >= 2013))
            rows.append(pd.DataFrame({"person_id": f"p{pid}", "municipality": code,
                                      "period": years.astype(str), "workdays": y}))
            pid += 1
    df = pd.concat(rows, ignore_index=True)
    df["period_start"] = pd.to_datetime(df["period"] + "-01-01")
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = (df["period_start"] >= "2013-01-01").astype(np.int8)
    df["event_time"] = df["period"].astype(int) - 2013
    df["ips_start"] = pd.NaT
    df.loc[df["treated"] == 1, "ips_start"] = pd.Timestamp("2013-01-01")
    df["months_observed"] = 12
    return df


