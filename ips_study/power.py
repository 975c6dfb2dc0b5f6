"""Power and minimum detectable effect of the one-treated-municipality design (issue 11).

Reviewers of a naturalistic experiment with one treated municipality ask first whether the
design could have detected an effect of the expected size (the published estimate is +5.6
workdays per person-year). This module answers by simulation, for a design = (treated
municipality, controls, window, outcome, inference method).

Approach (stated once, used everywhere):

1. **Calibrate once from a generated population** (:func:`calibrate`). A person-year panel
   from the synthetic generator (or from real data) gives the variance components of the
   controls' municipality-year means after municipality and year effects: the sampling
   noise from the persons behind each mean (``sigma``, measured by a person bootstrap), the
   municipality-year shock ``tau``, the AR(1) persistence ``rho``, and the municipality
   sizes. The treated municipality gives only its size, so an effect in the calibration
   data does not leak into the noise. :func:`calibration_check` compares the simulated
   spread of placebo estimates with the data's.
2. **Simulate municipality-year aggregates** (:func:`simulate_panel`):
   ``ybar_jt = a_j + u_jt``, ``u_jt = sqrt(tau^2 + sigma^2 / n_j) z_jt`` with ``z_j`` a unit
   AR(1) process, plus the effect in the treated municipality's post years. The DiD is then
   fitted by :func:`ips_study.designs.did.fit_panel` at municipality level (population
   weights), exactly as in the analysis, under the named inference method.
3. **One fit per replication for every effect size.** Every inference method here is
   translation-equivariant in a constant additive effect: adding ``delta`` to the treated
   post cells moves the estimate by exactly ``delta`` and leaves residuals, placebo
   estimates and the interval's width unchanged, so the interval at ``delta`` is the
   interval at 0 shifted by ``delta`` (checked by a test for every method, and available
   as ``mode="refit"``). The test of ``effect = 0`` at ``delta`` rejects when 0 is outside
   the shifted interval; the whole power curve and the minimum detectable effect (MDE) come
   from the replications' intervals, and several inference methods share one fit
   (``DidResults.with_inference``).

The naive comparison: cluster-robust standard errors with one treated cluster are far too
small (MacKinnon & Webb 2017), so their "power" (and the analytic power computed from them)
is mostly false rejection; :func:`compare_methods` shows it next to the honest methods.

Examples
--------
>>> vc = VarianceComponents.example(n_controls=19)
>>> res = power_curve(PowerDesign(vc, inference="placebo"), effects=[0, 20], reps=20, seed=1)
>>> list(res.table.columns)
['effect', 'power', 'power_se', 'reps']
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.config import StudyConfig


@dataclass(frozen=True)
class VarianceComponents:
    """Municipality-year variance structure of one outcome (see module docstring).

    ``sizes`` maps municipality code to persons per year (treated municipality included);
    ``sigma`` is the effective person-level SD of a municipality-year mean's sampling noise
    (after the persistent part absorbed by municipality effects), ``tau`` the SD of the
    municipality-year shock, ``rho`` the AR(1) coefficient of the residual, ``unit_sd`` the
    SD of municipality levels and ``mean`` the outcome mean.
    """

    outcome: str
    treated: str
    sizes: pd.Series
    sigma: float
    tau: float
    rho: float
    unit_sd: float = 0.0
    mean: float = 0.0

    @property
    def controls(self) -> list[str]:
        return [c for c in self.sizes.index if c != self.treated]

    @classmethod
    def example(cls, n_controls: int = 21, size: float = 100.0, sigma: float = 60.0,
                tau: float = 3.0, rho: float = 0.3) -> "VarianceComponents":
        """Equal-sized municipalities (an exchangeable design), for examples and tests."""
        codes = ["1804"] + [f"{9000 + j:04d}" for j in range(n_controls)]
        return cls("workdays", "1804", pd.Series(size, index=codes, dtype=float),
                   sigma, tau, rho, unit_sd=10.0, mean=100.0)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["sizes"] = {k: float(v) for k, v in self.sizes.items()}
        return d


def calibrate(panel: pd.DataFrame, *, outcome: str, config: StudyConfig | None = None,
              boot: int = 50, seed: int = 20130101) -> VarianceComponents:
    """Variance components of ``outcome`` from a person-period panel.

    Municipalities other than the treated one that adopted IPS in the window are left out
    (as in the DiD; a named ``config.controls`` list restricts the controls), and the treated municipality only gives its size: its post-period
    cells carry the effect under study, so the moments come from the controls (the same
    exchangeability that placebo inference assumes). The residuals ``r`` of the
    size-weighted two-way fixed-effects fit on the controls' municipality-year means hold
    two parts:

    * sampling noise from the persons behind each mean. Part of it is persistent (the same
      people stay in a municipality for years) and is absorbed by the municipality effects,
      so its contribution is measured directly: a Poisson bootstrap over persons
      (``boot`` draws, each person's rows share one weight) gives the variance ``v_jt`` of
      each cell's residual, and ``sigma`` is the person-level SD for which independent
      noise ``sigma^2 / n_jt`` leaves the same residual variance;
    * the municipality-year shock: ``tau^2 = (sum r^2 - sum v) / (N - U - T + 1)``
      (method of moments).

    ``rho`` is the pooled lag-1 autocorrelation of the standardised residuals, corrected
    for the within-demeaning bias ``-(1 + rho) / (T - 1)`` (Nickell 1981).

    Examples
    --------
    >>> from ips_study.designs.did import example_panel
    >>> vc = calibrate(example_panel(seed=1), outcome="workdays")
    >>> 12 < vc.sigma < 18      # the example's person-year noise has SD 15
    True
    """
    from ips_study.designs.twfe import Demeaner

    config = config or StudyConfig()
    df = panel
    treated = str(config.treated_municipality)
    if "ips_start" in df:
        other = (df["municipality"] != treated) & df["ips_start"].notna() & (
            pd.to_datetime(df["ips_start"]) <= config.window_end)
        df = df.loc[~other]
    if isinstance(config.controls, tuple):   # a named control list in the study file
        df = df.loc[df["municipality"].isin(set(config.controls) | {treated})]
    df = df.loc[df[outcome].notna()]
    if treated not in set(df["municipality"]):
        raise ValueError(f"treated municipality {treated} has no rows in the panel")
    treated_size = float(df.loc[df["municipality"] == treated].groupby("period").size().mean())
    # the treated municipality's cells carry the effect being studied: moments from controls
    df = df.loc[df["municipality"] != treated]
    cell, keys = pd.factorize(pd.MultiIndex.from_arrays([df["municipality"], df["period"]]),
                              sort=True)
    cells = pd.DataFrame({"municipality": keys.get_level_values(0),
                          "period": keys.get_level_values(1)})
    y = df[outcome].to_numpy(float)
    n = np.bincount(cell).astype(float)
    mean = np.bincount(cell, y) / n
    unit, ulab = pd.factorize(cells["municipality"], sort=True)
    period, plab = pd.factorize(cells["period"], sort=True)
    dm = Demeaner([unit, period], n)
    r = dm(mean)
    person, _ = pd.factorize(df["person_id"]) if "person_id" in df else (np.arange(len(df)), None)
    rng = np.random.default_rng(seed)
    rb = np.empty((boot, len(n)))
    for b in range(boot):
        w = rng.poisson(1.0, person.max() + 1)[person].astype(float)
        cnt = np.bincount(cell, w, minlength=len(n))
        mb = np.where(cnt > 0, np.bincount(cell, w * y, minlength=len(n)) / np.maximum(cnt, 1), mean)
        rb[b] = dm(mb)
    v = rb.var(axis=0, ddof=1)
    N, U, T = len(n), len(ulab), len(plab)
    dof = max(N - U - T + 1, 1)
    sigma2 = float(v.sum() * N / dof / np.sum(1.0 / n))
    tau2 = max(0.0, float((np.sum(r ** 2) - v.sum()) / dof))
    z = r / np.sqrt(tau2 + sigma2 / n)
    zz = np.full((U, T), np.nan)
    zz[unit, period] = z
    a, b_ = zz[:, 1:], zz[:, :-1]
    m = np.isfinite(a) & np.isfinite(b_)
    rho_hat = float(np.sum(a[m] * b_[m]) / np.sqrt(np.sum(a[m] ** 2) * np.sum(b_[m] ** 2)))
    k = 1.0 / (T - 1)
    rho = float(np.clip((rho_hat + k) / (1 - k), 0.0, 0.95))
    levels = pd.Series(mean).groupby(unit).mean()
    sizes = pd.Series(n).groupby(np.asarray(ulab)[unit]).mean()
    sizes = pd.concat([pd.Series({treated: treated_size}), sizes.sort_index()])
    return VarianceComponents(outcome, treated, sizes.rename("n_persons"),
                              math.sqrt(sigma2), math.sqrt(tau2), rho,
                              unit_sd=float(levels.std(ddof=1)), mean=float(y.mean()))


@dataclass(frozen=True)
class PowerDesign:
    """A design whose power is simulated.

    Parameters
    ----------
    components : VarianceComponents of the outcome (from :func:`calibrate`).
    inference : inference method of :mod:`ips_study.inference`.
    n_controls : number of control municipalities (default: all calibrated ones). Fewer
        are drawn at random without replacement in every replication; more are added with
        sizes resampled from the calibrated controls.
    pre_years, post_years : years before and from IPS start (window length).
    start_year : first year of the window (IPS starts at ``start_year + pre_years``).
    population_scale : multiplies every municipality size (e.g. calibrated on a small
        synthetic population, evaluated at the real target-group size).
    alpha : test level (two-sided).
    inference_options : passed to the inference method (e.g. ``reps`` for ``wild``).
    """

    components: VarianceComponents
    inference: str = "placebo"
    n_controls: int | None = None
    pre_years: int = 5
    post_years: int = 7
    start_year: int = 2008
    population_scale: float = 1.0
    alpha: float = 0.05
    inference_options: dict = field(default_factory=dict)

    def replace(self, **changes) -> "PowerDesign":
        return dataclasses.replace(self, **changes)

    @property
    def config(self) -> StudyConfig:
        s, e = self.start_year, self.start_year + self.pre_years + self.post_years - 1
        return StudyConfig(treated_municipality=self.components.treated,
                           ips_start=pd.Timestamp(f"{s + self.pre_years}-01-01"),
                           window_start=pd.Timestamp(f"{s}-01-01"),
                           window_end=pd.Timestamp(f"{e}-12-31"))


def _ar1(rng: np.random.Generator, U: int, T: int, rho: float) -> np.ndarray:
    z = np.empty((U, T))
    z[:, 0] = rng.standard_normal(U)
    innov = math.sqrt(1 - rho ** 2)
    for t in range(1, T):
        z[:, t] = rho * z[:, t - 1] + innov * rng.standard_normal(U)
    return z


def simulate_panel(design: PowerDesign, rng: np.random.Generator, effect: float = 0.0
                   ) -> pd.DataFrame:
    """One municipality-year aggregate panel drawn from the design's variance components.

    Columns as :func:`ips_study.panel.aggregate_panel` for one outcome: ``municipality``,
    ``period``, ``period_start``, ``treated``, ``post``, ``event_time``, ``n_persons`` and
    the outcome.

    >>> d = PowerDesign(VarianceComponents.example(n_controls=3), pre_years=2, post_years=2)
    >>> simulate_panel(d, np.random.default_rng(0)).shape
    (16, 8)
    """
    vc = design.components
    ctrl = vc.sizes.loc[vc.controls]
    k = len(ctrl) if design.n_controls is None else int(design.n_controls)
    if k < 1:
        raise ValueError("need at least one control municipality")
    if k <= len(ctrl):
        pick = np.sort(rng.choice(len(ctrl), k, replace=False)) if k < len(ctrl) else np.arange(k)
        c_codes = list(ctrl.index[pick])
        c_sizes = ctrl.to_numpy()[pick]
    else:
        extra = rng.choice(ctrl.to_numpy(), k - len(ctrl), replace=True)
        c_codes = list(ctrl.index) + [f"x{j:03d}" for j in range(k - len(ctrl))]
        c_sizes = np.r_[ctrl.to_numpy(), extra]
    codes = [vc.treated] + c_codes
    sizes = np.maximum(np.r_[vc.sizes[vc.treated], c_sizes] * design.population_scale, 1.0)
    T = design.pre_years + design.post_years
    years = design.start_year + np.arange(T)
    U = len(codes)
    sd = np.sqrt(vc.tau ** 2 + vc.sigma ** 2 / sizes)
    y = vc.mean + vc.unit_sd * rng.standard_normal(U)[:, None] + sd[:, None] * _ar1(rng, U, T, vc.rho)
    post = years >= design.start_year + design.pre_years
    y[0] += effect * post
    df = pd.DataFrame({"municipality": np.repeat(codes, T), "period": np.tile(years.astype(str), U)})
    df["period_start"] = pd.to_datetime(df["period"] + "-01-01")
    df["treated"] = (df["municipality"] == vc.treated).astype(np.int8)
    df["post"] = np.tile(post, U).astype(np.int8)
    df["event_time"] = np.tile(years - years[post][0], U)
    df["n_persons"] = np.repeat(np.round(sizes), T)
    df[vc.outcome] = y.ravel()
    return df


def _fit(design: PowerDesign, panel: pd.DataFrame, inference: str | None = None):
    from ips_study.designs.did import fit_panel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_panel(panel, outcome=design.components.outcome, config=design.config,
                         inference=inference or design.inference, level="municipality",
                         conf_level=1 - design.alpha, **design.inference_options)


def _rejects(lo: np.ndarray, hi: np.ndarray, effects: np.ndarray) -> np.ndarray:
    """reps x effects: is 0 outside the interval shifted by each effect?"""
    e = np.asarray(effects, float)[None, :]
    return (lo[:, None] + e > 0) | (hi[:, None] + e < 0)


def _mde(lo: np.ndarray, hi: np.ndarray, target: float) -> float:
    """Smallest positive effect whose rejection rate (from shifted intervals) reaches target."""
    cand = np.unique(-lo[np.isfinite(lo) & (lo < 0)])
    if len(cand) == 0:
        return 0.0 if np.mean(_rejects(lo, hi, [0.0])) >= target else math.inf
    cand = np.r_[0.0, np.nextafter(cand, np.inf)]
    rate = _rejects(lo, hi, cand).mean(axis=0)
    hit = np.flatnonzero(rate >= target)
    return float(cand[hit[0]]) if len(hit) else math.inf


@dataclass
class PowerResult:
    """Power by effect size for one design and inference method.

    ``table`` has ``effect``, ``power``, ``power_se`` (binomial) and ``reps``; ``intervals``
    holds each replication's estimate, interval at effect 0 and p-value.
    """

    design: PowerDesign
    table: pd.DataFrame
    intervals: pd.DataFrame
    mode: str
    seed: int

    def mde(self, power: float = 0.8) -> float:
        """Minimum detectable (positive) effect at ``power``.

        From the replications' intervals in ``mode="invert"`` (exact for the simulated
        replications); by linear interpolation of the power curve in ``mode="refit"``.
        """
        if self.mode == "invert":
            return _mde(self.intervals["lower"].to_numpy(), self.intervals["upper"].to_numpy(), power)
        t = self.table.loc[self.table["effect"] >= 0].sort_values("effect")
        above = np.flatnonzero(t["power"].to_numpy() >= power)
        if len(above) == 0:
            return math.inf
        i = above[0]
        if i == 0:
            return float(t["effect"].iloc[0])
        x0, x1 = t["effect"].iloc[i - 1], t["effect"].iloc[i]
        p0, p1 = t["power"].iloc[i - 1], t["power"].iloc[i]
        return float(x0 + (power - p0) * (x1 - x0) / (p1 - p0))

    def plot(self, ax=None, label: str | None = None, **kwargs):
        """Power curve with binomial 95% bands; returns the Axes."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.table
        line, = ax.plot(t["effect"], t["power"], "o-", label=label or self.design.inference, **kwargs)
        ax.fill_between(t["effect"], t["power"] - 1.96 * t["power_se"],
                        t["power"] + 1.96 * t["power_se"], color=line.get_color(), alpha=0.15)
        ax.axhline(0.8, color="0.5", ls=":", lw=1)
        ax.axhline(self.design.alpha, color="0.5", ls="--", lw=1)
        ax.set_ylim(0, 1)
        ax.set_xlabel(f"true effect on {self.design.components.outcome}")
        ax.set_ylabel("power")
        ax.legend()
        return ax

    def to_dict(self) -> dict[str, Any]:
        return {"inference": self.design.inference, "mode": self.mode, "seed": self.seed,
                "mde_80": self.mde(0.8), "table": self.table.to_dict(orient="records")}


