"""Survival models on any DataFrame: one call per model, a results object back.

``ips.cox``, ``ips.kaplan_meier``, ``ips.cumulative_incidence``, ``ips.fine_gray`` and
``ips.discrete_hazard`` take a DataFrame and column names, check the columns
(:mod:`._frame`: missing values, event coding, unknown causes are errors that name the
column, or rows are dropped and counted with ``missing="drop"``), and return
:class:`~._results.SurvivalRegressionResults` (``summary()``, ``params``, ``std_errors``,
``conf_int()``, ``pvalues``, ``hazard_ratios``, ``cov``, ``nobs``, ``n_events``, ``tidy()``,
``plot()``) or :class:`~._results.CurveResults` (curves per group with the log-rank or Gray
test, ``at_times``, ``plot(at_risk=True)``). The estimators are those of :mod:`.cox`,
:mod:`.km`, :mod:`.competing` and :mod:`.dthazard`, checked against R's ``survival`` and
``cmprsk`` (tests/reference/).

The event indicator must be boolean or 0/1; for other codings name the event value, as
R's ``Surv(time, status == 2)``: ``event="status", event_value=2``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(3)
>>> d = pd.DataFrame({"age": rng.normal(60, 8, 200), "arm": rng.choice(["a", "b"], 200)})
>>> d["time"] = rng.exponential(np.exp(-0.03 * (d["age"] - 60)))
>>> d["status"] = np.where(rng.uniform(size=200) < 0.8, 2, 1)      # R coding: 2 = event
>>> fit = cox(d, stop="time", event="status", event_value=2, covariates=["age", "arm"])
>>> fit.params.index.tolist(), fit.n_events == int((d["status"] == 2).sum())
(['age', 'arm[b]'], True)
>>> km = kaplan_meier(d, stop="time", event="status", event_value=2, by="arm")
>>> sorted(km.curves), km.test["df"]
(['a', 'b'], 1)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...formula import FormulaError, covariate_design, parse
from ._frame import (as_list, check_finite, competing_status, complete_rows, design,
                     design_order, is_numeric, labels, numeric_column)
from ._results import CurveResults, SurvivalRegressionResults
from ._riskset import event_indicator
from .competing import cumulative_incidence as _aalen_johansen
from .competing import fine_gray as _fine_gray
from .competing import gray_test
from .cox import CoxPH
from .dthazard import hazard_glm
from .km import at_times, km_curve, logrank_test

__all__ = ["cox", "kaplan_meier", "cumulative_incidence", "fine_gray", "discrete_hazard",
           "at_times", "SurvivalRegressionResults", "CurveResults"]


def _regression_tidy(names, aliased_all, params, cov) -> pd.DataFrame:
    """Tidy rows in the design's column order, NaN for columns taken out as not identified."""
    est = pd.Series(np.nan, index=aliased_all, dtype=float)
    se = est.copy()
    est[names] = params
    se[names] = np.sqrt(np.diag(cov))
    return pd.DataFrame({"estimate": est, "std_error": se})


def _formula_spec(formula, covariates):
    """The parsed covariates-only formula, or ``None``; refuses a formula with ``covariates=``."""
    if formula is None:
        return None
    if covariates is not None:
        raise FormulaError("give formula= or covariates=, not both")
    return parse(formula, outcome=False)


def _covariate_design(d: pd.DataFrame, covs: list[str], spec):
    """Identified design columns, the ones taken out, and every name in design order."""
    if spec is not None:
        d = covariate_design(d, spec)
        covs = list(d.columns)
    X, dropped = design(d, covs)
    names = {*X.columns, *dropped}
    return X, dropped, [n for n in design_order(d, covs) if n in names]


def _aliased_note(dropped) -> list[str]:
    if not dropped:
        return []
    return [f"Not identified (constant, or collinear with the covariates before them), "
            f"coefficient NaN as R's NA: {', '.join(map(repr, dropped))}."]


