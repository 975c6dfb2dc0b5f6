"""Staggered adoption: group-time average treatment effects (Callaway & Sant'Anna 2021).

IPS (individual placement and support; *individuell jobbstøtte*) spread from Bodø to other
municipalities in different years, so municipalities are treated at different times and
plain two-way fixed effects regressions compare newly treated units with already treated
ones (see :mod:`ips_study.designs.bacon`). Callaway & Sant'Anna (2021, "Difference-in-
differences with multiple time periods", *Journal of Econometrics* 225(2)) instead estimate
one clean two-group comparison per first-treatment group ``g`` and period ``t``, ATT(g,t),
with never-treated or not-yet-treated comparison units, and aggregate them
(:mod:`ips_study.designs.staggered_aggregate`). The 2x2 estimators are in
:mod:`ips_study.designs.staggered_estimators`.

Conventions follow the R package ``did`` (version 2.x): balanced panel, ``group = 0`` for
never treated, groups treated after the last period are treated as never treated, units
treated in the first period are dropped, ``base_period="varying"`` (pre-periods compare with
the previous period, post-periods with ``g - 1 - anticipation``), doubly robust by default.

Examples
--------
>>> import pandas as pd
>>> from ips_study.designs.staggered import att_gt
>>> df = pd.read_csv("tests/data/mpdta.csv")                    # doctest: +SKIP
>>> gt = att_gt(df, outcome="lemp", unit="countyreal", time="year",
...             group="first.treat")                              # doctest: +SKIP
>>> gt.aggregate("simple").estimate                               # doctest: +SKIP
-0.0399513...
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig
from ips_study.designs.staggered_aggregate import analytic_se
from ips_study.designs.staggered_data import wide_arrays
from ips_study.designs.staggered_estimators import att_2x2, propensity_score
from ips_study.designs.synth_data import aggregate_to_units
from ips_study.inference import check_method
from ips_study.inference.placebo_engine import resolve_seed
from ips_study.results import Results

from .roles import DesignError, check_columns, panel_roles
from .timelabels import period_numbers

CONTROL_GROUPS = ("never_treated", "not_yet_treated")


class GroupTimeResults(Results):
    """ATT(g,t) table with the influence functions needed to aggregate it.

    Rows of :meth:`tidy` are named ``"ATT(g,t)"`` and carry ``group`` and ``time`` columns.
    Use :meth:`aggregate` for the simple, group, dynamic (event-time) and calendar summaries.
    """

    def __init__(self, tidy, *, influence, groups, unit_groups, unit_weights, times,
                 unit_clusters=None, **kwargs):
        super().__init__(tidy, **kwargs)
        self._influence = influence
        self._groups = groups
        self._unit_groups = unit_groups
        self._unit_weights = unit_weights
        self._unit_clusters = unit_clusters
        self._times = times

    @property
    def influence(self) -> np.ndarray:
        """Influence functions (units x cells), scaled to the whole sample."""
        return self._influence.copy()

    def aggregate(self, kind: str = "simple", *, bootstrap: bool = False,
                  n_boot: int = 999, seed: int | None = None, level: float = 0.95,
                  balance_e: int | None = None):
        """Aggregate ATT(g,t): ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.

        See :func:`ips_study.designs.staggered_aggregate.aggregate`.
        """
        from ips_study.designs.staggered_aggregate import aggregate
        return aggregate(self, kind, bootstrap=bootstrap, n_boot=n_boot, seed=seed,
                         level=level, balance_e=balance_e)

    def plot(self, ax=None, **kwargs):
        """ATT(g,t) by period, one line per group, with pointwise intervals; returns Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self._tidy
        for g, sub in t.groupby("group"):
            ax.errorbar(sub["time"], sub["estimate"],
                        yerr=[sub["estimate"] - sub["conf_low"], sub["conf_high"] - sub["estimate"]],
                        fmt="o-", capsize=2, label=f"group {g}", **kwargs)
            ax.axvline(g - 0.5, color="0.7", lw=0.6, ls=":")
        ax.axhline(0, color="0.5", lw=0.8)
        ax.set_xlabel("Period")
        ax.set_ylabel("ATT(g,t)")
        ax.legend(fontsize="small")
        ax.set_title(f"Group-time effects: {self.outcome}")
        return ax


