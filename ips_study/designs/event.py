"""Event study on any long panel: leads and lags of adoption, with a joint pre-trend test.

``y_it = a_i + g_t + sum_{k != ref} beta_k * 1[i treated, bin(e_it) = k] + x_it' gamma + e_it``

``e_it`` is the event time of a treated unit's row: periods since its own adoption (the
first period ``treat`` is 1), so several treated units with different adoption periods
share one set of event-time terms; controls (never treated) have no event-time dummies.
Periods are counted from the ``time`` column (:mod:`.timelabels`): integers (also as
text) as they are, dates and ``"YYYY-MM"`` text in their regular step (months, years, days),
pandas periods, quarters (``"2019Q1"``) and halves (``"2019H1"``) as text, and an ordered
Categorical by its categories; a period missing from the whole panel is counted. Other text
is refused (pass an ordered Categorical). ``event_time=`` names a column to use instead. The bins are taken from the treated units' rows only: ``bin_width`` groups
event times (12 = yearly bins on a month panel); ``bins=(lo, hi)`` bins the endpoints, so
every period before ``lo`` counts as ``lo`` and every period after ``hi`` as ``hi``
(Schmidheiny & Siegloch 2023). ``ref`` is the omitted reference bin (default -1).

Besides one term ``event_k`` per bin, the table reports ``post_average``, the mean of the
post-period coefficients (the main term, used for ``estimate`` in the JSON). Every inference
method of :mod:`ips_study.inference` applies per term; the joint pre-trend test uses the
method's covariance (``cluster``: Wald F test with G - 1 denominator degrees of freedom) or
its null draws (rank-based methods: the quadratic form of the leads, ranked among the
placebo / residual draws).

Examples
--------
>>> import ips_study as ips
>>> from ips_study.designs.register_panel import example_panel
>>> p = example_panel(seed=2)
>>> p["ips"] = ((p["municipality"] == "1804") & (p["period"] >= "2013")).astype(int)
>>> res = ips.event_study(p, y="workdays", unit="person_id", time="period", treat="ips",
...                       cluster="municipality", inference="placebo", bins=(-4, 4))
>>> list(res.event_time()["event_time"])[:3]
[-4, -3, -2]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.results import EVENT_TIME_COLUMNS

from ..formula import formula_roles
from .did_results import DEFAULT_INFERENCE, DidResults, build_results, fit_twfe, n_min
from .register_panel import aggregation_level, register_roles
from .roles import DesignError, RolePanel, all_eventually_treated, panel_roles
from .timelabels import period_codes


class EventStudyResults(DidResults):
    """Event-study results: :meth:`event_time` table, :meth:`pretrend_test`, :meth:`plot`."""

    def pretrend_test(self) -> dict[str, Any]:
        """Joint test that all lead coefficients are zero under this object's inference.

        Returns a dict with ``statistic``, ``df`` (number of leads), ``p_value`` and ``method``.
        """
        return dict(self._extras["pretrend"])


def event_bins(event_time: np.ndarray, *, bin_width: int = 1,
               window: tuple[int, int] | None = None) -> np.ndarray:
    """Event-time bins: ``floor(event_time / bin_width)`` clipped to ``window``."""
    if isinstance(bin_width, bool) or not float(bin_width).is_integer() or bin_width < 1:
        # 0 divided every event time into bin 0 (with a numpy warning), 1.5 was cut to 1
        raise DesignError(f"bin_width must be a positive whole number of periods, got "
                          f"{bin_width!r}")
    b = np.floor_divide(np.asarray(event_time, dtype=np.int64), int(bin_width))
    if window is not None:
        lo, hi = window
        if lo >= hi:
            raise DesignError(f"bins must be (lo, hi) with lo < hi, got {window!r}")
        b = np.clip(b, lo, hi)
    return b


def _pretrend(out, leads: list[int], df_denominator: float | None) -> dict[str, Any]:
    if not leads:
        return {"statistic": None, "df": 0, "p_value": None, "method": "no leads"}
    b = out.tidy["estimate"].to_numpy()[leads]
    # placebo draws first: placebo-t has both, and its joint test stays a rank test
    if out.vcov is not None and out.null_draws is None:
        V = out.vcov[np.ix_(leads, leads)]
        q = np.linalg.matrix_rank(V)
        w = float(b @ np.linalg.pinv(V) @ b)
        p = float(stats.f.sf(w / q, q, df_denominator)) if df_denominator else float(
            stats.chi2.sf(w, q))
        return {"statistic": w / q, "df": int(q), "p_value": p, "method": "Wald F"}
    if out.null_draws is not None:
        D = out.null_draws[:, leads]
        S = np.linalg.pinv(D.T @ D / len(D))
        w = float(b @ S @ b)
        null = np.einsum("ji,ik,jk->j", D, S, D)
        p = float((1 + np.sum(null >= w * (1 - 1e-12))) / (len(null) + 1))
        return {"statistic": w, "df": len(leads), "p_value": p,
                "method": "rank of quadratic form among null draws"}
    return {"statistic": None, "df": len(leads), "p_value": None,
            "method": "not available for this inference"}


def period_index(rp: RolePanel, time: str) -> np.ndarray:
    """A number per period code such that differences count periods (see module docstring
    and :mod:`.timelabels`)."""
    numbers = period_codes(rp.df[time], time)[2]
    if numbers is None:
        raise DesignError(f"time={time!r} has non-integer values: event time needs "
                          "integer or date periods")
    return numbers


def _treated_event_times(rp: RolePanel, time: str, event_time: str | None) -> np.ndarray:
    """Event time per period for each treated unit (k x T; NaN where not defined)."""
    T = len(rp.time_labels)
    if event_time is None:
        idx = period_index(rp, time).astype(float)
        return idx[None, :] - idx[rp.adoption][:, None]
    col = rp.df[event_time]
    if not pd.api.types.is_numeric_dtype(col):
        raise DesignError(f"event_time={event_time!r} is not numeric")
    out = np.full((rp.n_treated, T), np.nan)
    pos = np.full(len(rp.cluster_labels), -1)
    pos[rp.treated] = np.arange(rp.n_treated)
    rows = np.flatnonzero(pos[rp.cluster] >= 0)
    vals = col.to_numpy(float)[rows]
    ok = np.isfinite(vals)
    if not ok.all():
        raise DesignError(f"event_time={event_time!r} is missing on {int((~ok).sum())} treated "
                          "row(s)")
    out[pos[rp.cluster[rows]], rp.time[rows]] = vals
    return out


def event_timing(rp: RolePanel, et: np.ndarray, *, ref: int, bin_width: int = 1,
                 window: tuple[int, int] | None = None):
    """Event-time bins kept (from the treated units' rows), per-row B and per-period timing."""
    T = len(rp.time_labels)
    seen = np.zeros((rp.n_treated, T), dtype=bool)
    pos = np.full(len(rp.cluster_labels), -1)
    pos[rp.treated] = np.arange(rp.n_treated)
    own = pos[rp.cluster]
    seen[own[own >= 0], rp.time[own >= 0]] = True
    defined = np.isfinite(et)
    bins = np.full(et.shape, np.iinfo(np.int64).min, dtype=np.int64)
    bins[defined] = event_bins(et[defined], bin_width=bin_width, window=window)
    levels = np.unique(bins[seen & defined])
    if ref not in levels:
        raise DesignError(f"ref={ref}: reference bin not among the treated units' event-time bins "
                          f"({int(levels.min())} to {int(levels.max())})")
    keep = [int(k) for k in levels if k != ref]
    timing = (bins[:, :, None] == np.array(keep)[None, None, :]).astype(float)
    # controls carry the treated timing when it is common (what a placebo moves; it also
    # keeps the balanced closed-form fit available), else zeros
    common = timing[0, rp.time] if np.all(timing == timing[:1]) else 0.0
    B = np.where((own >= 0)[:, None], timing[np.maximum(own, 0), rp.time], common)
    return keep, B, timing


def _event_results(rp: RolePanel, et: np.ndarray, *, y: str, ref: int, bin_width: int,
                   window, inference: str, level: float, small_sample: str,
                   options: dict[str, Any], extras: dict[str, Any], notes: list[str],
                   seed: int | None) -> "EventStudyResults":
    keep, B, timing = event_timing(rp, et, ref=ref, bin_width=bin_width, window=window)
    terms = [f"event_{k}" for k in keep]
    fit, fit_notes = fit_twfe(rp, B, timing, terms, small_sample)
    post = [t for t, k in zip(terms, keep) if k >= 0]
    contrasts = pd.DataFrame(np.eye(len(terms)), index=terms, columns=terms)
    if post:
        contrasts.loc["post_average"] = [1.0 / len(post) if t in post else 0.0 for t in terms]
    leads = [i for i, k in enumerate(keep) if k < 0]

    def event_time_fn(tidy: pd.DataFrame, lv: float) -> pd.DataFrame:
        rows = tidy.loc[terms, ["estimate", "std_error", "conf_low", "conf_high"]].copy()
        rows.insert(0, "event_time", keep)
        ref_row = pd.DataFrame([[ref, 0.0, 0.0, 0.0, 0.0]], columns=EVENT_TIME_COLUMNS)
        out = pd.concat([rows.reset_index(drop=True), ref_row], ignore_index=True)
        return out.sort_values("event_time").reset_index(drop=True)[EVENT_TIME_COLUMNS]

    meta = dict(design="event", outcome=y,
                main_term="post_average" if post else terms[-1], n_min=n_min(rp),
                extras={**extras, "ref": ref, "bin_width": bin_width,
                        "window": list(window) if window else None},
                notes=[*notes, *fit_notes], event_time_fn=event_time_fn, seed=seed,
                pretrend_fn=lambda out: _pretrend(out, leads, out.df_resid))
    return build_results(EventStudyResults, fit, contrasts, inference, level, options, meta)


def event_study(data: pd.DataFrame, *, y: str | None = None, unit: str, time: str, treat: str,
                ref: int = -1, bins: tuple[int, int] | None = None, bin_width: int = 1,
                weights: str | None = None, cluster: str | None = None,
                covariates: Sequence[str] | None = None, size: str | None = None,
                event_time: str | None = None, inference: str = DEFAULT_INFERENCE,
                level: float = 0.95, small_sample: str = "fixest", missing: str = "error",
                seed: int | None = None, formula: str | None = None,
                **inference_options) -> "EventStudyResults":
    """Event-study DiD on a long DataFrame (roles as :func:`ips_study.designs.did.did`).

    Parameters
    ----------
    data, y, unit, time, treat, weights, cluster, covariates, size, inference, level,
    small_sample, missing, seed, formula, inference_options :
        As :func:`ips_study.designs.did.did` (``formula="y ~ x1 + x2"`` instead of ``y=``
        and ``covariates=``).
    ref : reference (omitted) event-time bin (default -1, the period before adoption).
    bins : ``(lo, hi)`` endpoint bins; ``None`` keeps every event time of the treated units.
    bin_width : event-time periods per bin.
    event_time : column with each treated row's periods since adoption (default: counted
        from ``time``).

    Returns
    -------
    EventStudyResults
        Terms ``event_k`` and ``post_average`` (main term); ``event_time()`` rows include the
        reference bin at zero; ``pretrend_test()``.
    """
    data, y, covariates = formula_roles(data, formula, y=y, covariates=covariates,
                                        missing=missing)
    rp = panel_roles(data, y=y, unit=unit, time=time, treat=treat, cluster=cluster,
                     weights=weights, size=size, covariates=covariates, missing=missing,
                     require_controls=False)
    if all_eventually_treated(rp):
        # event time = time - adoption: with unit and time effects a linear trend in event
        # time is not identified, so one reference bin is not enough
        level = cluster or unit
        raise DesignError(
            f"event_study: every {level!r} unit is eventually treated, none is a never-treated "
            "control; with unit and time effects the event-time coefficients are then "
            "identified only up to a linear trend (two reference periods would be needed). "
            "Use ips.att_gt(..., control_group='not_yet_treated').aggregate('dynamic') or add "
            "never-treated units")
    et = _treated_event_times(rp, time, event_time)
    extras = {"n_treated": rp.n_treated,
              "treated_units": [str(v) for v in rp.cluster_labels[rp.treated]]}
    return _event_results(rp, et, y=y, ref=ref, bin_width=bin_width, window=bins,
                          inference=inference, level=level, small_sample=small_sample,
                          options=inference_options, extras=extras, notes=list(rp.notes),
                          seed=seed)


def fit_event_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
                    ref: int = -1, bin_width: int = 1, window: tuple[int, int] | None = None,
                    aggregation: str | None = None, covariates: Sequence[str] = (),
                    weights: str | None | bool = None, conf_level: float = 0.95,
                    small_sample: str = "fixest", drop_other_treated: bool = True,
                    level: str | None = None, **inference_options) -> EventStudyResults:
    """Event-study DiD on the register panel (CLI design ``event``): adapter to :func:`event_study`.

    Parameters
    ----------
    panel, outcome, config, inference, aggregation, covariates, weights, small_sample, level :
        As :func:`ips_study.designs.did.fit_panel` (``level`` is the older name of
        ``aggregation``).
    ref : reference (omitted) bin.
    bin_width : event-time units per bin (12 = yearly bins on a month panel).
    window : ``(lo, hi)`` endpoint bins; ``None`` keeps every bin.

    Returns
    -------
    EventStudyResults
        Terms ``event_k`` and ``post_average`` (main term); ``event_time()`` rows include the
        reference bin at zero.
    """
    df, roles, extras, notes = register_roles(
        panel, outcome=outcome, config=config, level=aggregation_level(aggregation, level),
        covariates=covariates, weights=weights, drop_other_treated=drop_other_treated)
    if "event_time" not in df:
        df = df.assign(event_time=_calendar_event_time(df, config))
    rp = panel_roles(df, missing="drop", **roles)
    et = _treated_event_times(rp, "period", "event_time")
    return _event_results(rp, et, y=outcome, ref=ref, bin_width=bin_width, window=window,
                          inference=inference or DEFAULT_INFERENCE, level=conf_level,
                          small_sample=small_sample, options=inference_options, extras=extras,
                          notes=notes, seed=getattr(config, "seed", None))


def _calendar_event_time(df: pd.DataFrame, config) -> np.ndarray:
    """Periods since ``config.ips_start`` (years on a year panel, else months)."""
    from .register_panel import period_start

    start = period_start(df)
    months = (start.dt.year - config.ips_start.year) * 12 + start.dt.month - config.ips_start.month
    yearly = df["period"].astype(str).str.len().max() == 4
    return (np.floor_divide(months, 12) if yearly else months).to_numpy()