def cox(data: pd.DataFrame, *, stop: str, event: str, start: str | None = None,
        covariates=None, strata=None, cluster: str | None = None, weights: str | None = None,
        ties: str = "efron", event_value=None, robust: bool = False, missing: str = "raise",
        level: float = 0.95, formula: str | None = None) -> SurvivalRegressionResults:
    """Cox proportional hazards model (R ``coxph``), right-censored or counting-process data.

    Parameters
    ----------
    data : DataFrame
        One row per person, or per interval ``(start, stop]`` (delayed entry, time-varying
        covariates).
    stop, event : str
        Columns of the event/censoring time and the event indicator (boolean or 0/1, or
        any coding with ``event_value``).
    start : str, optional
        Column of the interval start (entry time); omit for right-censored data.
    covariates : list of str, optional
        Numeric columns enter as they are; text/categorical columns as treatment dummies
        ``name[level]``. Default: every column not used by another argument.
    formula : str, optional
        The covariates as a formula instead (covariates only, e.g. ``"~ age + C(sex) +
        log(x)"``; :mod:`ips_study.formula`); terms are labelled as written
        (``C(sex)[T.m]``). Not together with ``covariates``.
    strata : str or list of str, optional
        Separate baseline hazard per stratum.
    cluster : str, optional
        Cluster labels: Lin–Wei robust (sandwich) variance summed within clusters, as
        ``coxph(..., cluster = )``.
    weights : str, optional
        Case weights.
    ties : {"efron", "breslow"}
    event_value : scalar, optional
        The value of ``event`` that means an event (R's ``Surv(time, status == 2)``).
    robust : bool
        Sandwich variance by row when no ``cluster`` is given.
    missing : {"raise", "drop"}
        A missing value in a used column is an error naming the column, or the row is
        dropped (counted in ``notes``).
    level : float
        Confidence level.

    Returns
    -------
    SurvivalRegressionResults
        ``se_type`` is ``"model"``, ``"robust"`` or ``"cluster"``; ``zph()`` gives the
        proportional-hazards test.

    Raises
    ------
    MonotoneLikelihoodError
        A coefficient diverges (e.g. a level with no events); it is named.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [5., 8., 3., 9., 4., 7.], "d": [1, 0, 1, 1, 1, 0],
    ...                   "x": [1., 0., 0., 1., 1., 0.]})
    >>> round(float(cox(d, stop="t", event="d", covariates=["x"]).params["x"]), 4)   # R: 0.5644
    0.5644
    """
    strata, covs = as_list(strata), covariates
    spec = _formula_spec(formula, covariates)
    used = [stop, event, start, cluster, weights, *strata]
    if spec is not None:
        covs = spec.columns(data)
    elif covs is None:
        covs = [c for c in data.columns if c not in used]
    covs = as_list(covs)
    roles = {"stop": [stop], "event": [event], "start": as_list(start), "covariates": covs,
             "strata": strata, "cluster": as_list(cluster), "weights": as_list(weights)}
    d, notes = complete_rows(data, roles, missing=missing)
    ev = event_indicator(d[event], name=f"event column {event!r}", event_value=event_value)
    X, dropped, all_names = _covariate_design(d, covs, spec)
    fit = CoxPH(ties=ties).fit(
        X.to_numpy(float), numeric_column(d, stop, "stop"), ev,
        start=None if start is None else numeric_column(d, start, "start"),
        strata=labels(d, strata),
        weights=None if weights is None else numeric_column(d, weights, "weights"),
        cluster=None if cluster is None else d[cluster], names=list(X.columns))
    if cluster is not None:
        cov, se_type, units = fit.cov_robust_, "cluster", int(d[cluster].nunique())
    elif robust:
        cov, se_type, units = fit.robust_cov(np.arange(len(d))), "robust", len(d)
    else:
        cov, se_type, units = fit.cov_, "model", len(d)
    tidy = _regression_tidy(list(X.columns), all_names, fit.params_, cov)
    lr = 2 * (fit.loglik_ - fit.loglik0_)
    extras = {"loglik": fit.loglik_, "loglik_null": fit.loglik0_, "lr_test": lr,
              "n_iter": fit.n_iter_, "ties": ties, "strata": strata or None,
              "header": {"Ties": ties, "Log-likelihood": f"{fit.loglik_:.6g}"}}
    return SurvivalRegressionResults(
        tidy, cov=cov, se_type=se_type, n_events=int(ev.sum()), fit=fit, design="cox",
        outcome=event, n_obs=len(d), n_units=units, level=level, extras=extras,
        notes=tuple(notes + _aliased_note(dropped)))