def _roles(data, y, outcome, unit, time, treat, group):
    """Outcome and group columns from the role arguments (``treat`` -> adoption group)."""
    if y is not None and outcome is not None and y != outcome:
        raise DesignError(f"att_gt: give y= only (got y={y!r} and outcome={outcome!r})")
    y = y if y is not None else outcome
    if y is None:
        raise DesignError("att_gt: y= (the outcome column) is required")
    if (treat is None) == (group is None):
        raise DesignError("att_gt: give exactly one of treat= (absorbing 0/1 column) and "
                          "group= (first treated period)")
    if treat is None:
        check_columns(data, {"y": y, "unit": unit, "time": time, "group": group})
        for arg, c in (("time", time), ("group", group)):
            dt = data[c].dtype
            if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
                raise DesignError(f"att_gt: {arg}={c!r} must hold integer periods (years or "
                                  f"month counters; group: the first treated one), got dtype {dt}")
        return data, y, group
    rp = panel_roles(data, y=y, unit=unit, time=time, treat=treat, require_pre=False,
                     require_controls=False, can_drop=False)
    labels = pd.Series(rp.time_labels)
    df = rp.df
    if not pd.api.types.is_integer_dtype(labels):
        labels = pd.Series(_integer_periods(rp.time_labels, df[time], time))
        df = df.assign(**{time: labels.to_numpy()[rp.time]})
    first = np.zeros(len(rp.unit_labels))
    first[rp.treated] = labels.to_numpy()[rp.adoption]
    return df.assign(_adoption_group=first[rp.unit]), y, "_adoption_group"


def _integer_periods(labels: np.ndarray, col: pd.Series, time: str) -> np.ndarray:
    """Integer periods for ATT(g,t) from the labels :func:`ips_study.did` and
    :func:`ips_study.event_study` accept (integers as text, dates, ``datetime.date``,
    pandas Periods, year-months, quarters), counted the same way (:mod:`.timelabels`): one
    step per period. Labels one per calendar year (year-end or New Year dates, annual
    Periods) become the calendar years, as an integer-year panel gives; others keep their
    count (text year-months ``year*12 + month - 1``, quarters ``year*4 + quarter - 1``,
    dates and monthly Periods their months or ordinals)."""
    numbers = period_numbers(labels, col, time)
    if numbers is None:
        raise DesignError(f"att_gt: time={time!r} must hold periods that can be counted "
                          "(integers, dates, pandas Periods, year-months, quarters); "
                          "non-integer numbers count no periods")
    numbers = np.asarray(numbers, dtype=np.int64)
    try:
        stamps = pd.DatetimeIndex([v.to_timestamp() if isinstance(v, pd.Period)
                                   else pd.Timestamp(v) for v in labels])
    except (TypeError, ValueError):
        return numbers                          # text quarters, ordered categoricals, ...
    if isinstance(labels[0], str):
        return numbers                          # text year-months keep year*12 + month - 1
    years = np.asarray(stamps.year, dtype=np.int64)
    if np.array_equal(numbers - numbers[0], years - years[0]):
        return years
    return numbers


