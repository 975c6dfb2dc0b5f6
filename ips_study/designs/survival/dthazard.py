"""Discrete-time hazard difference-in-differences: the bridge between the DiD and survival views.

Each person-month at risk of onset is one Bernoulli trial ``y_it = 1{onset in month t}``
(Allison 1982; Singer & Willett 1993). The model

    g(P(y_it = 1)) = delta * treated_i x post_t + period effects + municipality effects
                     + duration bands + age band + sex

with ``g`` = logit or complementary log-log (cloglog: ``delta`` is the log of a grouped-time
proportional hazard ratio, Prentice & Gloeckler 1978) is a difference-in-differences on the
hazard scale. Period and municipality effects are fixed effects (dummies).

Because every regressor is categorical, person-months are first collapsed to cells
(binomial counts); the likelihood and the cluster sums of scores are unchanged, so the
estimate and the clustered variance equal those of the person-month GLM at a fraction of the
cost. Clustered SEs: ``H^-1 (sum_g s_g s_g') H^-1 * G/(G-1) * (N-1)/(N-K)`` over
municipalities (of the index date, so that each person is in one cluster) with ``N``
person-months — the same CR1 sandwich as statsmodels' GLM ``cov_type="cluster"`` on the
uncollapsed data, which the tests check.

This module holds the person-month expansion and the GLM core (:func:`hazard_glm`); the model
is fitted through :func:`ips_study.discrete_hazard` (:mod:`.fitters`), and the register design
(:func:`.panel_fit.fit_dthazard`, ``fit_dthazard_panel``) is a thin adapter over it that passes
the index municipality as ``fe=`` and ``cluster=``.

Examples
--------
>>> import pandas as pd
>>> tte = pd.DataFrame({"start": [0, 0], "stop": [3, 2], "event": [1, 0], "entry": [0, 0],
...                     "origin_month": [2013 * 12, 2013 * 12]})
>>> person_months(tte)["y"].tolist()
[0, 0, 1, 0, 0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm

LINKS = ("logit", "cloglog")


def _months_at_risk(start: np.ndarray, stop: np.ndarray):
    """Each episode's months at risk ``start .. stop - 1``: the episode's row index, the
    analysis month ``k`` and whether it is the episode's last month, one entry per month."""
    length = stop - start
    rep = np.repeat(np.arange(len(length)), length)
    pos = np.arange(len(rep)) - np.repeat(np.cumsum(length) - length, length)
    return rep, start[rep] + pos, pos == length[rep] - 1


def person_months(tte: pd.DataFrame, *, cause: int = 1) -> pd.DataFrame:
    """Expand episodes into person-months at risk with ``y`` = event of ``cause`` that month.

    Adds ``k`` (analysis month), ``y``, ``calendar_month`` (months since year 0, from the
    episode's ``origin_month``) and ``duration`` (months since entry). A month ending in the
    competing event is at risk with ``y = 0`` (cause-specific hazard).
    """
    rep, k, last = _months_at_risk(tte["start"].to_numpy(), tte["stop"].to_numpy())
    out = tte.iloc[rep].reset_index(drop=True)
    out["k"] = k
    out["y"] = (last & (tte["event"].to_numpy()[rep] == cause)).astype(np.int8)
    out["calendar_month"] = out["origin_month"].to_numpy() + k
    out["duration"] = k - out["entry"].to_numpy()
    return out


def month_cells(tte: pd.DataFrame, *, cause: int = 1, covariates=(), cluster: str = "cluster",
                chunk: int = 16_384) -> pd.DataFrame:
    """Person-months at risk counted into cells, without the person-month rows.

    The same person-months as :func:`person_months`, expanded ``chunk`` episodes at a time
    and counted by ``treated``, ``calendar_month``, ``duration``, ``cluster`` and the
    ``covariates``: ``y`` the events of ``cause`` and ``n`` the person-months of each cell.
    Every regressor of the register design's discrete-time hazard GLM is a function of these
    keys, and its cluster (the index municipality) is one of them, so the GLM on the cells
    (:func:`hazard_glm` with ``trials="n"``) is the GLM on the person-months: the same cells
    of binomial counts, hence the same estimates, clustered and model-based covariances. The
    person-month frame (every episode column, about eight rows per episode) is never built.

    Examples
    --------
    >>> tte = pd.DataFrame({"start": [0, 0], "stop": [3, 2], "event": [1, 0], "entry": [0, 0],
    ...                     "origin_month": [2013 * 12] * 2, "treated": [1, 1], "cluster": ["a", "a"]})
    >>> c = month_cells(tte)
    >>> c[["calendar_month", "y", "n"]].values.tolist()[-1], int(c["n"].sum())
    ([24158, 1, 1], 5)
    """
    keys = list(dict.fromkeys(["treated", "calendar_month", "duration", cluster, *covariates]))
    start, stop = tte["start"].to_numpy(np.int64), tte["stop"].to_numpy(np.int64)
    event = tte["event"].to_numpy()
    entry, origin = tte["entry"].to_numpy(np.int64), tte["origin_month"].to_numpy(np.int64)
    parts = []
    for lo in range(0, len(tte), chunk):
        sl = slice(lo, lo + chunk)
        rep, k, last = _months_at_risk(start[sl], stop[sl])
        rows = {"treated": tte["treated"].to_numpy()[sl][rep],
                "calendar_month": origin[sl][rep] + k, "duration": k - entry[sl][rep]}
        for c in keys[3:]:
            rows[c] = tte[c].iloc[sl].to_numpy()[rep] if not isinstance(tte[c].dtype, pd.CategoricalDtype) \
                else tte[c].iloc[sl].take(rep).to_numpy()
        rows["y"] = (last & (event[sl][rep] == cause)).astype(np.int64)
        parts.append(pd.DataFrame(rows).groupby(keys, observed=True, sort=False)["y"]
                     .agg(y="sum", n="size").reset_index())
    if not parts:
        return pd.DataFrame({**{c: tte[c].iloc[:0] for c in keys if c in tte},
                             "calendar_month": np.array([], np.int64), "duration": np.array([], np.int64),
                             "y": np.array([], np.int64), "n": np.array([], np.int64)})[keys + ["y", "n"]]
    cells = pd.concat(parts, ignore_index=True)
    return cells.groupby(keys, observed=True, sort=True)[["y", "n"]].sum().reset_index()


