"""Aggregations of Callaway-Sant'Anna group-time effects and their inference.

Four summaries of ATT(g,t) (Callaway & Sant'Anna 2021, section 3):

* ``simple``   -- all post-treatment cells weighted by group size;
* ``group``    -- average effect per group, then averaged with group-size weights;
* ``dynamic``  -- event-time effects (e = t - g), overall = mean over e >= 0;
* ``calendar`` -- average effect per calendar period, overall = mean over periods.

Standard errors come from the aggregated influence function, including the estimation
effect of the group-share weights (as in R ``did::aggte``), either analytically or by the
multiplier bootstrap with Rademacher weights, which also gives uniform (simultaneous)
bands over the components.

Examples
--------
>>> res = gt.aggregate("dynamic", bootstrap=True, seed=1)     # doctest: +SKIP
>>> res.event_time()                                           # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ips_study.inference import DEFAULT_SEED
from ips_study.results import Results

KINDS = ("simple", "group", "dynamic", "calendar")


class AggregateResults(Results):
    """Aggregated staggered-adoption effect with its components (event time, groups, ...).

    ``tidy()`` has the overall effect first (term ``"ATT"``) followed by one row per
    component; ``event_time()`` holds the dynamic path; :meth:`plot` draws the components
    with pointwise and (if bootstrapped) uniform bands.
    """

    def plot(self, ax=None, **kwargs):
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        comp = self._tidy.iloc[1:]
        if comp.empty:
            return super().plot(ax=ax, **kwargs)
        x = comp["component"].to_numpy(float)
        if "uniform_low" in comp and comp["uniform_low"].notna().all():
            ax.fill_between(x, comp["uniform_low"], comp["uniform_high"], color="0.88",
                            label="uniform band")
        ax.errorbar(x, comp["estimate"],
                    yerr=[comp["estimate"] - comp["conf_low"], comp["conf_high"] - comp["estimate"]],
                    fmt="o-", color="black", capsize=2, label="estimate, pointwise CI", **kwargs)
        ax.axhline(0, color="0.5", lw=0.8)
        kind = self.extras.get("aggregation")
        if kind == "dynamic":
            ax.axvline(-0.5, color="0.5", lw=0.8, ls="--")
        ax.set_xlabel({"dynamic": "Event time", "group": "Group (first treated)",
                       "calendar": "Period"}.get(kind, ""))
        ax.set_ylabel("ATT")
        ax.legend(fontsize="small")
        ax.set_title(f"{kind} aggregation: {self.outcome}")
        return ax


def _weight_if(keep: np.ndarray, pg: np.ndarray, w: np.ndarray, unit_g: np.ndarray,
               cell_g: np.ndarray) -> np.ndarray:
    """Influence function of the weights pg_k / sum(pg) (n x len(keep))."""
    ind = np.column_stack([w * (unit_g == cell_g[k]) - pg[k] for k in keep])
    s = pg[keep].sum()
    if1 = ind / s
    if2 = ind.sum(axis=1)[:, None] * (pg[keep] / s ** 2)[None, :]
    return if1 - if2


def _agg_if(att, infl, keep, weights, wif=None) -> np.ndarray:
    out = infl[:, keep] @ weights
    if wif is not None:
        out = out + wif @ att[keep]
    return out


def aggregate(gt, kind: str = "simple", *, bootstrap: bool = False, n_boot: int = 999,
              seed: int | None = None, level: float = 0.95,
              balance_e: int | None = None) -> AggregateResults:
    """Aggregate a :class:`~ips_study.designs.staggered.GroupTimeResults`.

    Parameters
    ----------
    gt : GroupTimeResults
    kind : {"simple", "group", "dynamic", "calendar"}
    bootstrap : bool
        Multiplier bootstrap (Rademacher weights, ``n_boot`` draws, fixed ``seed``) for the
        standard errors and a uniform band over components; otherwise analytic.
    balance_e : int, optional
        Dynamic only: keep groups observed at least ``balance_e`` periods after treatment.

    Returns
    -------
    AggregateResults
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    t = gt._tidy
    att = t["estimate"].to_numpy(float)
    cg = t["group"].to_numpy(float)
    ct = t["time"].to_numpy(float)
    infl = gt._influence
    unit_g, w = gt._unit_groups, gt._unit_weights
    n = len(unit_g)
    pgg = {g: np.mean(w * (unit_g == g)) for g in gt._groups}
    pg = np.array([pgg[g] for g in cg])
    comps: list[tuple[float, float, np.ndarray]] = []   # (label, estimate, influence)
    if kind == "simple":
        keep = np.flatnonzero(cg <= ct)
        wk = pg[keep] / pg[keep].sum()
        overall = float(att[keep] @ wk)
        inf_overall = _agg_if(att, infl, keep, wk, _weight_if(keep, pg, w, unit_g, cg))
    elif kind == "group":
        glist = np.array(sorted(pgg))
        for g in glist:
            keep = np.flatnonzero((cg == g) & (ct >= g))
            wk = pg[keep] / pg[keep].sum()
            comps.append((g, float(att[keep] @ wk), _agg_if(att, infl, keep, wk)))
        pgl = np.array([pgg[g] for g in glist])
        est_g = np.array([c[1] for c in comps])
        inf_g = np.column_stack([c[2] for c in comps])
        idx = np.arange(len(glist))
        overall = float(est_g @ pgl / pgl.sum())
        inf_overall = _agg_if(est_g, inf_g, idx, pgl / pgl.sum(),
                              _weight_if(idx, pgl, w, unit_g, glist))
    elif kind == "dynamic":
        e_cell = ct - cg
        ok = np.ones(len(att), bool)
        if balance_e is not None:
            last = {g: ct[cg == g].max() - g for g in pgg}
            ok = np.array([last[g] >= balance_e for g in cg]) & (e_cell <= balance_e)
        for e in np.unique(e_cell[ok]):
            keep = np.flatnonzero(ok & (e_cell == e))
            wk = pg[keep] / pg[keep].sum()
            comps.append((e, float(att[keep] @ wk),
                          _agg_if(att, infl, keep, wk, _weight_if(keep, pg, w, unit_g, cg))))
        pos = [i for i, c in enumerate(comps) if c[0] >= 0]
        overall = float(np.mean([comps[i][1] for i in pos]))
        inf_overall = np.mean(np.column_stack([comps[i][2] for i in pos]), axis=1)
    else:
        for tt in np.unique(ct[ct >= min(pgg)]):
            keep = np.flatnonzero((ct == tt) & (cg <= ct))
            if len(keep) == 0:
                continue
            wk = pg[keep] / pg[keep].sum()
            comps.append((tt, float(att[keep] @ wk),
                          _agg_if(att, infl, keep, wk, _weight_if(keep, pg, w, unit_g, cg))))
        overall = float(np.mean([c[1] for c in comps]))
        inf_overall = np.mean(np.column_stack([c[2] for c in comps]), axis=1)

    inf_all = np.column_stack([inf_overall] + [c[2] for c in comps])
    est_all = np.array([overall] + [c[1] for c in comps])
    crit = stats.norm.ppf(0.5 + level / 2)
    if bootstrap:
        se_all, crit_u = multiplier_bootstrap(inf_all, n_boot=n_boot, seed=seed, level=level,
                                              band_columns=slice(1, None),
                                              clusters=gt._unit_clusters)
    else:
        se_all = analytic_se(inf_all, gt._unit_clusters)
        crit_u = np.nan
    labels = ["ATT"] + [f"{_prefix(kind)}={_fmt(c[0])}" for c in comps]
    tidy = pd.DataFrame({"estimate": est_all, "std_error": se_all}, index=labels)
    tidy["component"] = [np.nan] + [c[0] for c in comps]
    tidy["uniform_low"] = est_all - crit_u * se_all
    tidy["uniform_high"] = est_all + crit_u * se_all
    tidy.loc["ATT", ["uniform_low", "uniform_high"]] = np.nan
    event = None
    if kind == "dynamic":
        comp = tidy.iloc[1:]
        event = pd.DataFrame({"event_time": comp["component"].astype(int).to_numpy(),
                              "estimate": comp["estimate"].to_numpy(),
                              "std_error": comp["std_error"].to_numpy(),
                              "conf_low": (comp["estimate"] - crit * comp["std_error"]).to_numpy(),
                              "conf_high": (comp["estimate"] + crit * comp["std_error"]).to_numpy()})
    return AggregateResults(
        tidy, design="staggered", outcome=gt.outcome,
        inference="multiplier bootstrap" if bootstrap else "analytic (influence function)",
        n_obs=gt.n_obs, n_units=gt.n_units, main_term="ATT", level=level, event_time=event,
        extras={**gt.extras, "aggregation": kind,
                "uniform_critical_value": None if np.isnan(crit_u) else float(crit_u)},
        notes=gt.notes + (f"{kind} aggregation of ATT(g,t).",))


