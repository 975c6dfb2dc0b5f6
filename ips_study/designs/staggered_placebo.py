"""Placebo-in-space inference for the staggered-adoption (Callaway-Sant'Anna) design.

With one municipality (kommune) per adoption group, the analytic influence-function standard
errors of :mod:`ips_study.designs.staggered` treat each adopting municipality's outcome path
as fixed and so omit its own municipality-level noise (MacKinnon & Webb 2017; Conley & Taber
2011). Placebo in space (Abadie, Diamond & Hainmueller 2010) measures that noise from the
never-treated municipalities instead.

Scheme (one placebo draw):

1. the *adoption pattern* of the fit is the list of first-treated groups of the adopting
   municipalities (one entry per municipality, e.g. 2013, 2014, ..., 2019 on the synthetic
   data; Bodø's IPS start is in January 2013, *individuell jobbstøtte*);
2. the pattern is given to G distinct never-treated municipalities (G = number of adopters):
   municipality ``a_k`` of the draw becomes first treated in the k-th group;
3. the real adopters are dropped (their effects cannot leak into the placebo fits) and the
   design is re-run unchanged (same aggregation, estimator, control group, base period and
   weights) on the never-treated municipalities: the J - G not drawn are the comparisons;
4. every reported term (overall effect, each component, each event time) of the placebo fit
   is one null draw of that term.

Draw set: if the number of distinct assignments, ``J! / ((J - G)! prod n_g!)`` with ``n_g``
adopters in group g, is at most ``n_draws`` they are all used (deterministic; with one
adopter every control in turn, exactly the DiD placebo of :mod:`ips_study.inference.randomization`);
otherwise ``n_draws`` assignments are drawn uniformly at random with ``seed``. The p-value is
the rank ``(1 + #{|b_j| >= |b|}) / (B + 1)`` and the interval ``b +/- h`` inverts that test under
a constant additive effect (:func:`ips_study.inference.rank_p_value`,
:func:`~ips_study.inference.rank_half_width`); ``std_error`` is the root mean square of the
draws.

Assumptions: under the null, the adopters' statistic is exchangeable with that of G randomly
chosen never-treated municipalities (same error distribution; adopters larger than the
controls make the test conservative, smaller ones make it over-reject); municipalities are
independent; J - G >= 1 comparison municipalities remain in every draw. The placebo fits use
J - G comparisons against J in the real fit, which makes the draws a little more dispersed
(again conservative). With B draws the smallest p-value is 1/(B + 1).

Cost: at municipality level without covariates (the default), all draws are computed at
once from the controls' outcome changes (vectorised over draws; ~0.1 s for 999 draws on the
embedded data); otherwise (person level, covariates) each draw is a refit with
:func:`~ips_study.designs.staggered.att_gt`.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.staggered import fit_panel
>>> res = fit_panel(panel, outcome="workdays", config=StudyConfig(),
...                 inference="placebo")                                # doctest: +SKIP
>>> res.p_value, res.extras["n_placebos"]                              # doctest: +SKIP
>>> res.placebo_draws().head()                                         # doctest: +SKIP
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

from ips_study.designs.staggered_aggregate import AggregateResults
from ips_study.designs.staggered_data import wide_arrays
from ips_study.inference.placebo_engine import (DEFAULT_REPS, Assignments,  # noqa: F401
                                                draw_assignments, n_assignments, rank_summary,
                                                resolve_seed, run_placebo)

#: default number of random placebo assignments when there are more possible ones
DEFAULT_DRAWS = DEFAULT_REPS
#: label of the overall term among the term labels of the draws
OVERALL = "overall"


class StaggeredPlaceboResults(AggregateResults):
    """Aggregated staggered effect with placebo-in-space inference.

    :meth:`placebo_draws` returns the null draws (one row per placebo assignment, one
    column per reported term, plus the municipalities drawn for each adoption group).
    """

    def __init__(self, tidy, *, draws: pd.DataFrame, **kwargs):
        super().__init__(tidy, **kwargs)
        self._draws = draws

    def placebo_draws(self) -> pd.DataFrame:
        """Null draws of every term (copy); ``assignment`` lists the placebo adopters."""
        return self._draws.copy()


# -- assignments (the shared engine: ips_study.inference.placebo_engine) ------------------
def assignments(n_controls: int, pattern, n_draws: int = DEFAULT_DRAWS,
                seed: int | None = None) -> tuple[np.ndarray, bool]:
    """Placebo assignments ``(B, G)``: the control index given each slot of the sorted pattern.

    Returns the array and whether it is the complete enumeration (else ``n_draws`` uniform
    random assignments, drawn with ``seed``).

    >>> a, full = assignments(3, [2013])
    >>> a.ravel().tolist(), full
    ([0, 1, 2], True)
    """
    a = _draw(n_controls, pattern, n_draws, seed)
    return a.units, a.enumerated


def _draw(n_controls, pattern, n_draws, seed) -> Assignments:
    """The checks of :func:`assignments`, then the shared engine's draw."""
    pattern = np.sort(np.asarray(pattern, dtype=float))
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive integer, got {n_draws!r}")
    if n_controls - len(pattern) < 1:
        raise ValueError(f"placebo inference needs more never-treated municipalities ({n_controls}) "
                         f"than adopting ones ({len(pattern)}): at least one must stay a comparison")
    return draw_assignments(n_controls, pattern, reps=n_draws, seed=seed, sampler="argsort")