def _cluster_cov(model, params, groups, n_obs: int) -> np.ndarray:
    """CR1 sandwich as statsmodels' GLM ``cov_type="cluster"``: G/(G-1) (N-1)/(N-K)."""
    scores = model.score_obs(params)
    codes = pd.factorize(pd.Series(groups))[0]
    G = codes.max() + 1
    S = np.zeros((G, scores.shape[1]))
    np.add.at(S, codes, scores)
    bread = np.linalg.pinv(-model.hessian(params))
    k = len(params)
    return bread @ (S.T @ S) @ bread * G / (G - 1) * (n_obs - 1) / (n_obs - k)


def hazard_glm(d: pd.DataFrame, *, y: str, treat: str, categorical=(), numeric=(),
               cluster: str, link: str = "cloglog", drop_aliased: bool = False,
               trials: str | None = None) -> dict:
    """Binomial GLM of ``y`` on ``treat``, dummies of ``categorical`` and ``numeric`` columns.

    Rows are collapsed to cells of identical regressors and cluster (binomial counts): the
    likelihood and the cluster sums of scores are unchanged, so the estimates and the CR1
    sandwich (clustered by ``cluster``, ``N`` = rows of ``d``) equal those of the row-level
    GLM. Dummies are named ``column_level`` (first level as text is the reference).
    ``trials``: the rows of ``d`` are cells already (:func:`month_cells`), ``y`` their events
    and this column their person-months; ``N`` is then its sum.
    ``drop_aliased`` takes out regressors that are linear combinations of earlier ones
    (reported under ``"aliased"``) instead of leaving them to the pseudo-inverse.

    Returns
    -------
    dict with ``params``, ``cov`` (clustered), ``names``, ``n_cells``, ``n_obs``,
    ``n_events``, ``n_clusters``, ``model_se``, ``model_cov`` (inverse information),
    ``aliased``.
    """
    from .cox import aliased_columns

    if link not in LINKS:
        raise ValueError(f"link must be one of {LINKS}")
    categorical, numeric = list(categorical), list(numeric)
    keys = list(dict.fromkeys([treat] + categorical + numeric + [cluster]))
    if trials is None:
        cells = d.groupby(keys, observed=True)[y].agg(["sum", "count"]).reset_index()
        n_obs = len(d)
    else:   # cells of cells: the counts add up to the same cells
        cells = d.groupby(keys, observed=True)[[y, trials]].sum().reset_index() \
            .rename(columns={y: "sum", trials: "count"})
        n_obs = int(d[trials].sum())
    X = pd.get_dummies(cells[categorical].astype(str), drop_first=True, dtype=float) \
        if categorical else pd.DataFrame(index=cells.index)
    for c in reversed(numeric):
        X.insert(0, c, cells[c].astype(float))
    X.insert(0, treat, cells[treat].astype(float))
    X.insert(0, "const", 1.0)
    # a regressor that is constant over cells (e.g. no treated-post cell) is not identified
    if X[treat].nunique() < 2:
        raise ValueError(f"{treat!r} does not vary: no treated post-period rows at risk")
    aliased = []
    if drop_aliased:
        aliased = [X.columns[1:][j] for j in aliased_columns(X.to_numpy()[:, 1:])]
        if treat in aliased:
            raise ValueError(f"{treat!r} is collinear with the fixed effects or covariates")
        X = X.drop(columns=aliased)
    endog = np.column_stack([cells["sum"], cells["count"] - cells["sum"]])
    fam_link = sm.families.links.CLogLog() if link == "cloglog" else sm.families.links.Logit()
    model = sm.GLM(endog, X, family=sm.families.Binomial(link=fam_link))
    res = model.fit(maxiter=100, tol=1e-10)
    cov = _cluster_cov(model, res.params.to_numpy(), cells[cluster], n_obs)
    return {"params": res.params, "cov": pd.DataFrame(cov, index=X.columns, columns=X.columns),
            "names": list(X.columns), "n_cells": len(cells), "n_obs": n_obs,
            "n_events": int(d[y].sum()), "n_clusters": int(cells[cluster].nunique()),
            "model_se": res.bse, "model_cov": res.cov_params(), "aliased": aliased}