def att_gt(data: pd.DataFrame, *, y: str | None = None, unit: str, time: str,
           treat: str | None = None, group: str | None = None,
           covariates: Sequence[str] = (), control_group: str = "never_treated",
           method: str = "dr", base_period: str = "varying", anticipation: int = 0,
           weights: str | None = None, cluster: str | None = None,
           level: float = 0.95, outcome: str | None = None) -> GroupTimeResults:
    """Group-time average treatment effects ATT(g,t) on a long balanced panel.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period.
    y, unit, time : str
        Outcome, unit and period columns (roles as :func:`ips_study.did`). With ``treat``,
        ``time`` may hold whatever ``did``/``event_study`` count: integers (also as text),
        dates, ``datetime.date`` objects, pandas Periods, year-months, quarters; one date or
        Period per calendar year gives calendar years in ``group``/``time``, others their
        period count (:func:`_integer_periods`). With ``group``, integer periods in the
        group column's units. ``outcome`` is the older spelling of ``y``.
    treat : str
        Absorbing 0/1 treatment column; each unit's adoption group is its first period with
        ``treat == 1`` (never treated: group 0).
    group : str
        Instead of ``treat``: a column with the first treated period (0 or NaN = never
        treated), as R ``did``'s ``gname``.
    covariates : sequence of str
        Covariates, taken at the base period of each comparison.
    control_group : {"never_treated", "not_yet_treated"}
    method : {"dr", "ipw", "reg"}
        Doubly robust (Sant'Anna & Zhao 2020), inverse probability weighting or outcome
        regression.
    base_period : {"varying", "universal"}
    anticipation : int
        Periods of anticipation before treatment.
    weights : str, optional
        Column of unit sampling weights (constant within unit).
    cluster : str, optional
        Column of clusters containing units (e.g. municipality for a person panel); standard
        errors then sum influence functions within clusters, and the bootstrap draws one
        multiplier per cluster.

    Returns
    -------
    GroupTimeResults
        Analytic standard errors from the influence functions; aggregate with
        :meth:`GroupTimeResults.aggregate`.
    """
    data, outcome, group = _roles(data, y, outcome, unit, time, treat, group)
    if control_group not in CONTROL_GROUPS:
        raise ValueError(f"control_group must be one of {CONTROL_GROUPS}")
    if base_period not in ("varying", "universal"):
        raise ValueError("base_period must be 'varying' or 'universal'")
    units, times, y, g, x, w, cl = wide_arrays(data, outcome, unit, time, group, covariates, weights,
                                         cluster)
    g = np.nan_to_num(g, nan=0.0)
    # did convention: treated after the panel ends = never treated within the panel
    g[g > times.max() + anticipation] = 0
    first = g > 0
    early = first & (g <= times.min() + anticipation)
    if early.any():
        warnings.warn(f"dropped {int(early.sum())} units already treated in the first period",
                      stacklevel=2)
        keep = ~early
        units, y, g, x, w = units[keep], y[keep], g[keep], x[keep], w[keep]
        cl = None if cl is None else cl[keep]
    if control_group == "never_treated" and not (g == 0).any():
        raise ValueError("no never-treated units; use control_group='not_yet_treated'")
    w = w / w.mean()
    n = len(g)
    # with time-invariant covariates the propensity score depends only on the units compared
    static_x = bool(np.all(x == x[:, :1, :]))
    ps_cache: dict = {}
    glist = np.sort(np.unique(g[g > 0]))
    small = [_fmt(gg) for gg in glist
             if len(np.unique(cl[g == gg] if cl is not None else np.flatnonzero(g == gg))) < 2]
    if small:
        warnings.warn(f"group(s) {', '.join(small)} have a single unit (or cluster): the analytic "
                      "standard error then omits its own variance and is too small; use the "
                      "synth or sdid design for a single treated unit", stacklevel=2)
    rows, infs = [], []
    for gg in glist:
        base_univ = np.flatnonzero(times + anticipation < gg)
        if len(base_univ) == 0:
            continue
        base_univ = base_univ[-1]
        t_range = range(len(times)) if base_period == "universal" else range(1, len(times))
        for ti in t_range:
            post = times[ti] >= gg - anticipation
            pre_i = base_univ if (post or base_period == "universal") else ti - 1
            if ti == pre_i:
                rows.append((gg, times[ti], 0.0, np.nan))
                infs.append(np.zeros(n))
                continue
            if control_group == "never_treated":
                ctrl = g == 0
                key = (gg, None if static_x else pre_i)
            else:
                horizon = max(times[ti], times[pre_i]) + anticipation
                ctrl = ((g == 0) | (g > horizon)) & (g != gg)
                key = (gg, horizon, None if static_x else pre_i)
            sel = (g == gg) | ctrl
            if not ctrl.any():
                continue
            dy = y[sel, ti] - y[sel, pre_i]
            xs = np.column_stack([np.ones(sel.sum()), x[sel, pre_i, :]])
            d = (g[sel] == gg).astype(float)
            ps = None
            if covariates and method != "reg":
                if key not in ps_cache:
                    ps_cache[key] = propensity_score(d, xs, w[sel])
                ps = ps_cache[key]
            att, psi = att_2x2(dy, d, xs, w[sel], method=method, propensity=ps)
            inf = np.zeros(n)
            inf[sel] = psi * (n / sel.sum())
            rows.append((gg, times[ti], att, np.nan))
            infs.append(inf)
    infl = np.column_stack(infs)
    se = analytic_se(infl, cl)
    tidy = pd.DataFrame(rows, columns=["group", "time", "estimate", "std_error"])
    tidy["std_error"] = np.where(se > 0, se, np.nan)
    tidy.index = [f"ATT({_fmt(a)},{_fmt(b)})" for a, b in zip(tidy["group"], tidy["time"])]
    tidy = tidy[["estimate", "std_error", "group", "time"]]
    return GroupTimeResults(
        tidy, influence=infl, groups=glist, unit_groups=g, unit_weights=w, times=times,
        unit_clusters=cl,
        design="staggered", outcome=outcome, inference="analytic (influence function)",
        n_obs=n * len(times), n_units=n, level=level,
        extras={"control_group": control_group, "method": method, "cluster": cluster,
                "base_period": base_period, "anticipation": anticipation},
        notes=(f"Callaway-Sant'Anna ATT(g,t), {method} estimator, {control_group} comparison "
               f"units, {base_period} base period.",))


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _time_index(period: pd.Series) -> pd.Series:
    """Calendar years for year panels; consecutive numbers from 1 for month panels."""
    periods = np.sort(period.unique())
    if all(len(str(p)) == 4 for p in periods):
        return period.astype(int)
    return pd.Series(np.searchsorted(periods, period) + 1, index=period.index)