def _rep_intervals(rng: np.random.Generator, design: PowerDesign,
                   methods: Sequence[str]) -> np.ndarray:
    """One replication: (estimate, lower, upper, p) per method from one fit."""
    out = np.empty((len(methods), 4))
    res = _fit(design, simulate_panel(design, rng), methods[0])
    for i, m in enumerate(methods):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the one-cluster warning, once per replication
            rm = res if i == 0 else res.with_inference(m, **design.inference_options)
        lo, hi = rm.conf_int().loc[rm.main_term]
        out[i] = (rm.estimate, lo, hi, rm.p_value)
    return out


def _draw_intervals(design: PowerDesign, reps: int, seed: int, methods: Sequence[str],
                    progress: bool = False, client=None) -> dict[str, np.ndarray]:
    """reps x 4 arrays (estimate, lower, upper, p) per method, one fit per replication.

    Replication ``r`` has its own random stream (:func:`ips_study.parallel.replicate`), so the
    arrays are the same serially and on any number of Dask workers.
    """
    from .parallel import replicate

    draws = np.stack(replicate(_rep_intervals, reps, seed=seed, args=(design, list(methods)),
                               client=client, progress=progress, desc="power"))
    return {m: draws[:, i, :] for i, m in enumerate(methods)}


def _rep_refit(rng: np.random.Generator, design: PowerDesign, effects: np.ndarray):
    """One replication of ``mode="refit"``: the same noise refitted with each effect added."""
    base = simulate_panel(design, rng)
    is_t = (base["treated"] == 1) & (base["post"] == 1)
    row, rej = np.empty(4), np.empty(len(effects), bool)
    for j, e in enumerate(effects):
        panel = base.assign(**{design.components.outcome: base[design.components.outcome] + e * is_t})
        res = _fit(design, panel)
        rej[j] = res.p_value <= design.alpha
        if j == 0:
            lo, hi = res.conf_int().loc[res.main_term]
            row[:] = (res.estimate - e, lo - e, hi - e, res.p_value)
    return row, rej


