"""Synthetic difference-in-differences (Arkhangelsky, Athey, Hirshberg, Imbens & Wager 2021).

Synthetic DiD ("syntetisk forskjell-i-forskjeller") reweights control municipalities (unit
weights omega, with an intercept, so that their pre-period *trend* matches the treated unit)
and pre-periods (time weights lambda, so that they resemble the post-period), then takes a
weighted difference in differences. From Arkhangelsky et al. (2021), "Synthetic
Difference-in-Differences", *American Economic Review* 111(12), Algorithm 1:

* unit weights: ``min ||omega_0 + omega' Y_pre,co - Y_pre,tr||^2 + zeta^2 T_pre ||omega||^2``
  over the simplex, with ``zeta = (N_tr T_post)^(1/4) sigma``, ``sigma`` the standard deviation
  of first differences of control outcomes in the pre-period;
* time weights: the same with the roles of units and periods swapped and ``zeta = 1e-6 sigma``;
* both solved by Frank-Wolfe with one sparsification step, as in the authors' R package.

The same solver gives synthetic control (no intercept, no time weights, near-zero ridge) and
plain DiD (uniform weights): ``method="sc"`` / ``"did"``, the three columns of their Table 1.

Inference (section 5 of the paper): ``"placebo"`` (Algorithm 4, the valid choice with a
single treated unit: re-assign treatment to controls), ``"jackknife"`` (Algorithm 3) and
``"bootstrap"`` (Algorithm 2); the last two need at least two treated units.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> rows = [(u, t, 0.1 * t + u % 3 + rng.normal(0, 0.1) + (2.0 if u == 0 and t >= 8 else 0),
...          int(u == 0 and t >= 8)) for u in range(12) for t in range(10)]
>>> df = pd.DataFrame(rows, columns=["unit", "time", "y", "d"])
>>> res = sdid(df, unit="unit", time="time", y="y", treat="d", replications=50)
>>> abs(res.estimate - 2.0) < 0.3
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.config import StudyConfig
from ips_study.designs.sdid_batch import solve_weights_batch
from ips_study.disclosure.drawn import mark_measures
from ips_study.designs.synth_data import (OutcomeMatrix, block_design_frame, outcome_matrix,
                                          plot_unit_weights)
from ips_study.inference import check_method
from ips_study.inference.table import dispatch
from ips_study.inference.placebo_engine import draw_assignments, resolve_seed, run_placebo
from ips_study.results import Results, refitter

from .roles import panel_roles, require_balanced, resolve_aliases

METHODS = ("sdid", "sc", "did")


def _simplex_weights(y: np.ndarray, zeta: float, *, intercept: bool, start: np.ndarray | None,
                     min_decrease: float, max_iter: int) -> np.ndarray:
    """Frank-Wolfe for regularised simplex weights; the last column of ``y`` is the target.

    Minimises ``zeta^2 ||x||^2 + ||A x - b||^2 / n`` over the simplex by Frank-Wolfe steps
    with exact line search, stopping when an iteration lowers the objective by less than
    ``min_decrease^2`` (the rule of the authors' R package ``synthdid``). The Gram matrix is
    formed once and updated along the step, so an iteration costs O(k), not O(nk).
    """
    n_rows, k = y.shape[0], y.shape[1] - 1
    x = np.full(k, 1.0 / k) if start is None else start.astype(float).copy()
    if intercept:
        y = y - y.mean(axis=0)
    a, b = y[:, :k], y[:, k]
    gram, ab, bb = a.T @ a, a.T @ b, float(b @ b)
    diag = np.diag(gram).copy()
    eta = n_rows * zeta ** 2
    gx = gram @ x
    prev = np.inf
    for it in range(max_iter):
        half_grad = gx - ab + eta * x
        i = int(np.argmin(half_grad))
        xx, xgx = float(x @ x), float(x @ gx)
        dxdx = xx - 2.0 * x[i] + 1.0
        if dxdx > 0:
            slope = half_grad[i] - float(half_grad @ x)
            derr2 = diag[i] - 2.0 * gx[i] + xgx
            step = min(1.0, max(0.0, -slope / (derr2 + eta * dxdx)))
            x *= 1.0 - step
            x[i] += step
            gx = (1.0 - step) * gx + step * gram[:, i]
        val = zeta ** 2 * float(x @ x) + (float(x @ gx) - 2.0 * float(x @ ab) + bb) / n_rows
        if it >= 1 and prev - val <= min_decrease ** 2:
            break
        prev = val
    return x


def _sparsify(v: np.ndarray) -> np.ndarray:
    v = np.where(v <= v.max() / 4, 0.0, v)
    return v / v.sum()


def _collapsed(Y: np.ndarray, n0: int, t0: int) -> np.ndarray:
    """Controls x pre-periods plus a post-period mean column and a treated-mean row."""
    top = np.column_stack([Y[:n0, :t0], Y[:n0, t0:].mean(axis=1)])
    bottom = np.append(Y[n0:, :t0].mean(axis=0), Y[n0:, t0:].mean())
    return np.vstack([top, bottom])


def solve_weights(Y: np.ndarray, n0: int, t0: int, *, method: str = "sdid",
                  max_iter: int = 10_000, sparsify: bool = True,
                  start_omega: np.ndarray | None = None,
                  start_lambda: np.ndarray | None = None) -> tuple[float, np.ndarray, np.ndarray]:
    """Estimate and weights on an outcome matrix (controls, then treated; pre, then post).

    Returns ``(estimate, omega, lambda)``; ``omega`` has ``n0`` entries and ``lambda``
    ``t0`` entries (zeros for synthetic control, whose estimate is a post-period gap).
    ``start_omega``/``start_lambda`` warm-start Frank-Wolfe (the placebo replications start
    from the full-sample weights, as the authors' ``synthdid`` does).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    n1, t1 = Y.shape[0] - n0, Y.shape[1] - t0
    if method == "did":
        omega, lam = np.full(n0, 1.0 / n0), np.full(t0, 1.0 / t0)
    else:
        sigma = np.std(np.diff(Y[:n0, :t0], axis=1), ddof=1)
        min_dec = 1e-5 * sigma
        yc = _collapsed(Y, n0, t0)
        if method == "sdid":
            zeta_omega = (n1 * t1) ** 0.25 * sigma
            lam = _fit(yc[:n0, :], 1e-6 * sigma, True, min_dec, max_iter, sparsify,
                       start_lambda)
            intercept = True
        else:
            zeta_omega, lam, intercept = 1e-6 * sigma, np.zeros(t0), False
        omega = _fit(yc[:, :t0].T, zeta_omega, intercept, min_dec, max_iter, sparsify,
                     start_omega)
    left = np.concatenate([-omega, np.full(n1, 1.0 / n1)])
    right = np.concatenate([-lam, np.full(t1, 1.0 / t1)])
    return float(left @ Y @ right), omega, lam


def _fit(y, zeta, intercept, min_dec, max_iter, sparsify, start=None):
    if start is not None and not start.sum() > 0:
        start = None
    w = _simplex_weights(y, zeta, intercept=intercept, start=start, min_decrease=min_dec,
                         max_iter=min(100, max_iter) if sparsify else max_iter)
    if sparsify:
        w = _simplex_weights(y, zeta, intercept=intercept, start=_sparsify(w),
                             min_decrease=min_dec, max_iter=max_iter)
    return w


class SDIDResults(Results):
    """Synthetic DiD results with unit/time weights and a trajectory plot."""

    def __init__(self, tidy, *, matrix: OutcomeMatrix, omega, lam, **kwargs):
        super().__init__(tidy, **kwargs)
        self._m, self._omega, self._lam = matrix, omega, lam

    @property
    def unit_weights(self) -> pd.Series:
        return pd.Series(self._omega, index=self._m.control_units, name="omega")

    @property
    def time_weights(self) -> pd.Series:
        return pd.Series(self._lam, index=self._m.times[: self._m.n_pre], name="lambda")

    def plot_weights(self, ax=None, top: int = 20):
        """Horizontal bars of the largest unit weights; returns Axes."""
        return plot_unit_weights(self.unit_weights, ax, top=top, xlabel="Unit weight (omega)",
                                 title="Synthetic DiD unit weights")

    def plot_effects(self, ax=None):
        """Effect by event time with placebo intervals (the event-time table); returns Axes."""
        return Results.plot(self, ax=ax)

    def plot(self, ax=None, **kwargs):
        """Treated mean and the omega-weighted control trajectory, time weights shaded."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        m = self._m
        tr = m.Y[m.n_control:].mean(axis=0)
        sc = self._omega @ m.Y[: m.n_control]
        x = np.arange(len(m.times))
        ax.plot(x, tr, color="black", label="treated")
        ax.plot(x, sc, color="0.5", ls="--", label="synthetic control (omega-weighted)")
        ax.axvline(m.n_pre - 0.5, color="0.5", lw=0.8)
        ax2 = ax.twinx()
        mark_measures(ax2.bar(x[: m.n_pre], self._lam, color="0.85", zorder=0), "time weight")
        ax2.set_yticks([])
        ax.set_zorder(ax2.get_zorder() + 1)
        ax.patch.set_visible(False)
        ticks = x[:: max(1, len(x) // 8)]
        ax.set_xticks(ticks, [str(m.times[i]) for i in ticks])
        ax.legend(fontsize="small")
        ax.set_title(f"Synthetic DiD: {self.outcome} ({self.estimate:.3g})")
        return ax


def period_effects(Y: np.ndarray, n0: int, omega: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Effect by period: gap to the omega-weighted controls minus the lambda-weighted
    pre-period gap; its post-period mean is the estimate. ``Y`` may be a stack (B, N, T)."""
    gap = Y[..., n0:, :].mean(axis=-2) - np.einsum("...n,...nt->...t", omega, Y[..., :n0, :])
    t0 = lam.shape[-1]
    return gap - np.einsum("...t,...t->...", lam, gap[..., :t0])[..., None]


def _placebo_variance(Y, n0, t0, method, replications, seed, omega,
                      lam) -> tuple[float, np.ndarray]:
    """Algorithm 4: random orderings of the controls, the last n1 placebo-treated
    (the shared placebo engine's ``"permutation"`` sampler)."""
    n1 = Y.shape[0] - n0
    if n0 <= n1:
        raise ValueError("placebo variance needs more control than treated units")
    a = draw_assignments(n0, n1, reps=replications, seed=seed, sampler="permutation",
                         enumerate=False)

    def batch(perms):
        # all permutations share one shape, so they are solved as a batch; each starts
        # from the full-sample weights of its units, as the authors' synthdid does
        om = omega[perms[:, : n0 - n1]]
        sums = om.sum(axis=1, keepdims=True)
        start_om = np.where(sums > 0, om / np.where(sums > 0, sums, 1.0), 1.0 / (n0 - n1))
        start_lam = np.tile(lam, (len(perms), 1)) if lam.sum() > 0 else None
        est, om_b, lam_b = solve_weights_batch(Y[perms], n0 - n1, t0, method=method,
                                               start_omega=start_om, start_lambda=start_lam)
        return np.column_stack([est, period_effects(Y[perms], n0 - n1, om_b, lam_b)])

    draws = run_placebo(a, batch=batch).draws
    shrink = np.sqrt((replications - 1) / replications)
    return (float(shrink * np.std(draws[:, 0], ddof=1)),
            shrink * np.std(draws[:, 1:], axis=0, ddof=1))


def _two_treated(Y, n0, inference) -> int:
    n1 = Y.shape[0] - n0
    if n1 < 2:
        raise ValueError(f"{inference} variance is not valid with a single treated unit "
                         "(Arkhangelsky et al. 2021, section 5); use inference='placebo'")
    return n1


def _bootstrap_variance(Y, n0, t0, method, replications, seed, omega, lam):
    """Algorithm 2: units resampled with replacement (needs two or more treated units)."""
    _two_treated(Y, n0, "bootstrap")
    rng = np.random.default_rng(seed)
    est = []
    while len(est) < replications:
        idx = rng.integers(0, Y.shape[0], Y.shape[0])
        n0b = int((idx < n0).sum())
        if n0b == 0 or n0b == len(idx):
            continue
        idx = np.sort(idx)
        est.append(solve_weights(Y[idx], n0b, t0, method=method)[0])
    return float(np.sqrt((replications - 1) / replications) * np.std(est, ddof=1)), None


def _jackknife_variance(Y, n0, t0, method, replications, seed, omega, lam):
    """Algorithm 3: the weights held fixed, renormalised after a control is dropped."""
    n1 = _two_treated(Y, n0, "jackknife")
    _, omega, lam = solve_weights(Y, n0, t0, method=method)
    n = Y.shape[0]
    est = []
    for i in range(n):
        keep = np.delete(np.arange(n), i)
        om = np.delete(omega, i) if i < n0 else omega
        if om.sum() <= 0:
            continue
        n1i = n1 - (i >= n0)
        left = np.concatenate([-om / om.sum(), np.full(n1i, 1.0 / n1i)])
        right = np.concatenate([-lam, np.full(Y.shape[1] - t0, 1.0 / (Y.shape[1] - t0))])
        est.append(left @ Y[keep] @ right)
    est = np.asarray(est)
    return float(np.sqrt((n - 1) / n * np.sum((est - est.mean()) ** 2))), None


#: standard error of the estimate (and, for the placebo, of each period effect) per inference
#: method; :func:`ips_study.inference.table.dispatch` checks the keys against the table
VARIANCE = {"placebo": _placebo_variance, "jackknife": _jackknife_variance,
            "bootstrap": _bootstrap_variance, "none": lambda *args: (np.nan, None)}


def sdid(data: pd.DataFrame, *, y: str | None = None, unit: str, time: str,
         treat: str | None = None, method: str = "sdid", inference: str | None = "placebo",
         replications: int = 200, seed: int | None = None, level: float = 0.95,
         outcome: str | None = None, treated: str | None = None) -> SDIDResults:
    """Synthetic DiD (or ``method="sc"``/``"did"``) on a long balanced unit x period frame.

    Parameters
    ----------
    data : DataFrame
        One row per unit and period.
    y, unit, time : str
        Outcome, unit and period columns (roles as :func:`ips_study.did`).
    treat : str
        Absorbing 0/1 column, 1 for treated units in treated periods (one common adoption
        period).
    outcome, treated : str, optional
        Older spellings of ``y`` and ``treat``.
    method : {"sdid", "sc", "did"}
    inference : {"placebo", "jackknife", "bootstrap"} or None
        Variance estimator (Arkhangelsky et al. 2021, Algorithms 2-4); ``None`` skips it.
    replications : int
        Placebo or bootstrap replications (fixed ``seed``; default
        :data:`ips_study.inference.DEFAULT_SEED`).

    Returns
    -------
    SDIDResults
    """
    inference = None if inference in (None, "none") else check_method("sdid", inference)
    outcome, treated = resolve_aliases("sdid", y, treat, outcome, treated)
    rp = panel_roles(data, y=outcome, unit=unit, time=time, treat=treated, can_drop=False)
    require_balanced(rp, "sdid")
    seed = resolve_seed(seed)
    m = outcome_matrix(data, unit=unit, time=time, outcome=outcome, treated=treated)
    est, omega, lam = solve_weights(m.Y, m.n_control, m.n_pre, method=method)
    se, se_t = dispatch("sdid", inference or "none", VARIANCE)(
        m.Y, m.n_control, m.n_pre, method, replications, seed, omega, lam)
    tidy = pd.DataFrame({"estimate": [est], "std_error": [se]}, index=["treated_post"])
    eff = period_effects(m.Y, m.n_control, omega, lam)
    se_t = np.full(len(eff), np.nan) if se_t is None else se_t
    crit = stats.norm.ppf(0.5 + level / 2)
    event = pd.DataFrame({"event_time": np.arange(len(eff)) - m.n_pre, "estimate": eff,
                          "std_error": se_t, "conf_low": eff - crit * se_t,
                          "conf_high": eff + crit * se_t})
    return SDIDResults(
        tidy, matrix=m, omega=omega, lam=lam, design=method, outcome=outcome,
        inference=inference or "none", n_obs=m.Y.size, n_units=m.Y.shape[0], level=level,
        event_time=event,
        extras={"unit_weights": dict(zip(map(str, m.control_units), omega)),
                "time_weights": dict(zip(map(str, m.times[: m.n_pre]), lam)),
                "n_treated_units": int(m.Y.shape[0] - m.n_control),
                "n_pre_periods": int(m.n_pre)},
        notes=(f"{method} estimator (Arkhangelsky et al. 2021); {inference} standard error "
               f"({replications} replications)." if inference in ("placebo", "bootstrap")
               else f"{method} estimator (Arkhangelsky et al. 2021).",),
        refit=refitter(sdid, data, y=outcome, unit=unit, time=time, treat=treated,
                       method=method, replications=replications, seed=seed))


def fit_panel(panel: pd.DataFrame, *, outcome: str, config: StudyConfig,
              inference: str | None = None, **options) -> SDIDResults:
    """Synthetic DiD of the treated municipality against never-exposed municipalities.

    The person-period panel is aggregated to municipality x period means
    (:func:`ips_study.designs.synth_data.block_design_frame`). ``inference`` defaults to
    ``"placebo"`` (one treated unit); ``options`` go to :func:`sdid` (``method``,
    ``replications``, ``seed``; the seed defaults to ``config.seed``).

    Examples
    --------
    >>> res = fit_panel(panel, outcome="workdays", config=StudyConfig())   # doctest: +SKIP
    """
    frame = block_design_frame(panel, outcome, config)
    options.setdefault("seed", config.seed)
    inference = check_method("sdid", inference)
    res = sdid(frame, unit="municipality", time="period", y=outcome,
               treat="treated_post", inference=inference, **options)
    return res