def _first_exposed(frame: pd.DataFrame, config: StudyConfig) -> pd.Series:
    """First ``time`` with IPS per municipality: the period that contains its ``ips_start``.

    A municipality starting mid-period (Tromsø 2014-09 in a year panel) belongs to the group
    of that period, so that its base period ``g - 1`` is free of IPS; grouping by the panel's
    ``exposed`` (IPS at the period's *start*) would put months of effect into the base period
    and count a late-in-window starter as never treated. Without ``ips_start`` the ``exposed``
    column is used, else the treated municipality from ``config``.
    """
    if "ips_start" in frame and "period_start" in frame:
        freq = "Y" if all(len(str(p)) == 4 for p in frame["period"].unique()) else "M"
        start = pd.to_datetime(frame["ips_start"])
        period = pd.to_datetime(frame["period_start"]).dt.to_period(freq)
        exposed = start.notna() & (start.dt.to_period(freq) <= period)
    elif "exposed" in frame:
        exposed = frame["exposed"] > 0
    else:
        start = pd.to_datetime(frame["period_start"])
        exposed = (frame["municipality"] == config.treated_municipality) & (start >= config.ips_start)
    return frame.loc[exposed].groupby("municipality")["time"].min()


def staggered_frame(panel: pd.DataFrame, outcome: str, config: StudyConfig) -> pd.DataFrame:
    """Municipality x period frame with ``time`` and first-treated ``group`` (0 = never)."""
    units = aggregate_to_units(panel, outcome)
    units["time"] = _time_index(units["period"])
    first = _first_exposed(units, config)
    units["group"] = units["municipality"].map(first).fillna(0).astype(int)
    units["population"] = units.groupby("municipality")["n_persons"].transform("mean")
    return units


def person_frame(panel: pd.DataFrame, outcome: str, config: StudyConfig) -> pd.DataFrame:
    """Person x period frame; group and cluster from the person's first (baseline) municipality.

    Treatment is assigned by baseline municipality (intention to treat), so moving does not
    change a person's group; ``female`` is added as a 0/1 covariate.
    """
    cols = ["person_id", "municipality", "period", outcome]
    cols += [c for c in ("period_start", "ips_start", "exposed", "age") if c in panel]
    frame = panel[cols + (["sex"] if "sex" in panel else [])].copy()
    frame["time"] = _time_index(frame["period"])
    first = _first_exposed(frame, config)
    frame = frame.sort_values(["person_id", "time"])
    baseline = frame.groupby("person_id")["municipality"].transform("first")
    frame["baseline_municipality"] = baseline
    frame["group"] = baseline.map(first).fillna(0).astype(int)
    if "sex" in frame:
        frame["female"] = (frame["sex"] == "F").astype(float)
    return frame