def _table(rej: np.ndarray, effects: np.ndarray, reps: int) -> pd.DataFrame:
    p = rej.mean(axis=0)
    return pd.DataFrame({"effect": effects, "power": p, "power_se": np.sqrt(p * (1 - p) / reps),
                         "reps": reps})


def power_curve(design: PowerDesign, effects: Sequence[float], *, reps: int = 200,
                seed: int = 20130101, mode: str = "invert", progress: bool = False,
                client=None) -> PowerResult:
    """Power of the test of ``effect = 0`` at each true effect size.

    Parameters
    ----------
    design : PowerDesign
    effects : true additive effects on the treated municipality's post-period mean.
    reps : replications; seed : the one seed of the simulation.
    mode : ``"invert"`` (one fit per replication, intervals shifted; see module docstring)
        or ``"refit"`` (the same noise with each effect added and refitted: a check, and
        the way for a method that is not translation-equivariant).
    client : a Dask client to spread the replications over (see :mod:`ips_study.parallel`);
        default the current client, else this process. The numbers do not depend on it.
    """
    from .parallel import replicate

    effects = np.asarray(effects, dtype=float)
    if mode == "invert":
        a = _draw_intervals(design, reps, seed, [design.inference], progress, client)[design.inference]
        rej = _rejects(a[:, 1], a[:, 2], effects)
    elif mode == "refit":
        rows = replicate(_rep_refit, reps, seed=seed, args=(design, effects), client=client,
                         progress=progress, desc="power")
        a = np.stack([r[0] for r in rows]) if rows else np.empty((0, 4))
        rej = np.stack([r[1] for r in rows]) if rows else np.empty((0, len(effects)), bool)
    else:
        raise ValueError("mode must be 'invert' or 'refit'")
    intervals = pd.DataFrame(a, columns=["estimate", "lower", "upper", "p_value"])
    return PowerResult(design, _table(rej, effects, reps), intervals, mode, seed)