def _groups(d: pd.DataFrame, by):
    by = as_list(by)
    return (np.full(len(d), "all", dtype=object) if not by else labels(d, by)), by


def _group_order(d: pd.DataFrame, by: list[str], grp: np.ndarray) -> list:
    """The groups in the order R's ``survfit``/``cuminc`` use: a categorical's categories,
    numbers by value (9 before 10), other labels as text."""
    present = pd.unique(grp)
    if len(by) == 1 and isinstance(d[by[0]].dtype, pd.CategoricalDtype):
        rank = {c: i for i, c in enumerate(d[by[0]].cat.categories)}
        return sorted(present, key=lambda g: rank.get(g, len(rank)))
    if all(isinstance(g, (int, float, np.integer, np.floating)) for g in present):
        return sorted(present)
    return sorted(present, key=str)


def kaplan_meier(data: pd.DataFrame, *, stop: str, event: str, start: str | None = None,
                 by=None, weights: str | None = None, event_value=None, level: float = 0.95,
                 missing: str = "raise") -> CurveResults:
    """Kaplan–Meier curves per group of ``by`` with the log-rank test across them.

    As R's ``survfit(Surv(start, stop, event) ~ by, conf.type = "log-log")`` and
    ``survdiff`` (``rho = 0``; delayed entry allowed). Arguments as :func:`cox`.

    Returns
    -------
    CurveResults
        ``curves`` (``time``, ``n_risk``, ``n_event``, ``surv``, ``std_err`` of log S,
        ``lower``, ``upper``), ``test`` (log-rank; ``None`` with one group), ``medians()``,
        ``at_times(times)``, ``summary()``, ``plot(at_risk=True)``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1., 2., 2., 3.], "e": [True, True, False, True]})
    >>> kaplan_meier(d, stop="t", event="e").curves["all"]["surv"].round(3).tolist()
    [0.75, 0.5, 0.0]
    """
    roles = {"stop": [stop], "event": [event], "start": as_list(start), "by": as_list(by),
             "weights": as_list(weights)}
    d, notes = complete_rows(data, roles, missing=missing)
    ev = event_indicator(d[event], name=f"event column {event!r}", event_value=event_value)
    grp, by = _groups(d, by)
    starts = np.full(len(d), -np.inf) if start is None else numeric_column(d, start, "start")
    stops = numeric_column(d, stop, "stop")
    w = None if weights is None else numeric_column(d, weights, "weights")
    if w is not None and (w < 0).any():
        # a negative case weight would take persons out of the risk set (as cox refuses)
        raise ValueError(f"weights={weights!r} has {int((w < 0).sum())} negative value(s)")
    curves = {}
    for g in _group_order(d, by, grp):
        r = grp == g
        curves[g] = km_curve(None if start is None else starts[r], stops[r], ev[r], level=level,
                             weights=None if w is None else w[r])
    test = None
    if len(curves) > 1:
        test = logrank_test(None if start is None else starts, stops, ev, grp, weights=w)
    return CurveResults(curves, kind="km", test=test, nobs=len(d), n_events=int(ev.sum()),
                        starts=starts, stops=stops, groups=grp, event_name=event, level=level,
                        notes=notes)


