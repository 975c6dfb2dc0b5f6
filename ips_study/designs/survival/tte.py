"""Time-to-event data in counting-process form from a person-month panel.

Events follow data contract, section 4, counted from each person's index date: the baseline date
(``config.baseline_date``) in a closed cohort (earlier panel months are dropped), the first
panel month in the open population:

* **onset of long-term benefit dependence** (event 1): the first month on disability pension
  (uføretrygd) or the month that completes ``config.onset_months`` (12) consecutive months
  with a health-related benefit;
* **sustained work** (competing event 2): the month that completes
  ``config.sustained_work_months`` (6) consecutive months employed without a health-related
  benefit;
* **censoring**: the person's last panel month (death, emigration, leaving the study area or
  the end of the window). A gap in a person's months breaks every run and the months in the
  gap are not at risk.

Month ``k`` on the analysis time scale is the interval ``(k, k+1]``; an event in that month
has ``stop = k + 1``. Two time scales:

* ``"index"`` (default for closed cohorts): months since the person's index date, everyone
  enters at 0;
* ``"calendar"`` (default for the open population): months since ``config.window_start``;
  a person enters at their first panel month (delayed entry / left truncation), so risk sets
  compare people in the same calendar month, the natural scale for a policy that starts at a
  calendar date.

Consecutive months with the same covariates are collapsed into one episode ``(start, stop]``.
Covariates: ``exposed`` (the person's *current* municipality runs IPS in that month; changes at
IPS start and at moves), ``treated`` (index municipality is the treated one, fixed),
``age_band`` and ``calendar_year`` (time-varying), ``female`` (fixed). Clusters are index
municipalities, so every person belongs to one cluster.

Examples
--------
>>> import pandas as pd
>>> from ips_study.config import StudyConfig
>>> months = pd.period_range("2012-01", periods=14, freq="M")
>>> panel = pd.DataFrame({"person_id": "a", "municipality": "1804", "period": months.strftime("%Y-%m"),
...     "period_start": months.to_timestamp(), "exposed": [0] * 12 + [1, 1], "treated": 1,
...     "age": 30, "sex": "F", "disability": 0.0, "health_benefit": 1.0, "employed": 0.0})
>>> tte = build_tte(panel, StudyConfig(design="closed"))
>>> tte[["start", "stop", "event", "exposed"]].values.tolist()
[[0, 12, 1, 0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...config import StudyConfig

#: event codes in the ``event`` column
EVENTS = {"censored": 0, "ltbd_onset": 1, "sustained_work": 2}
#: default age bands (lower bounds) for the time-varying age covariate
AGE_BREAKS = (18, 25, 30, 35)
REQUIRED = ("person_id", "municipality", "period", "period_start", "exposed", "age", "sex",
            "disability", "health_benefit", "employed")


class PanelFrequencyError(ValueError):
    """The survival designs need a month panel."""


def check_month_panel(panel: pd.DataFrame) -> None:
    """Raise a clear error unless ``panel`` is a person-month panel with the needed columns."""
    missing = [c for c in REQUIRED if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks column(s) needed for survival designs: {', '.join(missing)}")
    if len(panel) and not str(panel["period"].iloc[0]).count("-") == 1:
        raise PanelFrequencyError(
            "survival designs need a MONTH panel (period 'YYYY-MM'), got periods like "
            f"{panel['period'].iloc[0]!r}; build it with `ips-study panel --freq month`")


def run_lengths(flag: np.ndarray, breaks: np.ndarray) -> np.ndarray:
    """Length of the current run of ``flag`` at each position (0 where ``flag`` is False).

    Counts consecutive True values of ``flag`` up to and including each position; a
    position where ``breaks`` is True starts a new run (a new person, or a gap in a
    person's months). Vectorised (cumulative sums, no loop), used for the 12-month benefit
    runs of onset and the 6-month work runs of sustained work (data contract, section 4).

    Parameters
    ----------
    flag : ndarray of bool
        The state per row (rows sorted by person and month).
    breaks : ndarray of bool
        True where a run must restart (first row of a person, after a gap).

    Returns
    -------
    ndarray of int64

    Examples
    --------
    >>> f = np.array([True, True, False, True, True, True])
    >>> b = np.array([True, False, False, False, True, False])
    >>> run_lengths(f, b).tolist()
    [1, 2, 0, 1, 1, 2]
    """
    flag = np.asarray(flag, dtype=bool)
    if len(flag) == 0:        # no rows (e.g. a small cohort with nobody in it): no runs
        return np.zeros(0, dtype=np.int64)
    seg = np.cumsum(breaks | ~flag)
    c = np.cumsum(flag.astype(np.int64))
    first = np.r_[0, np.flatnonzero(np.diff(seg)) + 1]
    base = np.zeros(len(flag), dtype=np.int64)
    base[first] = c[first] - flag[first]
    base = np.maximum.accumulate(base)
    return np.where(flag, c - base, 0)


def _ips_by_municipality(panel: pd.DataFrame, config: StudyConfig) -> pd.Series:
    """IPS start per municipality code, learnt from the panel (treated one from config)."""
    s = panel.groupby("municipality", observed=True)["ips_start"].first() \
        if "ips_start" in panel else pd.Series(dtype="datetime64[ns]")
    s = pd.to_datetime(s)
    s.loc[config.treated_municipality] = config.ips_start
    return s


def build_tte(panel: pd.DataFrame, config: StudyConfig | None = None, *,
              time_scale: str | None = None, exposure: str = "current",
              age_breaks=AGE_BREAKS, exclude_prevalent: bool = True) -> pd.DataFrame:
    """Episodes ``(start, stop]`` with event codes and time-varying covariates.

    Parameters
    ----------
    panel : DataFrame
        Person-month panel (:func:`ips_study.panel.build_panel` with ``freq="month"``).
    config : StudyConfig
        Uses ``onset_months``, ``sustained_work_months``, ``treated_municipality``,
        ``ips_start``, ``window_start`` and ``design`` (for the default time scale).
    time_scale : {"index", "calendar"}, optional
        See module docstring; default ``"index"`` for closed cohorts, ``"calendar"`` for the
        open population.
    exposure : {"current", "baseline"}
        ``"current"``: exposed when the municipality of residence that month has IPS (as
        treated, changes at moves; uses ``current_municipality`` of closed-cohort panels);
        ``"baseline"``: the panel's ``exposed`` column (intention to treat by the panel's
        municipality).
    age_breaks : sequence of int
        Lower bounds of the age bands.
    exclude_prevalent : bool
        Drop persons on disability pension in their index month (not at risk).

    Returns
    -------
    DataFrame
        One row per episode: ``person_id``, ``start``, ``stop`` (int months), ``event`` (0
        censored, 1 onset, 2 sustained work, only on a person's last episode), ``exposed``,
        ``treated``, ``female``, ``age_band``, ``calendar_year``, ``municipality`` (current),
        ``cluster`` (index municipality), ``entry``, ``origin_month`` (calendar month of
        analysis time 0, as months since year 0), ``era`` ("pre"/"post" index date
        relative to ``config.ips_start``), ``group`` (``"treated"``/``"control"``).
    """
    config = config or StudyConfig(design="closed")
    check_month_panel(panel)
    time_scale = time_scale or ("index" if config.design == "closed" else "calendar")
    if time_scale not in ("index", "calendar"):
        raise ValueError("time_scale must be 'index' or 'calendar'")
    df = panel
    if config.design == "closed":
        # closed-cohort panels cover the whole window; follow-up starts at the baseline date
        df = df[pd.to_datetime(df["period_start"]) >= config.baseline_date]
    if df.empty:
        # e.g. a small synthetic set whose cohort is empty: nobody to follow
        raise ValueError("the panel has no person-months to follow (from the baseline date "
                         "on, for a closed cohort): no survival episodes can be built")
    df = df.sort_values(["person_id", "period_start"], kind="stable").reset_index(drop=True)
    pid = df["person_id"].to_numpy()
    ps = pd.to_datetime(df["period_start"])
    mon = (ps.dt.year * 12 + ps.dt.month - 1).to_numpy(np.int64)
    new_person = np.r_[True, pid[1:] != pid[:-1]]
    gap = new_person | np.r_[True, np.diff(mon) != 1]

    hb = df["health_benefit"].to_numpy() > 0
    dis = df["disability"].to_numpy() > 0
    work = (df["employed"].to_numpy() > 0) & ~hb
    onset = dis | (run_lengths(hb, gap) >= config.onset_months)
    comp = run_lengths(work, gap) >= config.sustained_work_months

    # per person: position of first event (onset has priority within a month)
    person = np.cumsum(new_person) - 1
    first_row = np.flatnonzero(new_person)
    n_rows = len(df)
    row = np.arange(n_rows)
    big = n_rows + 1
    ev_row = np.full(len(first_row), big)
    np.minimum.at(ev_row, person[onset | comp], row[onset | comp])
    keep = row <= ev_row[person]
    code = np.where(onset, 1, np.where(comp, 2, 0))
    if exclude_prevalent:
        prevalent = dis[first_row]
        keep &= ~prevalent[person]

    cur = df["current_municipality"] if (exposure == "current" and
                                          "current_municipality" in df) else df["municipality"]
    cur = cur.astype(str).to_numpy()
    if exposure == "current":
        ips = _ips_by_municipality(df, config)
        start_cur = pd.to_datetime(pd.Series(cur).map(ips)).to_numpy()
        exposed = (~np.isnat(start_cur) & (start_cur <= ps.to_numpy())).astype(np.int8)
    elif exposure == "baseline":
        exposed = df["exposed"].to_numpy().astype(np.int8)
    else:
        raise ValueError("exposure must be 'current' or 'baseline'")
    index_muni = df["municipality"].astype(str).to_numpy()[first_row][person]
    entry_mon = mon[first_row][person]
    origin = entry_mon if time_scale == "index" else (
        config.window_start.year * 12 + config.window_start.month - 1)
    k = mon - origin
    labels = ([f"<{age_breaks[0]}"] + [f"{a}-{b - 1}" for a, b in zip(age_breaks[:-1], age_breaks[1:])]
              + [f"{age_breaks[-1]}+"])
    age_band = pd.cut(df["age"].to_numpy(), [-np.inf] + list(age_breaks) + [np.inf], right=False,
                      labels=labels)
    cols = {
        "exposed": exposed,
        "municipality": cur,
        "age_band": np.asarray(age_band.astype(str)),
        "calendar_year": ps.dt.year.to_numpy(),
    }
    # collapse runs of identical covariates within contiguous months into episodes
    sel = np.flatnonzero(keep)
    brk = gap[sel] | np.r_[True, np.diff(sel) != 1]
    for v in cols.values():
        vv = v[sel]
        brk |= np.r_[True, vv[1:] != vv[:-1]]
    # an event row always closes its episode
    is_event_row = sel == ev_row[person[sel]]
    first = np.flatnonzero(brk)
    last = np.r_[first[1:] - 1, len(sel) - 1]
    r0, r1 = sel[first], sel[last]
    out = pd.DataFrame({
        "person_id": pid[r0],
        "start": k[r0],
        "stop": k[r1] + 1,
        "event": np.where(is_event_row[last], code[r1], 0).astype(np.int8),
        "exposed": exposed[r0],
        "treated": (index_muni[r0] == config.treated_municipality).astype(np.int8),
        "female": (df["sex"].to_numpy()[r0] == "F").astype(np.int8),
        "age_band": cols["age_band"][r0],
        "calendar_year": cols["calendar_year"][r0],
        "municipality": cur[r0],
        "cluster": index_muni[r0],
        "entry": (entry_mon - origin)[r0],
        "origin_month": (np.broadcast_to(origin, entry_mon.shape))[r0],
        "era": np.where(entry_mon[r0] >= config.ips_start.year * 12 + config.ips_start.month - 1,
                        "post", "pre"),
    })
    out["group"] = np.where(out["treated"] == 1, "treated", "control")
    return out


def person_level(tte: pd.DataFrame) -> pd.DataFrame:
    """One row per person: ``entry``, ``time`` (last stop), ``status`` (0/1/2) and fixed groups."""
    g = tte.groupby("person_id", sort=False)
    out = g.agg(entry=("start", "min"), time=("stop", "max"), status=("event", "last"),
                treated=("treated", "first"), female=("female", "first"), era=("era", "first"),
                group=("group", "first"), cluster=("cluster", "first"))
    return out.reset_index(drop=True)