def analytic_power(effect, se: float, alpha: float = 0.05):
    """Normal-approximation power ``Phi(d/se - z) + Phi(-d/se - z)`` of a z-test with a
    given standard error: what a naive calculation from cluster-robust SEs promises."""
    z = stats.norm.ppf(1 - alpha / 2)
    d = np.asarray(effect, float) / se
    return stats.norm.cdf(d - z) + stats.norm.cdf(-d - z)


def compare_methods(design: PowerDesign, effects: Sequence[float], *,
                    methods: Sequence[str] = ("cluster", "placebo", "placebo-t", "conley-taber",
                                              "ferman-pinto"),
                    reps: int = 200, seed: int = 20130101, power: float = 0.8,
                    progress: bool = False, client=None) -> pd.DataFrame:
    """Power and MDE of several inference methods on the same replications.

    One fit per replication; the other methods reuse it (``with_inference``). Adds the row
    ``cluster (analytic)``: the normal-approximation power from the mean cluster-robust
    standard error, i.e. what a naive power calculation promises.

    Returns a long table: ``method``, ``effect``, ``power``, ``power_se``, ``reps``,
    ``size`` (rejection rate at effect 0) and ``mde``.
    """
    effects = np.asarray(effects, dtype=float)
    methods = list(methods)
    draws = _draw_intervals(design, reps, seed, methods, progress, client)
    parts = []
    for m in methods:
        a = draws[m]
        t = _table(_rejects(a[:, 1], a[:, 2], effects), effects, reps)
        t.insert(0, "method", m)
        t["size"] = float(np.mean(_rejects(a[:, 1], a[:, 2], [0.0])))
        t["mde"] = _mde(a[:, 1], a[:, 2], power)
        parts.append(t)
    if "cluster" in draws:
        a = draws["cluster"]
        se = float(np.mean((a[:, 2] - a[:, 1]) / (2 * stats.norm.ppf(1 - design.alpha / 2))))
        p = analytic_power(effects, se, design.alpha)
        z = stats.norm.ppf(1 - design.alpha / 2)
        mde = float(se * (z + stats.norm.ppf(power)))
        parts.append(pd.DataFrame({"method": "cluster (analytic)", "effect": effects, "power": p,
                                   "power_se": 0.0, "reps": reps, "size": design.alpha, "mde": mde}))
    return pd.concat(parts, ignore_index=True)