def cumulative_incidence(data: pd.DataFrame, *, stop: str, event: str, cause, by=None,
                         start: str | None = None, censored=0, strata=None, level: float = 0.95,
                         missing: str = "raise") -> CurveResults:
    """Aalen–Johansen cumulative incidence of ``cause`` per group, with Gray's test.

    ``event`` holds ``censored`` (default 0) or the code of the event that happened (number
    or text); every code other than ``cause`` and ``censored`` is a competing event. As R's
    ``cmprsk::cuminc`` (variance and Gray's test, optionally stratified by ``strata``).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1., 2., 2., 3., 4.], "s": [1, 2, 1, 0, 1]})
    >>> cumulative_incidence(d, stop="t", event="s", cause=1).curves["all"]["estimate"].round(3).tolist()
    [0.2, 0.4, 0.8]
    """
    strata = as_list(strata)
    roles = {"stop": [stop], "event": [event], "start": as_list(start), "by": as_list(by),
             "strata": strata}
    d, notes = complete_rows(data, roles, missing=missing)
    status = competing_status(d, event, cause, censored)
    grp, by = _groups(d, by)
    starts = np.full(len(d), -np.inf) if start is None else numeric_column(d, start, "start")
    stops = numeric_column(d, stop, "stop")
    curves = {}
    for g in _group_order(d, by, grp):
        r = grp == g
        if not (status[r] == 1).any():
            notes.append(f"group {g!r} has no event of cause {cause!r}: its curve is 0.")
            curves[g] = pd.DataFrame(columns=["time", "n_risk", "n_event", "n_other", "estimate",
                                              "variance", "std_error", "lower", "upper"],
                                     dtype=float)
            continue
        curves[g] = _aalen_johansen(starts[r], stops[r], status[r], cause=1, level=level)
    test = None
    if len(curves) > 1:
        test = gray_test(starts, stops, status, grp, cause=1, strata=labels(d, strata))
    return CurveResults(curves, kind="cuminc", test=test, nobs=len(d),
                        n_events=int((status == 1).sum()), starts=starts, stops=stops,
                        groups=grp, event_name=f"{event} = {cause}", level=level, notes=notes)


def fine_gray(data: pd.DataFrame, *, stop: str, event: str, cause, covariates=None,
              censored=0, se: str = "crr", cluster: str | None = None, missing: str = "raise",
              level: float = 0.95, formula: str | None = None) -> SurvivalRegressionResults:
    """Fine–Gray proportional subdistribution hazards of ``cause`` (R ``cmprsk::crr``).

    Event coding as :func:`cumulative_incidence`; ``covariates`` or ``formula`` as
    :func:`cox` (one of them is required). ``se``:
    ``"crr"`` (default; Fine & Gray's variance including the estimation of the censoring
    distribution, equal to ``crr``'s), ``"robust"`` (sandwich by person, as ``coxph`` on
    ``survival::finegray`` data) or ``"cluster"`` (sandwich by ``cluster``).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1., 2., 3., 4., 5., 6., 7., 8.], "s": [1, 2, 1, 0, 1, 2, 0, 1],
    ...                   "x": [1., 0., 1., 1., 0., 0., 1., 0.]})
    >>> fine_gray(d, stop="t", event="s", cause=1, covariates=["x"]).se_type
    'crr'
    """
    spec = _formula_spec(formula, covariates)
    if spec is None and covariates is None:
        raise TypeError("fine_gray needs covariates= (column names) or formula= ('~ x + C(g)')")
    covs = as_list(covariates) if spec is None else spec.columns(data)
    if se not in ("crr", "robust", "cluster"):
        raise ValueError(f"se must be 'crr', 'robust' or 'cluster', got {se!r}")
    if (se == "cluster") != (cluster is not None):
        raise ValueError("se='cluster' needs cluster=<column>, and cluster needs se='cluster'")
    roles = {"stop": [stop], "event": [event], "covariates": covs, "cluster": as_list(cluster)}
    d, notes = complete_rows(data, roles, missing=missing)
    status = competing_status(d, event, cause, censored)
    X, dropped, all_names = _covariate_design(d, covs, spec)
    fit = _fine_gray(numeric_column(d, stop, "stop"), status, X.to_numpy(float), cause=1,
                     names=list(X.columns))
    if se == "crr":
        cov = fit.cov_crr_
    elif se == "robust":
        cov = fit.cov_robust_
    else:
        cov = fit.robust_cov(d[cluster].to_numpy()[fit.subjects_])
    tidy = _regression_tidy(list(X.columns), all_names, fit.params_, cov)
    extras = {"n_competing": int((status == 2).sum()), "n_extended_rows": fit.n_extended_,
              "header": {"Cause": repr(cause), "Competing events": f"{int((status == 2).sum()):,}"}}
    return SurvivalRegressionResults(
        tidy, cov=cov, se_type=se, n_events=int((status == 1).sum()), fit=fit,
        design="fine-gray", outcome=f"{event} = {cause}", n_obs=len(d),
        n_units=int(d[cluster].nunique()) if cluster else len(d), level=level, extras=extras,
        notes=tuple(notes + _aliased_note(dropped)))


