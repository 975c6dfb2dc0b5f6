"""Size and coverage of the inference methods by simulation (issue 5, item 4).

One treated municipality of Bodø's size among 20+ controls of unequal sizes, many
replications under a known effect (zero: a true null). For each method the table reports
the rejection rate of ``H0: effect = 0`` at 5% and the coverage of the true effect by the
95% interval. The data-generating process is a parameter; the default,
:func:`municipality_dgp`, draws municipality-year means directly:

``ybar_jt = a_j + g_t + nu_jt + e_jt``, ``nu_jt`` an AR(1) municipality-year shock (common to
all sizes, the reason cluster-robust errors fail with one treated unit) and ``e_jt`` the mean
of ``M_j`` person errors, ``N(0, sigma^2 / M_j)`` (the heteroskedasticity from unequal sizes
that Ferman & Pinto correct for). Person counts: Bodø 600, controls log-uniform 50-2000.

Examples
--------
>>> table = simulate(reps=3, methods=("cluster", "placebo"), seed=1)
>>> list(table.columns)
['method', 'reps', 'rejection_rate', 'rejection_se', 'coverage', 'mean_ci_width', 'bias', 'sd_estimate']
"""

from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig

ALL_METHODS = ("cluster", "wild", "placebo", "rmspe", "conley-taber", "ferman-pinto")


def municipality_dgp(rng: np.random.Generator, *, n_controls: int = 25, treated_size: int = 600,
                     size_range=(50, 2000), years=range(2008, 2020), sigma: float = 60.0,
                     tau: float = 2.0, rho: float = 0.5, effect: float = 0.0
                     ) -> tuple[pd.DataFrame, float]:
    """One draw of a municipality-year aggregate panel and its true effect.

    Returns the panel (``municipality``, ``period``, ``period_start``, ``treated``, ``post``,
    ``event_time``, ``n_persons``, ``workdays``) and the true effect on the treated.
    """
    years = np.asarray(list(years))
    T = len(years)
    lo, hi = np.log(size_range[0]), np.log(size_range[1])
    sizes = np.r_[treated_size, np.round(np.exp(rng.uniform(lo, hi, n_controls)))].astype(int)
    U = len(sizes)
    nu = np.empty((U, T))
    nu[:, 0] = rng.normal(0, tau, U)
    for t in range(1, T):
        nu[:, t] = rho * nu[:, t - 1] + np.sqrt(1 - rho ** 2) * rng.normal(0, tau, U)
    a = rng.normal(60, 10, U)
    g = 2.0 * np.arange(T)
    e = rng.normal(0, 1, (U, T)) * sigma / np.sqrt(sizes)[:, None]
    post = years >= 2013
    y = a[:, None] + g[None, :] + nu + e
    y[0] += effect * post
    codes = ["1804"] + [f"{1900 + j:04d}" for j in range(n_controls)]
    df = pd.DataFrame({
        "municipality": np.repeat(codes, T),
        "period": np.tile(years.astype(str), U),
        "n_persons": np.repeat(sizes, T).astype(float),
        "workdays": y.ravel(),
    })
    df["period_start"] = pd.to_datetime(df["period"] + "-01-01")
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = np.tile(post, U).astype(np.int8)
    df["event_time"] = df["period"].astype(int) - 2013
    return df, float(effect)


def _one(panel, truth, methods, config, fit_options, wild_options):
    from ips_study.designs.did import fit_panel

    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = fit_panel(panel, outcome="workdays", config=config, inference="cluster",
                         **fit_options)
        for m in methods:
            if m == "rmspe":
                r = base.with_inference("placebo")
                p = r.extras["rmspe_p_value"]
                out[m] = (p <= 0.05, np.nan, np.nan)
                continue
            r = base if m == "cluster" else base.with_inference(
                m, **(wild_options if m == "wild" else {}))
            lo, hi = r.conf_int().loc[r.main_term]
            # the p-value tests effect = 0, so "reject" is a false rejection only under a null
            out[m] = (r.p_value <= 0.05, float(lo <= truth <= hi), float(hi - lo))
    out["_estimate"] = base.estimate - truth
    return out


def simulate(dgp: Callable = municipality_dgp, *, reps: int = 500, seed: int = 20130101,
             methods: Sequence[str] = ALL_METHODS, config: StudyConfig | None = None,
             fit_options: dict | None = None, wild_options: dict | None = None,
             dgp_options: dict | None = None, progress: bool = False) -> pd.DataFrame:
    """Rejection rate at 5% and 95% coverage per inference method.

    Parameters
    ----------
    dgp : ``dgp(rng, **dgp_options) -> (panel, true_effect)``; default :func:`municipality_dgp`.
    reps : replications; seed : seeds one generator for the whole run.
    methods : names from :data:`ALL_METHODS` (``rmspe`` = placebo RMSPE-ratio p-value; it has
        no interval, so its coverage is NaN).
    fit_options : passed to :func:`ips_study.designs.did.fit_panel` (default
        ``level="municipality"`` for aggregate panels).
    wild_options : passed to the wild bootstrap (default 999 Webb draws).
    """
    config = config or StudyConfig()
    fit_options = {"level": "municipality"} if fit_options is None else fit_options
    wild_options = {"reps": 999} if wild_options is None else wild_options
    rng = np.random.default_rng(seed)
    rows = {m: [] for m in methods}
    errors = []
    it = range(reps)
    if progress:
        from tqdm import tqdm
        it = tqdm(it)
    for _ in it:
        panel, truth = dgp(rng, **(dgp_options or {}))
        res = _one(panel, truth, methods, config, fit_options, wild_options)
        for m in methods:
            rows[m].append(res[m])
        errors.append(res["_estimate"])
    # bias and spread of the estimate around the truth: an over-rejection with a clearly
    # non-zero bias is a failure of identification in the DGP, not of the inference method
    bias, sd = float(np.mean(errors)), float(np.std(errors, ddof=1)) if reps > 1 else np.nan
    table = []
    for m in methods:
        a = np.array(rows[m], dtype=float)
        rate = a[:, 0].mean()
        table.append({"method": m, "reps": reps, "rejection_rate": rate,
                      "rejection_se": float(np.sqrt(rate * (1 - rate) / reps)),
                      "coverage": float(np.nanmean(a[:, 1])) if np.isfinite(a[:, 1]).any()
                      else np.nan,
                      "mean_ci_width": float(np.nanmean(np.where(np.isfinite(a[:, 2]), a[:, 2],
                                                                 np.nan)))
                      if np.isfinite(a[:, 2]).any() else np.nan,
                      "bias": bias, "sd_estimate": sd})
    return pd.DataFrame(table)