def power_by(design: PowerDesign, parameter: str, values: Sequence[int], *, effect: float,
             reps: int = 200, seed: int = 20130101, power: float = 0.8,
             progress: bool = False, client=None) -> pd.DataFrame:
    """Power at ``effect`` and the MDE as one design parameter varies.

    ``parameter`` is ``"n_controls"`` (number of control municipalities) or ``"post_years"``
    (length of follow-up); any other :class:`PowerDesign` field also works. Each value uses
    the same seed (common random numbers across values where the draws line up).

    Returns ``parameter`` value, ``power``, ``power_se``, ``size`` and ``mde`` per value.
    """
    rows = []
    for v in values:
        d = design.replace(**{parameter: v})
        res = power_curve(d, [0.0, effect], reps=reps, seed=seed, progress=progress, client=client)
        t = res.table.set_index("effect")["power"]
        p = float(t.loc[effect])
        rows.append({parameter: v, "power": p, "power_se": math.sqrt(p * (1 - p) / reps),
                     "size": float(t.loc[0.0]), "mde": res.mde(power)})
    return pd.DataFrame(rows)


def plot_power_by(table: pd.DataFrame, ax=None, *, y: str = "mde", label: str | None = None,
                  **kwargs):
    """Plot a :func:`power_by` table (MDE or power against the varied parameter)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    x = table.columns[0]
    ax.plot(table[x], table[y], "o-", label=label, **kwargs)
    ax.set_xlabel({"n_controls": "number of control municipalities",
                   "post_years": "years of follow-up after IPS start"}.get(x, x))
    ax.set_ylabel({"mde": "minimum detectable effect (80% power)", "power": "power"}.get(y, y))
    if label:
        ax.legend()
    return ax


def plot_compare(table: pd.DataFrame, ax=None):
    """Power curves of :func:`compare_methods`, one line per method."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for m, t in table.groupby("method", sort=False):
        ls = "--" if "analytic" in m else "-"
        ax.plot(t["effect"], t["power"], marker="o", ls=ls, label=f"{m} (MDE {t['mde'].iloc[0]:.3g})")
    ax.axhline(0.8, color="0.5", ls=":", lw=1)
    ax.axhline(0.05, color="0.5", ls="--", lw=1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("true effect")
    ax.set_ylabel("power")
    ax.legend(fontsize="small")
    return ax


def _rep_placebo_rms(rng: np.random.Generator, design: PowerDesign) -> float:
    return float(_fit(design, simulate_panel(design, rng), "placebo").std_error)


def calibration_check(panel: pd.DataFrame, design: PowerDesign, *, reps: int = 100,
                      seed: int = 20130101, client=None,
                      progress: bool = False) -> dict[str, float]:
    """Does the calibrated simulation reproduce the data's spread of placebo estimates?

    Fits the DiD with placebo inference on the (calibration) panel itself and compares the
    root mean square of its placebo estimates (the ``std_error`` placebo inference reports)
    with the same statistic in ``reps`` simulated panels of the design. Returns the
    observed value, the simulated mean and 5 %/95 % quantiles, and the share of simulated
    values below the observed one (near 0 or 1 means the components do not fit).

    >>> from ips_study.designs.did import example_panel
    >>> p = example_panel(seed=4)
    >>> chk = calibration_check(p, PowerDesign(calibrate(p, outcome="workdays")), reps=20)
    >>> 0.0 < chk["share_below"] < 1.0
    True
    """
    from ips_study.designs.did import fit_panel

    vc = design.components
    cfg = design.config.replace(window_start=pd.Timestamp("1900-01-01"),
                                window_end=pd.Timestamp("2200-12-31"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        observed = fit_panel(panel, outcome=vc.outcome, config=cfg.replace(
            ips_start=pd.Timestamp(f"{design.start_year + design.pre_years}-01-01")),
            inference="placebo", level="municipality").std_error
    from .parallel import replicate

    sim = np.array(replicate(_rep_placebo_rms, reps, seed=seed, args=(design,), client=client,
                             progress=progress, desc="power: calibration check"))
    return {"observed_rms": float(observed), "simulated_mean": float(sim.mean()),
            "simulated_q05": float(np.quantile(sim, 0.05)),
            "simulated_q95": float(np.quantile(sim, 0.95)),
            "share_below": float(np.mean(sim < observed))}


def power_report(panel: pd.DataFrame, *, outcome: str = "workdays",
                 config: StudyConfig | None = None, inference: str = "placebo",
                 effects: Sequence[float] | None = None, reps: int = 200,
                 seed: int | None = None,
                 methods: Sequence[str] = ("cluster", "placebo", "placebo-t", "conley-taber",
                                           "ferman-pinto"),
                 n_controls: Sequence[int] = (5, 10, 15, 21, 30, 40),
                 post_years: Sequence[int] = (1, 2, 3, 4, 5, 7), client=None,
                 progress: bool = False) -> dict[str, Any]:
    """Everything the analysis reports about power, from one panel (for the reproduce run).

    Calibrates ``outcome`` on ``panel``, then returns ``components`` (dict),
    ``calibration_check``, ``compare`` (:func:`compare_methods` over ``effects``, default
    eight sizes up to 2.5 x the placebo MDE guess), ``by_controls`` and ``by_followup``
    (:func:`power_by` at the reference effect: the published +5.6 workdays per person-year
    for ``workdays``, else the middle of ``effects``), all with the study seed. ``client``: a
    Dask client for the replications (:mod:`ips_study.parallel`); the numbers do not depend on it.
    ``progress``: a bar (stderr) over each simulation's replications.
    """
    config = config or StudyConfig()
    seed = config.seed if seed is None else seed
    vc = calibrate(panel, outcome=outcome, config=config)
    pre = config.ips_start.year - config.window_start.year
    post = config.window_end.year - config.ips_start.year + 1
    design = PowerDesign(vc, inference=inference, pre_years=pre, post_years=post,
                         start_year=config.window_start.year)
    if effects is None:
        # the placebo MDE is of the order of 3 x the SD of the controls' estimates
        guess = 3.0 * math.sqrt(vc.tau ** 2 + vc.sigma ** 2 / float(vc.sizes.iloc[0])) * 1.5
        effects = np.linspace(0.0, 2.5 * guess, 8)
    effects = np.asarray(effects, float)
    ref = 5.6 if outcome == "workdays" else float(effects[len(effects) // 2])
    return {
        "components": vc.to_dict(),
        "calibration_check": calibration_check(panel, design, reps=min(reps, 100), seed=seed,
                                               client=client, progress=progress),
        "compare": compare_methods(design, effects, methods=methods, reps=reps, seed=seed,
                                   client=client, progress=progress),
        "by_controls": power_by(design, "n_controls", list(n_controls), effect=ref, reps=reps,
                                seed=seed, client=client, progress=progress),
        "by_followup": power_by(design, "post_years", list(post_years), effect=ref, reps=reps,
                                seed=seed, client=client, progress=progress),
        "reference_effect": ref,
    }
