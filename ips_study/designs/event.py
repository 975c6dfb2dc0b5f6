"""Event study: leads and lags of IPS start in Bodø, with a joint pre-trend test.

``y_it = a_i + g_t + sum_{k != ref} beta_k * treated_i * 1[bin(t) = k] + x_it' gamma + e_it``

Event time comes from the panel's ``event_time`` (periods since ``config.ips_start``: years in
a year panel, months in a month panel). ``bin_width`` groups event times into bins (e.g. 12
for yearly bins on a month panel); ``window=(lo, hi)`` bins the endpoints, so every period
before ``lo`` counts as ``lo`` and every period after ``hi`` as ``hi`` (Schmidheiny &
Siegloch 2023). ``ref`` is the omitted reference bin (default -1, the year before IPS).

Besides one term ``event_k`` per bin, the table reports ``post_average``, the mean of the
post-period coefficients (the main term, used for ``estimate`` in the JSON). Every inference
method of :mod:`ips_study.inference` applies per term; the joint pre-trend test uses the
method's covariance (``cluster``: Wald F test with G - 1 denominator degrees of freedom) or
its null draws (rank-based methods: the quadratic form of the leads, ranked among the
placebo / residual draws).

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel
>>> res = fit_event_panel(example_panel(seed=2), outcome="workdays", config=StudyConfig(),
...                       inference="placebo", window=(-4, 4))
>>> list(res.event_time()["event_time"])[:3]
[-4, -3, -2]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .did import DEFAULT_INFERENCE, DidResults, _build, build_fit, period_start, prepare

from ips_study.results import EVENT_TIME_COLUMNS


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
    b = np.floor_divide(np.asarray(event_time, dtype=np.int64), int(bin_width))
    if window is not None:
        lo, hi = window
        if lo >= hi:
            raise ValueError("window must be (lo, hi) with lo < hi")
        b = np.clip(b, lo, hi)
    return b


def _pretrend(out, leads: list[int], df_denominator: float | None) -> dict[str, Any]:
    if not leads:
        return {"statistic": None, "df": 0, "p_value": None, "method": "no leads"}
    b = out.tidy["estimate"].to_numpy()[leads]
    if out.vcov is not None:
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


def fit_event_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
                    ref: int = -1, bin_width: int = 1, window: tuple[int, int] | None = None,
                    level: str | None = None, covariates: Sequence[str] = (),
                    weights: str | None | bool = None, conf_level: float = 0.95,
                    small_sample: str = "fixest", drop_other_treated: bool = True,
                    **inference_options) -> EventStudyResults:
    """Event-study DiD (CLI design ``event``).

    Parameters
    ----------
    panel, outcome, config, inference, level, covariates, weights, small_sample :
        As :func:`ips_study.designs.did.fit_panel`.
    ref : reference (omitted) bin.
    bin_width : event-time units per bin (12 = yearly bins on a month panel).
    window : ``(lo, hi)`` endpoint bins; ``None`` keeps every bin.

    Returns
    -------
    EventStudyResults
        Terms ``event_k`` and ``post_average`` (main term); ``event_time()`` rows include the
        reference bin at zero.
    """
    prep = prepare(panel, outcome=outcome, config=config, level=level, covariates=covariates,
                   weights=weights, drop_other_treated=drop_other_treated)
    df = prep["df"]
    prep["y"] = df[outcome].to_numpy(float)
    if "event_time" in df:
        et = df["event_time"].to_numpy()
    else:
        start = period_start(df)
        months = (start.dt.year - config.ips_start.year) * 12 + start.dt.month - config.ips_start.month
        yearly = df["period"].astype(str).str.len().max() == 4
        et = (np.floor_divide(months, 12) if yearly else months).to_numpy()
    bins = event_bins(et, bin_width=bin_width, window=window)
    levels = np.unique(bins)
    if ref not in levels:
        raise ValueError(f"reference bin {ref} not among the event-time bins {levels.tolist()}")
    keep = [int(k) for k in levels if k != ref]
    B = (bins[:, None] == np.array(keep)[None, :]).astype(float)
    terms = [f"event_{k}" for k in keep]
    fit = build_fit(prep, B, terms, small_sample)
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

    meta = dict(design="event", outcome=outcome,
                main_term="post_average" if post else terms[-1], n_min=prep["n_min"],
                extras={**prep["extras"], "ref": ref, "bin_width": bin_width,
                        "window": list(window) if window else None},
                notes=prep["notes"], event_time_fn=event_time_fn,
                pretrend_fn=lambda out: _pretrend(out, leads, out.df_resid))
    return _build(EventStudyResults, fit, contrasts, inference or DEFAULT_INFERENCE, conf_level,
                  inference_options, meta)