def cluster_sums(infl: np.ndarray, clusters: np.ndarray | None) -> np.ndarray:
    """Influence functions summed within clusters (rows = clusters); unchanged if None."""
    if clusters is None:
        return infl
    codes, _ = pd.factorize(clusters)
    out = np.zeros((codes.max() + 1, infl.shape[1]))
    np.add.at(out, codes, infl)
    return out


def analytic_se(infl: np.ndarray, clusters: np.ndarray | None = None) -> np.ndarray:
    """Standard errors ``sqrt(sum_c (sum_{i in c} psi_i)^2) / n`` (clusters = units if None)."""
    n = infl.shape[0]
    return np.sqrt(np.sum(cluster_sums(infl, clusters) ** 2, axis=0)) / n


def multiplier_bootstrap(infl: np.ndarray, *, n_boot: int = 999, seed: int | None = None,
                         level: float = 0.95, band_columns=slice(None),
                         clusters: np.ndarray | None = None):
    """Multiplier bootstrap of influence functions (Rademacher weights).

    Returns standard errors (interquartile-range based, robust to heavy tails, as in
    Callaway & Sant'Anna 2021, algorithm 1) and the critical value of the uniform band over
    ``band_columns``. With ``clusters`` (one label per unit) one multiplier is drawn per
    cluster, so dependence within municipalities is kept.

    Examples
    --------
    >>> import numpy as np
    >>> se, c = multiplier_bootstrap(np.random.default_rng(0).normal(size=(500, 3)), seed=1)
    >>> bool(c > 1.96)
    True
    """
    n, k = infl.shape
    infl = cluster_sums(infl, clusters)
    # one default seed for the package (the study configuration's), read in one place
    rng = np.random.default_rng(DEFAULT_SEED if seed is None else seed)
    draws = np.empty((n_boot, k))
    rows = infl.shape[0]
    chunk = max(1, int(2e7 // max(rows, 1)))
    for start in range(0, n_boot, chunk):
        m = min(chunk, n_boot - start)
        u = rng.integers(0, 2, size=(m, rows)) * 2.0 - 1.0
        draws[start:start + m] = u @ infl / np.sqrt(n)
    q75, q25 = np.quantile(draws, [0.75, 0.25], axis=0)
    sigma = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    se = sigma / np.sqrt(n)
    cols = np.arange(k)[band_columns]
    good = cols[sigma[cols] > 0]
    if len(good) == 0:
        return se, np.nan
    tmax = np.max(np.abs(draws[:, good] / sigma[good]), axis=1)
    return se, float(np.quantile(tmax, level))


def _prefix(kind: str) -> str:
    return {"group": "g", "dynamic": "e", "calendar": "t"}.get(kind, kind)


def _fmt(v) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)