# -- vectorised placebo ATT(g,t) and aggregations (municipality level, no covariates) ---------
def _cells(times, glist, base_period, anticipation):
    """(group, time index, base index, horizon, reference) per cell, in ``att_gt``'s order."""
    out = []
    for gg in glist:
        before = np.flatnonzero(times + anticipation < gg)
        if len(before) == 0:
            continue
        t_range = range(len(times)) if base_period == "universal" else range(1, len(times))
        for ti in t_range:
            post = times[ti] >= gg - anticipation
            pre = before[-1] if (post or base_period == "universal") else ti - 1
            out.append((gg, ti, pre, max(times[ti], times[pre]) + anticipation, ti == pre))
    return out


def placebo_cells(y, w, times, pattern, draws, *, control_group="never_treated",
                  base_period="varying", anticipation=0):
    """ATT(g,t) of every placebo draw at once, without covariates.

    Without covariates every estimator of :func:`~.staggered_estimators.att_2x2` is the
    weighted mean change of the group's units minus that of its comparison units; the
    comparison sums of a draw are the controls' totals minus the units it draws.

    Parameters
    ----------
    y : ndarray (J, T)
        Outcomes of the never-treated units; ``w`` (J,) their weights.
    pattern : ndarray (G,)
        Sorted adoption groups; ``draws`` (B, G) the unit given each slot.

    Returns
    -------
    cg, ct : ndarray (C,)
        Group and period of each cell.
    att : ndarray (B, C)
    pgs : ndarray (B, C)
        Weight of each cell's group in each draw (sum of its placebo units' weights).
    """
    cells = _cells(times, np.unique(pattern), base_period, anticipation)
    cg = np.array([c[0] for c in cells], dtype=float)
    ti = np.array([c[1] for c in cells])
    dy = y[:, ti] - y[:, np.array([c[2] for c in cells])]          # (J, C)
    ws = w[draws]                                                  # (B, G)
    dys = dy[draws]                                                # (B, G, C)
    in_cell = (pattern[:, None] == cg[None, :]).astype(float)      # (G, C)
    t_num = np.einsum("bg,bgc,gc->bc", ws, dys, in_cell)
    t_den = ws @ in_cell
    c_num = (w @ dy)[None, :] - np.einsum("bg,bgc->bc", ws, dys)
    c_den = w.sum() - ws.sum(axis=1)[:, None]
    if control_group == "not_yet_treated":
        later = (pattern[:, None] > np.array([c[3] for c in cells])[None, :]).astype(float)
        c_num = c_num + np.einsum("bg,bgc,gc->bc", ws, dys, later)
        c_den = c_den + ws @ later
    att = t_num / t_den - c_num / c_den
    att[:, np.array([c[4] for c in cells], dtype=bool)] = 0.0
    return cg, times[ti].astype(float), att, t_den