def discrete_hazard(data: pd.DataFrame, *, event: str, duration: str | None, time: str | None,
                    treat: str, cluster: str, covariates=None, fe=None, link: str = "cloglog",
                    duration_breaks=None, event_value=None, missing: str = "raise",
                    level: float = 0.95, formula: str | None = None,
                    se: str = "cluster") -> SurvivalRegressionResults:
    """Discrete-time hazard regression on person-period rows (a DiD on the hazard scale).

    ``g(P(event in period)) = b * treat + covariates + period effects (time) + baseline
    hazard (duration) + group effects (fe)`` with ``g`` the complementary log-log (``b`` a
    grouped-time log hazard ratio) or logit link. Clustered (CR1) standard errors by
    ``cluster``, as statsmodels' GLM ``cov_type="cluster"`` (docs/survival.md on R).

    Parameters
    ----------
    data : DataFrame
        One row per person and period at risk; ``event`` 1 in the period the event happens.
    event, duration, time, treat, cluster : str
        Event indicator; time since entry (one dummy per value, or bands cut at
        ``duration_breaks``; ``None`` for no duration dummies, e.g. when every person enters
        at one date and the period effects already span the duration); calendar period (one
        dummy per value; ``None`` for no period effects); the regressor of
        interest (numeric, e.g. treated x post); the cluster of the standard errors.
    covariates : list of str, optional
        Numeric columns stay numeric; text/categorical columns become dummies.
    formula : str, optional
        The covariates as a formula instead (``"~ x + C(g)"``, :mod:`ips_study.formula`);
        every term enters as a number. Not together with ``covariates``.
    fe : str or list of str, optional
        Columns of group fixed effects (e.g. municipality), separate from ``cluster``.
    link : {"cloglog", "logit"}
    se : {"cluster", "model"}
        Clustered (CR1) standard errors, or the inverse of the GLM information.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 4000
    >>> d = pd.DataFrame({"k": rng.integers(0, 4, n), "year": rng.integers(0, 3, n),
    ...                   "g": rng.integers(0, 20, n), "x": rng.normal(size=n)})
    >>> d["tr"] = ((d["g"] < 10) & (d["year"] == 2)).astype(int)
    >>> d["y"] = (rng.uniform(size=n) < 0.1 * np.exp(0.3 * d["tr"])).astype(int)
    >>> r = discrete_hazard(d, event="y", duration="k", time="year", treat="tr", cluster="g",
    ...                     covariates=["x"])
    >>> r.params.index.tolist()
    ['tr', 'x']
    """
    return _discrete_hazard(data, event=event, duration=duration, time=time, treat=treat,
                            cluster=cluster, covariates=covariates, fe=fe, link=link,
                            duration_breaks=duration_breaks, event_value=event_value,
                            missing=missing, level=level, formula=formula, se=se)