def fit_panel(panel: pd.DataFrame, *, outcome: str, config: StudyConfig,
              inference: str | None = None, **options) -> "AggregateResults":
    """Callaway-Sant'Anna design on a person-period panel.

    By default every municipality is a unit (municipality x period means, weighted by mean
    population at risk) and its group is the period that contains its IPS start (a mid-year
    start puts the whole start year in the group, so the base period g-1 is untreated). With
    ``level="person"`` persons are the units (balanced persons only; a closed cohort keeps
    most), grouped by baseline municipality, with person covariates (``covariates=["age",
    "female"]``) and standard errors clustered by baseline municipality. The headline
    estimate is the ``aggregation`` (default ``"simple"``) of ATT(g,t); the event-time table
    comes from the dynamic aggregation.

    Parameters
    ----------
    inference : {None, "analytic", "bootstrap", "placebo"}
        Analytic influence-function SEs (default), multiplier bootstrap with uniform bands, or
        placebo in space: the adoption pattern moved to never-treated municipalities, rank
        p-values and inverted intervals (:mod:`ips_study.designs.staggered_placebo`; valid
        with one municipality per group, where the analytic SE is too small).
    **options
        ``level`` ("municipality" or "person"), ``control_group`` ("never_treated"),
        ``method`` ("dr"), ``covariates``, ``aggregation``, ``weight_by_population``
        (municipality level, default True), ``n_boot``, ``seed`` (default ``config.seed``),
        ``n_draws`` (placebo assignments when not all are used, default 999).

    Examples
    --------
    >>> res = fit_panel(panel, outcome="workdays", config=StudyConfig())   # doctest: +SKIP
    >>> res.event_time()                                                   # doctest: +SKIP
    """
    inference = check_method("att_gt", inference)
    from ips_study.designs.staggered_aggregate import AggregateResults

    level = options.pop("level", "municipality")
    aggregation = options.pop("aggregation", "simple")
    weighted = options.pop("weight_by_population", True)
    bootstrap = inference == "bootstrap"
    n_boot = options.pop("n_boot", 999)
    seed = resolve_seed(options.pop("seed", None), config)
    n_draws = options.pop("n_draws", 999)
    if level == "municipality":
        frame = staggered_frame(panel, outcome, config)
        spec = dict(unit="municipality", weights="population" if weighted else None, cluster=None)
    elif level == "person":
        frame = person_frame(panel, outcome, config)
        spec = dict(unit="person_id", weights=None, cluster="baseline_municipality")
    else:
        raise ValueError("level must be 'municipality' or 'person'")

    def fit(data):
        return att_gt(data, outcome=outcome, time="time", group="group", **spec, **options)

    gt = fit(frame)
    main = gt.aggregate(aggregation, bootstrap=bootstrap, n_boot=n_boot, seed=seed)
    dyn = gt.aggregate("dynamic", bootstrap=bootstrap, n_boot=n_boot, seed=seed)
    res = AggregateResults(
        main.tidy(), design="staggered", outcome=outcome, inference=main.inference,
        n_obs=len(panel), n_units=gt.n_units, main_term="ATT", event_time=dyn.event_time(),
        extras={**main.extras, "level": level,
                "att_gt": gt.tidy()[["estimate", "std_error", "group", "time"]]
                .reset_index().to_dict(orient="records")},
        notes=main.notes + ("Event-time rows from the dynamic aggregation.",))
    if inference == "placebo":
        from ips_study.designs.staggered_placebo import with_placebo

        return with_placebo(res, frame, outcome=outcome, unit=spec["unit"], time="time",
                            cluster=spec["cluster"] or "municipality", weights=spec["weights"],
                            aggregation=aggregation, fit=fit, att_options=options,
                            n_draws=n_draws, seed=seed)
    return res