def aggregate_draws(att, cg, ct, pgs, kind, balance_e=None):
    """Aggregations of placebo ATT(g,t) draws, as :func:`~.staggered_aggregate.aggregate`.

    Returns the term labels (:data:`OVERALL`, then the components) and the (B, terms)
    draws.
    """
    def wmean(keep):
        p = pgs[:, keep]
        return np.sum(p * att[:, keep], axis=1) / p.sum(axis=1)

    comps: list[tuple[float, np.ndarray]] = []
    if kind == "simple":
        return [OVERALL], wmean(cg <= ct)[:, None]
    if kind == "group":
        glist = np.unique(cg)
        for g in glist:
            comps.append((g, wmean((cg == g) & (ct >= g))))
        pg = np.column_stack([pgs[:, np.flatnonzero(cg == g)[0]] for g in glist])
        est = np.column_stack([c[1] for c in comps])
        overall = np.sum(pg * est, axis=1) / pg.sum(axis=1)
    elif kind == "dynamic":
        e_cell = ct - cg
        ok = np.ones(len(cg), bool)
        if balance_e is not None:
            last = {g: ct[cg == g].max() - g for g in np.unique(cg)}
            ok = np.array([last[g] >= balance_e for g in cg]) & (e_cell <= balance_e)
        for e in np.unique(e_cell[ok]):
            comps.append((e, wmean(ok & (e_cell == e))))
        overall = np.mean(np.column_stack([c[1] for c in comps if c[0] >= 0]), axis=1)
    elif kind == "calendar":
        for tt in np.unique(ct[ct >= cg.min()]):
            keep = (ct == tt) & (cg <= ct)
            if keep.any():
                comps.append((tt, wmean(keep)))
        overall = np.mean(np.column_stack([c[1] for c in comps]), axis=1)
    else:
        raise ValueError(f"unknown aggregation {kind!r}")
    return ([OVERALL] + [float(c[0]) for c in comps],
            np.column_stack([overall] + [c[1] for c in comps]))


# -- the placebo fits ---------------------------------------------------------------------------
def _roles(frame, cluster, time, anticipation):
    """Adopting clusters (with their groups) and never-treated clusters, att_gt's conventions.

    A group after the last period counts as never treated; a cluster already treated in the
    first period is dropped by the estimator, so it is neither.
    """
    first = frame.groupby(cluster, sort=True)["group"].first().astype(float).fillna(0.0)
    times = np.sort(frame[time].unique())
    first[first > times.max() + anticipation] = 0.0
    adopters = first[(first > 0) & (first > times.min() + anticipation)]
    controls = first[first == 0]
    return adopters.sort_values(kind="stable"), controls.index.to_numpy()


def _control_arrays(frame, outcome, time, weights):
    """Never-treated municipalities (sorted codes), periods, outcomes (J, T) and weights."""
    ctrl = frame[frame["group"] == 0]
    units, times, y, _, _, w, _ = wide_arrays(ctrl, outcome, "municipality", time, "group", (), weights)
    return units, times, y, w


