"""Placebo-in-space inference for the survival designs with one treated municipality.

With a single treated municipality (Bodø), a sandwich clustered by municipality has one
treated cluster and is biased downward (MacKinnon & Webb 2017; in the synthetic data its
95 % interval covered the true hazard ratio in 15 of 20 seeds, docs/survival.md). Placebo in
space (Abadie, Diamond & Hainmueller 2010; Conley & Taber 2011 for the one-treated-unit
argument) re-estimates the model with each control municipality in turn as the
pseudo-treated one, with IPS "starting" there at the study's ``ips_start``:

* the sample is the controls-only cohort (Bodø's persons are left out, so the real effect
  cannot leak into the placebo fits), as :mod:`ips_study.inference.randomization` does for
  the DiD;
* the placebo exposure of an episode is "lives (currently) in placebo municipality j at or
  after ``ips_start``" (plus real IPS in any other municipality of the panel); the placebo
  ``treated`` term is "index municipality is j";
* p-value ``(1 + #{|b_j| >= |b|}) / (J + 1)`` and the interval ``b +/- h`` that inverts it under
  a constant additive effect on the log-hazard scale, with the helpers
  :func:`ips_study.inference.rank_p_value` / :func:`~ips_study.inference.rank_half_width`.

Assumptions: under the null the treated municipality's estimate is exchangeable with the
placebo estimates (the same error distribution: similar cohort size and event count; a much
larger or smaller treated unit breaks this, see docs/inference.md on Ferman–Pinto); the
effect is a constant shift of the log hazard ratio (for the interval); and J >= 19 controls
for a bounded 95 % interval. A placebo whose exposed or pre-period person-time in j has no
event is not identified (the partial likelihood is monotone) and is left out, with a note.

Reuse: the controls-only episodes are built once and split once at ``ips_start``; only the
``exposed`` and ``treated`` columns change between placebo fits, so the risk-set grid (the
sort of all episodes) is built once and every fit starts from the previous coefficients.

Examples
--------
>>> from tests.survival_dgp import simulate_panel                      # doctest: +SKIP
>>> res = fit_cox_panel(simulate_panel(2000, seed=5), inference="placebo")  # doctest: +SKIP
>>> res.extras["n_placebos"], res.p_value                              # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...inference.placebo_engine import draw_assignments, rank_summary, run_placebo
from .cox import ConvergenceError, CoxPH


def split_at(tte: pd.DataFrame, month: int) -> pd.DataFrame:
    """Split episodes that straddle calendar ``month`` (months since year 0) in two.

    The Cox partial likelihood does not change when an episode is cut with the same
    covariates on both sides; the cut lets a covariate switch on at ``month``. The event
    stays on the later piece.
    """
    cal0 = (tte["origin_month"] + tte["start"]).to_numpy()
    cal1 = (tte["origin_month"] + tte["stop"]).to_numpy()
    cut = (cal0 < month) & (cal1 > month)
    if not cut.any():
        return tte
    first = tte[cut].copy()
    second = tte[cut].copy()
    k = month - first["origin_month"].to_numpy()
    first["stop"] = k
    first["event"] = np.int8(0)
    second["start"] = k
    out = pd.concat([tte[~cut], first, second])
    return out.sort_values(["person_id", "start"], kind="stable").reset_index(drop=True)


def _identified(exposed, treated, event) -> bool:
    """Events in the placebo's exposed time and in its unexposed time in j (else monotone)."""
    return bool(event[exposed == 1].any() and event[(treated == 1) & (exposed == 0)].any()
                and event[exposed == 0].any())


def placebo_draws(tte: pd.DataFrame, X: pd.DataFrame, event: np.ndarray, config, *,
                  strata=None, ties: str = "efron", exposed_col: str = "exposed",
                  treated_col: str = "treated") -> pd.Series:
    """Placebo coefficients of ``exposed_col``, one per control municipality (NaN: not identified).

    Parameters
    ----------
    tte : DataFrame
        Episodes of the whole cohort (:func:`.tte.build_tte`), Bodø included; its rows match
        ``X``, ``event`` and ``strata``.
    X : DataFrame
        The design matrix of the study's fit (same rows); ``exposed_col`` and
        ``treated_col`` are replaced per placebo, the other columns are kept.
    event : ndarray of bool
        Event of interest per episode.
    config : StudyConfig
        ``treated_municipality`` (left out) and ``ips_start`` (the placebo start).
    """
    ctrl = (tte["cluster"] != config.treated_municipality).to_numpy()
    d = tte[ctrl].assign(_row=np.flatnonzero(ctrl))
    ips = config.ips_start.year * 12 + config.ips_start.month - 1
    d = split_at(d, ips)
    rows = d["_row"].to_numpy()
    # the earlier piece of a split episode (same source row, next in order) has no event
    ev = np.asarray(event)[rows] & np.r_[rows[1:] != rows[:-1], True]
    Xc = X.to_numpy(dtype=float)[rows]
    cols = list(X.columns)
    je, jt = cols.index(exposed_col), (cols.index(treated_col) if treated_col in cols else None)
    st = None if strata is None else np.asarray(strata)[rows]
    # real IPS elsewhere (other than the treated municipality) stays exposed in every placebo
    cur = d["municipality"].to_numpy()
    base = (d["exposed"].to_numpy() == 1) & (cur != config.treated_municipality)
    after = (d["origin_month"] + d["start"]).to_numpy() >= ips
    codes = sorted(d["cluster"].unique())
    fitter = CoxPH(ties=ties)
    warm = {"init": None, "grid": None}

    def refit(slot: np.ndarray) -> float:
        # each placebo starts from the previous one's coefficients and risk-set grid
        code = codes[slot[0]]
        e = (base | ((cur == code) & after)).astype(float)
        t = (d["cluster"].to_numpy() == code).astype(float)
        if not _identified(e, t, ev):
            return np.nan
        Xj = Xc.copy()
        Xj[:, je] = e
        if jt is not None:
            Xj[:, jt] = t
        try:
            fitter.fit(Xj, d["stop"], ev, start=d["start"], strata=st, init=warm["init"],
                       _grid=warm["grid"])
        except (ConvergenceError, ValueError, np.linalg.LinAlgError):
            # not identified for this placebo (diverging or collinear): left out
            return np.nan
        warm.update(grid=fitter._grid, init=fitter.params_)
        b = float(fitter.params_[je])
        return b if np.isfinite(b) else np.nan

    # every control municipality in turn (one treated unit: all assignments)
    run = run_placebo(draw_assignments(len(codes), 1, reps=None), estimate=refit,
                      desc="cox placebo fits")
    return pd.Series(run.draws[:, 0], index=codes, name="placebo_estimate", dtype=float)


def placebo_table(estimate: float, draws: pd.Series, level: float) -> dict:
    """Rank p-value, RMS standard error and inverted interval of ``estimate`` from ``draws``."""
    null = draws.dropna().to_numpy()
    tidy, _ = rank_summary(pd.Series([estimate]), null, level)
    row = tidy.iloc[0]
    return {"p_value": float(row["p_value"]), "std_error": float(row["std_error"]),
            "conf_low": float(row["conf_low"]), "conf_high": float(row["conf_high"]),
            "n_placebos": len(null), "n_not_identified": int(draws.isna().sum())}