def _discrete_hazard(data, *, event, duration, time, treat, cluster, covariates, fe, link,
                     duration_breaks, event_value, missing, level, formula, se,
                     trials: str | None = None) -> SurvivalRegressionResults:
    """:func:`discrete_hazard`; with ``trials`` the rows of ``data`` are cells of that many
    person-periods with ``event`` events each (:func:`.dthazard.month_cells`), fitted as the
    person-periods they count (the GLM collapses rows to such cells anyway)."""
    if se not in ("cluster", "model"):
        raise ValueError(f"se must be 'cluster' or 'model', got {se!r}")
    spec = _formula_spec(formula, covariates)
    covs, fe = (as_list(covariates) if spec is None else spec.columns(data)), as_list(fe)
    roles = {"event": [event], "duration": as_list(duration), "time": as_list(time),
             "treat": [treat], "cluster": [cluster], "covariates": covs, "fe": fe,
             "trials": as_list(trials)}
    d, notes = complete_rows(data, roles, missing=missing)
    if trials is None:
        y = event_indicator(d[event], name=f"event column {event!r}", event_value=event_value)
    else:
        y = d[event].to_numpy(np.int64)
        if ((y < 0) | (y > d[trials].to_numpy())).any():
            raise ValueError(f"event counts in {event!r} must lie between 0 and {trials!r}")
    if not is_numeric(d[treat]):
        raise ValueError(f"treat column {treat!r} must be numeric or boolean (e.g. treated x "
                         f"post as 0/1), got dtype {d[treat].dtype}")
    if spec is not None:
        Z = covariate_design(d, spec)
        d, covs = d.assign(**{c: Z[c] for c in Z.columns}), list(Z.columns)
    numeric = [c for c in covs if is_numeric(d[c])]
    categorical_cov = [c for c in covs if c not in numeric]
    check_finite(d[[treat]].astype(float), "treat")
    check_finite(d[numeric].astype(float), "covariates")
    frame = pd.DataFrame({"__y": y.astype(int), treat: d[treat].astype(float).to_numpy(),
                          "period": 0 if time is None else d[time].to_numpy(),
                          "__cluster": d[cluster].to_numpy()})
    if trials is not None:
        frame["__n"] = d[trials].to_numpy(np.int64)
    if duration is not None:
        dur = d[duration]
        if duration_breaks is not None:
            dur = pd.cut(dur.to_numpy(float), list(duration_breaks) + [np.inf], right=False)
        frame["duration"] = np.asarray(dur).astype(str)
    for c in fe + categorical_cov + numeric:
        frame[c] = d[c].to_numpy()
    categorical = (["period"] * (time is not None) + ["duration"] * (duration is not None)
                   + [*fe, *categorical_cov])
    out = hazard_glm(frame, y="__y", treat=treat, categorical=categorical, numeric=numeric,
                     cluster="__cluster", link=link, drop_aliased=True,
                     trials=None if trials is None else "__n")
    prefixes = tuple(f"{c}_" for c in ["period", "duration", *fe])
    # covariate dummies named as in cox: name[level]
    rename = {f"{c}_{lev}": f"{c}[{lev}]" for c in categorical_cov
              for lev in pd.unique(frame[c].astype(str))}
    names = [rename.get(n, n) for n in out["names"]]
    out["aliased"] = [rename.get(n, n) for n in out["aliased"]]
    show = [n for n in names if n != "const" and (n == treat or n in numeric
                                                  or not n.startswith(prefixes))]
    # the covariates in the order given (the GLM design has the numeric ones first)
    rank = {c: i for i, c in enumerate(covs)}
    show.sort(key=lambda n: -1 if n == treat else rank.get(n, rank.get(n.split("[")[0], -1)))
    idx = [names.index(n) for n in show]
    cov = (out["cov"] if se == "cluster" else out["model_cov"]).to_numpy()[np.ix_(idx, idx)]
    tidy = pd.DataFrame({"estimate": out["params"].to_numpy()[idx],
                         "std_error": np.sqrt(np.diag(cov))}, index=show)
    hidden = [n for n in out["aliased"] if n.startswith(prefixes)]
    if hidden:
        notes.append(f"{len(hidden)} fixed-effect/duration dummies collinear with the others "
                     "were left out (e.g. duration and period coincide with one entry date).")
    notes += _aliased_note([n for n in out["aliased"] if n not in hidden])
    extras = {"link": link, "n_cells": out["n_cells"], "n_clusters": out["n_clusters"],
              "header": {"Link": link, "Clusters": f"{out['n_clusters']:,}"}}
    return SurvivalRegressionResults(
        tidy, cov=cov, se_type=se, n_events=out["n_events"], design="discrete hazard",
        outcome=event, n_obs=out["n_obs"], n_units=out["n_clusters"], main_term=treat,
        level=level, extras=extras, notes=tuple(notes))