def _refit_draws(frame, cluster, codes, pattern, draws, kinds, fit):
    """One refit per draw (person level, or covariates): the reference path.

    A placebo fit can lack a term of the real fit (at person level, a small municipality
    with no person observed in every period drops its group); that term is NaN in the draw.
    """
    ctrl = frame[frame["group"] == 0]
    out: dict[str, list] = {k: [] for k in kinds}
    for row in draws:
        group = pd.Series(pattern, index=codes[row])
        sub = ctrl.assign(group=ctrl[cluster].map(group).fillna(0).astype(int))
        with warnings.catch_warnings():
            # every placebo group has one cluster: the analytic-SE warning is moot here
            warnings.simplefilter("ignore")
            try:
                gt = fit(sub)
            except (ValueError, np.linalg.LinAlgError):
                gt = None
        for k in kinds:
            if gt is None:
                out[k].append({})
                continue
            t = gt.aggregate(k).tidy()
            labels = [OVERALL] + [float(c) for c in t["component"].iloc[1:]]
            out[k].append(dict(zip(labels, t["estimate"].to_numpy())))
    tables = {k: pd.DataFrame(out[k], index=range(len(draws))) for k in kinds}
    return {k: (tab.columns.tolist(), tab.to_numpy(float)) for k, tab in tables.items()}


def _align(labels, values, expected):
    """Draws as columns of the ``expected`` terms (NaN where a placebo fit lacks one)."""
    return pd.DataFrame(values, columns=labels).reindex(columns=expected).to_numpy(float)


def placebo_draws(frame, *, outcome, unit, time, cluster, weights, kinds, fit,
                  n_draws=DEFAULT_DRAWS, seed=None, att_options=None):
    """Null draws of the ``kinds`` aggregations for the staggered frame ``frame``.

    ``frame`` is :func:`~ips_study.designs.staggered.staggered_frame` (``unit`` =
    ``cluster`` = municipality) or :func:`~ips_study.designs.staggered.person_frame` (persons
    as units, clusters = baseline municipality); ``fit`` maps a frame with reassigned
    ``group`` to a :class:`~ips_study.designs.staggered.GroupTimeResults` (used when the
    vectorised path does not apply).

    Returns
    -------
    draws : dict
        ``kind -> (labels, ndarray (B, terms))``: :data:`OVERALL`, then the components.
    table : DataFrame
        ``assignment`` of each draw (``"group:municipality;..."``).
    enumerated : bool
    adopters : Series
        Group of each real adopting municipality.
    """
    opts = dict(att_options or {})
    adopters, codes = _roles(frame, cluster, time, opts.get("anticipation", 0))
    pattern = adopters.to_numpy()
    if len(codes) == 0:
        raise ValueError("placebo inference needs never-treated municipalities")
    if len(pattern) == 0:
        raise ValueError("no adopting municipality in the panel: nothing to test")
    fast = unit == cluster and not opts.get("covariates")
    if fast:
        # units not seen in every period are dropped by the estimator, so not drawn either
        codes, times, y, w = _control_arrays(frame, outcome, time, weights)
    assigned = _draw(len(codes), pattern, n_draws, seed)
    draws, enumerated = assigned.units, assigned.enumerated

    def closed_form(units):
        cg, ct, att, pgs = placebo_cells(
            y, w, times, pattern, units, control_group=opts.get("control_group", "never_treated"),
            base_period=opts.get("base_period", "varying"), anticipation=opts.get("anticipation", 0))
        return _as_frame({k: aggregate_draws(att, cg, ct, pgs, k) for k in kinds})

    def refits(units):
        return _as_frame(_refit_draws(frame, cluster, codes, pattern, units, kinds, fit))

    by_kind = run_placebo(assigned, batch=closed_form if fast else refits).frame()
    res = {k: ((by_kind[k].columns.tolist(), by_kind[k].to_numpy(float))
               if k in by_kind.columns.get_level_values(0) else ([], np.empty((len(draws), 0))))
           for k in kinds}
    table = pd.DataFrame({"assignment": [";".join(f"{_fmt(g)}:{codes[i]}" for g, i in zip(pattern, row))
                                         for row in draws]})
    return res, table, enumerated, adopters


def _as_frame(res: dict) -> pd.DataFrame:
    """``kind -> (labels, draws)`` as one frame with (kind, label) columns."""
    return pd.concat({k: pd.DataFrame(v, columns=labels) for k, (labels, v) in res.items()},
                     axis=1)


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def with_placebo(res: AggregateResults, frame: pd.DataFrame, *, outcome: str, unit: str,
                 time: str, cluster: str, weights: str | None, aggregation: str, fit,
                 att_options: dict | None = None, n_draws: int = DEFAULT_DRAWS,
                 seed: int | None = None) -> StaggeredPlaceboResults:
    """Replace the analytic inference of ``res`` by placebo-in-space inference.

    Parameters
    ----------
    res : AggregateResults
        The design's result (headline ``aggregation`` with components, dynamic event time).
    frame : DataFrame
        The frame the design was fitted on (see :func:`placebo_draws`).
    n_draws, seed : int
        Random placebo assignments when there are more than ``n_draws`` distinct ones
        (seed default :data:`ips_study.inference.DEFAULT_SEED`).
    """
    kinds = [aggregation] + (["dynamic"] if aggregation != "dynamic" else [])
    seed = resolve_seed(seed)
    res_draws, table, enumerated, adopters = placebo_draws(
        frame, outcome=outcome, unit=unit, time=time, cluster=cluster, weights=weights,
        kinds=kinds, fit=fit, n_draws=n_draws, seed=seed, att_options=att_options)
    level = res.level
    t = res.tidy()
    main_draws = _align(*res_draws[aggregation],
                        [OVERALL] + [float(c) for c in t["component"].iloc[1:]])
    ok = np.isfinite(main_draws[:, 0])
    tidy, ci = rank_summary(t["estimate"], main_draws, level, keep=ok)
    tidy["component"] = t["component"].to_numpy()
    tidy["uniform_low"] = np.nan
    tidy["uniform_high"] = np.nan
    et = res.event_time()
    if et is not None:
        et_draws = _align(*res_draws["dynamic"], [float(e) for e in et["event_time"]])[ok]
        et_tidy, _ = rank_summary(et["estimate"], et_draws, level)
        et = et.assign(std_error=et_tidy["std_error"].to_numpy(),
                       conf_low=et_tidy["conf_low"].to_numpy(),
                       conf_high=et_tidy["conf_high"].to_numpy(),
                       p_value=et_tidy["p_value"].to_numpy())
    B = int(ok.sum())
    draws = pd.concat([table, pd.DataFrame(main_draws, columns=list(t.index))], axis=1)
    scheme = (f"all {B} assignments" if enumerated
              else f"{B} random assignments (seed {seed})")
    notes = tuple(n for n in res.notes) + (
        f"Placebo in space: the adoption pattern of the {len(adopters)} adopting municipalities "
        f"given to never-treated municipalities, real adopters dropped, design re-run; {scheme}; "
        "p = rank/(B+1), interval inverts the rank test, std_error = RMS of the placebo draws.",)
    if not ok.all():
        notes += (f"{int((~ok).sum())} of {len(ok)} placebo fits left out: not identified "
                  "(no unit of a placebo group observed in every period)",)
    if math.isinf(tidy["conf_high"].iloc[0]):
        notes += (f"with {B} placebo draws the {level:.0%} interval is unbounded",)
    extras = {**res.extras, "n_placebos": B, "n_placebos_not_identified": int((~ok).sum()),
              "analytic_std_error": {str(k): float(v) for k, v in t["std_error"].items()},
              "placebo_enumerated": enumerated,
              "placebo_seed": None if enumerated else seed,
              "adoption_pattern": {str(k): float(v) for k, v in adopters.items()},
              "n_never_treated": int(frame.loc[frame["group"] == 0, cluster].nunique())}
    return StaggeredPlaceboResults(
        tidy, draws=draws, design=res.design, outcome=res.outcome, inference="placebo",
        n_obs=res.n_obs, n_units=res.n_units, main_term=res.main_term, level=level,
        event_time=et, extras=extras, conf_int_fn=ci, notes=notes)
