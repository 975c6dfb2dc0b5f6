"""Entry points of the survival designs (CLI ``--design km|cox|cuminc|finegray|dthazard``).

Each takes a person-MONTH panel and returns a :class:`~ips_study.results.Results` subclass.
``outcome`` names the event of interest: ``"ltbd_onset"`` (default: onset of long-term
benefit dependence, sustained work competing) or ``"sustained_work"`` (the reverse). For
``km`` and ``cox`` the other event censors (cause-specific hazards); ``cuminc`` and
``finegray`` treat it as a competing event.

Shared keyword options: ``time_scale`` (``"index"``/``"calendar"``), ``exposure``
(``"current"``/``"baseline"``), ``exclude_prevalent`` — see :func:`.tte.build_tte`.

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.panel import build_panel                         # doctest: +SKIP
>>> cfg = StudyConfig(design="closed", freq="month")
>>> panel = build_panel(registers, cfg)                             # doctest: +SKIP
>>> res = fit_cox_panel(panel, outcome="ltbd_onset", config=cfg)    # doctest: +SKIP
>>> res.hazard_ratios().loc["exposed"]                              # doctest: +SKIP
>>> res.plot_schoenfeld()                                           # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ...config import StudyConfig
from ...inference.table import check_method, methods_for
from ...results import Results
from .competing import gray_test
from .cox import CoxPH
from ._results import SurvivalRegressionResults
from .dthazard import month_cells, person_months
from .fitters import cox as _cox_frame
from .fitters import cumulative_incidence as _cuminc_frame
from .fitters import _discrete_hazard
from .fitters import fine_gray as _fine_gray_frame
from .fitters import kaplan_meier
from .km import at_times, logrank_test, median_survival, plot_curves, risk_table
from .tte import EVENTS, build_tte, person_level

OUTCOMES = ("ltbd_onset", "sustained_work")
_TTE_KEYS = ("time_scale", "exposure", "exclude_prevalent", "age_breaks")
MIN_CLUSTERS = 30


def _cause(outcome: str | None) -> int:
    outcome = outcome or "ltbd_onset"
    if outcome not in OUTCOMES:
        raise ValueError(f"survival outcome must be one of {OUTCOMES} (the event), got {outcome!r}")
    return EVENTS[outcome]


def _prepare(panel, config, options):
    config = config or StudyConfig(design="closed")
    tte_opts = {k: options.pop(k) for k in _TTE_KEYS if k in options}
    tte = panel.episodes(config, **tte_opts) if hasattr(panel, "episodes") else build_tte(panel, config, **tte_opts)
    if tte.empty:
        raise ValueError("no person is at risk: the panel has no usable person-months")
    notes = []
    if config.design == "open":
        notes.append("Open-population panels drop months once the target rule fails (e.g. on "
                     "disability pension), so onset by disability is only partly seen; prefer a "
                     "closed-cohort panel (design = 'closed') for survival designs.")
    return config, tte, notes


def design_matrix(df: pd.DataFrame, covariates) -> pd.DataFrame:
    """Covariate matrix of the survival regressions (Cox, Fine–Gray, the stacked truth fits).

    Numeric columns are taken as they are (as float); text/categorical columns become
    treatment dummies named ``name[level]`` with the first level (sorted as text) as the
    reference. Columns that are constant in ``df`` (e.g. a dummy of an absent level, or
    ``treated`` in a one-group sample) are dropped, since they are not identified.

    Parameters
    ----------
    df : DataFrame
        Episodes or persons with the covariate columns.
    covariates : sequence of str
        Column names, in the order of the output (dummies of a column stay together).

    Returns
    -------
    DataFrame
        Same index as ``df``, float columns.

    Examples
    --------
    >>> d = pd.DataFrame({"exposed": [0, 1, 1], "age_band": ["18-24", "25-29", "18-24"]})
    >>> design_matrix(d, ["exposed", "age_band"]).columns.tolist()
    ['exposed', 'age_band[25-29]']
    """
    parts = []
    for c in covariates:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(c))
        else:
            dum = pd.get_dummies(col.astype(str), prefix=c, prefix_sep="[", dtype=float)
            dum.columns = [f"{x}]" for x in dum.columns]
            parts.append(dum.iloc[:, 1:])
    X = pd.concat(parts, axis=1)
    keep = X.std(axis=0) > 0
    return X.loc[:, keep]


def drop_eventless_levels(X: pd.DataFrame, event: np.ndarray):
    """Drop dummy columns (``name[level]``) whose level has no events, or only events.

    Such a level makes the partial likelihood monotone in its coefficient (it diverges);
    dropping the dummy merges the level into the reference level. Numeric columns are
    never dropped.

    Parameters
    ----------
    X : DataFrame
        From :func:`design_matrix`.
    event : ndarray of bool
        Event of interest per row of ``X``.

    Returns
    -------
    (DataFrame, list of str)
        ``X`` without those columns, and the dropped column names (for a note).

    Examples
    --------
    >>> X = pd.DataFrame({"exposed": [0., 1., 1.], "age_band[25-29]": [0., 0., 1.]})
    >>> drop_eventless_levels(X, np.array([True, True, False]))[1]
    ['age_band[25-29]']
    """
    dummies = [c for c in X.columns if c.endswith("]") and "[" in c]
    bad = [c for c in dummies if X.loc[event, c].sum() == 0 or X.loc[event, c].sum() == event.sum()]
    return X.drop(columns=bad), bad


def _group_labels(tte, group):
    if group == "treated_era":
        lab = tte["group"]
        return lab + "/" + tte["era"] if tte["era"].nunique() > 1 else lab
    return tte[group].astype(str)


def _contrast(est: pd.Series, se: pd.Series):
    """DiD of group values if both eras exist, else treated minus control."""
    if {"treated/pre", "treated/post", "control/pre", "control/post"} <= set(est.index):
        sign = pd.Series({"treated/post": 1, "treated/pre": -1, "control/post": -1, "control/pre": 1})
        name = "did"
    elif {"treated", "control"} <= set(est.index):
        sign = pd.Series({"treated": 1, "control": -1})
        name = "treated_minus_control"
    else:
        return None
    return name, float((sign * est[sign.index]).sum()), float(np.sqrt((se[sign.index] ** 2).sum()))


# -- Kaplan-Meier ---------------------------------------------------------------------------
class KMResults(Results):
    """Kaplan–Meier results: survival at a horizon per group plus curves and tests."""

    def __init__(self, tidy, *, curves, risk, medians, logrank, **kw):
        super().__init__(tidy, **kw)
        self._curves, self._risk, self._medians, self._logrank = curves, risk, medians, logrank

    def curves(self) -> dict:
        return {k: v.copy() for k, v in self._curves.items()}

    def risk_table(self) -> pd.DataFrame:
        return self._risk.copy()

    def medians(self) -> pd.DataFrame:
        return self._medians.copy()

    def logrank(self) -> dict:
        return dict(self._logrank)

    def plot(self, ax=None, **kwargs):
        """Kaplan–Meier curves with log-log bands per group; returns the Axes."""
        ax = plot_curves(self._curves, ax, ylabel=f"Free of {self.outcome}", level=self.level)
        ax.set_title(f"Kaplan–Meier: {self.outcome} (log-rank p = {self._logrank['p_value']:.3g})")
        return ax


def fit_km_panel(panel, *, outcome="ltbd_onset", config=None, inference=None, group="treated_era",
                 horizon: int = 36, level: float = 0.95, **options) -> KMResults:
    """Kaplan–Meier by group (default Bodø vs controls x index era), risk table, log-rank.

    The estimate is the survival difference at ``horizon`` months (a DiD of the four
    treated/control x pre/post curves when both eras are present), Greenwood SEs.
    """
    cause = _cause(outcome)
    config, tte, notes = _prepare(panel, config, options)
    if options:
        raise TypeError(f"unknown option(s) for km: {', '.join(options)}")
    d = tte.assign(grp=_group_labels(tte, group).to_numpy(), ev=(tte["event"] == cause).astype(int))
    km = kaplan_meier(d, start="start", stop="stop", event="ev", by="grp", level=level)
    curves = km.curves
    rows, est, se = {}, {}, {}
    for name, c in curves.items():
        v = at_times(c, [horizon]).iloc[0]
        est[name], se[name] = v["surv"], v["surv"] * v["std_err"]
        rows[f"surv_{horizon}m[{name}]"] = {"estimate": est[name], "std_error": se[name]}
    est, se = pd.Series(est), pd.Series(se)
    main = None
    con = _contrast(est, se)
    if con is not None:
        main = f"{con[0]}_surv_{horizon}m"
        rows = {main: {"estimate": con[1], "std_error": con[2]}, **rows}
    tidy = pd.DataFrame.from_dict(rows, orient="index")
    lr = km.test if km.test is not None else logrank_test(d["start"], d["stop"], d["ev"], d["grp"])
    med = pd.DataFrame({k: dict(zip(["median", "lower", "upper"], median_survival(c)))
                        for k, c in curves.items()}).T
    times = list(range(0, int(d["stop"].max()) + 1, 12))
    risk = risk_table(d, times, group="grp")
    n_min = int(d.groupby("grp")["person_id"].nunique().min())
    extras = {"logrank": {"statistic": lr["statistic"], "df": lr["df"], "p_value": lr["p_value"]},
              "medians": med.to_dict(orient="index"), "horizon_months": horizon,
              "n_persons": int(d["person_id"].nunique()), "n_events": int(d["ev"].sum())}
    return KMResults(tidy, curves=curves, risk=risk, medians=med, logrank=lr, design="km",
                     outcome=outcome or "ltbd_onset", inference="greenwood", n_obs=len(d),
                     n_units=int(d["person_id"].nunique()), main_term=main, level=level,
                     extras=extras, n_min=n_min, notes=tuple(notes))


# -- Cox ------------------------------------------------------------------------------------
class CoxResults(Results):
    """Cox (or Fine–Gray) results with the PH test and Schoenfeld plot."""

    def __init__(self, tidy, *, fit: CoxPH, **kw):
        super().__init__(tidy, **kw)
        self._fit = fit

    def hazard_ratios(self, level: float | None = None) -> pd.DataFrame:
        ci = np.exp(self.conf_int(level))
        return pd.concat([np.exp(self.params).rename("hazard_ratio"), ci], axis=1)

    def zph(self, transform: str = "km"):
        """Proportional-hazards test (R ``cox.zph`` with ``transform``); see :class:`.cox.ZPH`."""
        return self._fit.zph(transform)

    def plot_schoenfeld(self, term=None, ax=None, transform: str = "km"):
        """Scaled Schoenfeld residuals of ``term`` (default: the main term); returns Axes."""
        return self.zph(transform).plot(term or self.main_term, ax=ax)


def _cox_tidy(fit: CoxPH, cov) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    return pd.DataFrame({"estimate": fit.params_, "std_error": se,
                         "model_std_error": np.sqrt(np.diag(fit.cov_)),
                         "hazard_ratio": np.exp(fit.params_)}, index=fit.names_)


COX_INFERENCE = methods_for("cox")


def _pick_cov(fit, inference, cluster_codes, person_codes):
    if inference == "cluster":
        return fit.robust_cov(cluster_codes)
    if inference == "robust":
        return fit.robust_cov(person_codes)
    if inference == "model":
        return fit.cov_
    raise ValueError("inference must be 'cluster', 'robust' or 'model'")


def _placebo_ci_fn(tidy: pd.DataFrame, main: str, draws: pd.Series):
    """Intervals at any level: rank inversion for ``main``, normal (person-robust) for the rest."""
    from scipy import stats

    from .placebo import placebo_table

    def ci(level: float) -> pd.DataFrame:
        z = stats.norm.ppf(0.5 + level / 2)
        out = pd.DataFrame({"lower": tidy["estimate"] - z * tidy["std_error"],
                            "upper": tidy["estimate"] + z * tidy["std_error"]})
        pt = placebo_table(float(tidy.at[main, "estimate"]), draws, level)
        out.loc[main] = [pt["conf_low"], pt["conf_high"]]
        return out

    return ci


def fit_cox_panel(panel, *, outcome="ltbd_onset", config=None, inference=None,
                  covariates=("exposed", "treated", "age_band", "female"), strata=None,
                  ties: str = "efron", level: float = 0.95, **options) -> CoxResults:
    """Cox model with time-varying exposure; main term ``exposed`` (log hazard ratio).

    ``inference``:

    * ``"placebo"`` (default): placebo in space for the main term — the model refitted
      with each control municipality as the pseudo-treated one (exposure from the same
      ``ips_start``), p = rank of ``|estimate|`` among the J + 1, interval by inverting
      that rank test, ``std_error`` = root mean square of the placebo estimates (see
      :mod:`.placebo` for the assumptions). Other terms get the person-robust sandwich.
      Chosen as the default because there is one treated municipality: the municipality
      cluster sandwich then rests on one treated cluster and under-covers (docs/survival.md).
    * ``"cluster"``: Lin–Wei sandwich by index municipality, with a warning note when
      clusters or treated clusters are few;
    * ``"robust"``: sandwich by person; ``"model"``: inverse information.

    Whatever the choice, the tidy table carries ``model_std_error``, ``robust_std_error``
    and ``cluster_std_error`` for comparison. ``strata``: column name(s) with separate
    baseline hazards.
    """
    cause = _cause(outcome)
    config, tte, notes = _prepare(panel, config, options)
    if options:
        raise TypeError(f"unknown option(s) for cox: {', '.join(options)}")
    inference = check_method("cox", inference)
    X = design_matrix(tte, covariates)
    event = (tte["event"] == cause).to_numpy()
    X, merged = drop_eventless_levels(X, event)
    if merged:
        notes.append(f"No events at level(s) {', '.join(merged)}: merged into the reference "
                     "level (their coefficients would diverge).")
    st = None
    if strata:
        strata = [strata] if isinstance(strata, str) else list(strata)
        st = pd.factorize(tte[strata].astype(str).agg("|".join, axis=1))[0]
    frame = X.assign(_start=tte["start"].to_numpy(), _stop=tte["stop"].to_numpy(), _event=event)
    if st is not None:
        frame["_stratum"] = st
    fit = _cox_frame(frame, start="_start", stop="_stop", event="_event", covariates=list(X.columns),
                     strata="_stratum" if st is not None else None, ties=ties)._fit
    person = pd.factorize(tte["person_id"])[0]
    cov_robust = fit.robust_cov(person)
    cov_cluster = fit.robust_cov(tte["cluster"])
    covs = {"model": fit.cov_, "robust": cov_robust, "cluster": cov_cluster}
    cov = covs.get(inference, cov_robust)
    tidy = _cox_tidy(fit, cov)
    tidy["robust_std_error"] = np.sqrt(np.diag(cov_robust))
    tidy["cluster_std_error"] = np.sqrt(np.diag(cov_cluster))
    n_clusters = int(tte["cluster"].nunique())
    n_treated = int(tte.loc[tte["treated"] == 1, "cluster"].nunique())
    main = covariates[0] if covariates[0] in X.columns else X.columns[0]
    extras = {"loglik": fit.loglik_, "n_events": fit.n_events_, "ties": ties,
              "n_persons": int(tte["person_id"].nunique()), "n_clusters": n_clusters,
              "n_treated_clusters": n_treated,
              "strata": list(strata) if strata else None,
              "ph_test": fit.zph("km").table.to_dict(orient="index")}
    ci_fn = None
    if inference == "cluster" and (n_clusters < MIN_CLUSTERS or n_treated < 2):
        notes.append(f"{n_clusters} municipality clusters, {n_treated} treated: the Lin–Wei "
                     "sandwich is biased downward with few (treated) clusters; prefer "
                     "inference='placebo' (compare 'robust'/'model').")
    if inference == "placebo":
        from .placebo import placebo_draws, placebo_table

        if main != "exposed" or "exposed" not in X.columns:
            raise ValueError("placebo inference needs 'exposed' as the first covariate")
        draws = placebo_draws(tte, X, event, config, strata=st, ties=ties)
        pt = placebo_table(float(tidy.at[main, "estimate"]), draws, level)
        tidy.loc[main, ["std_error", "p_value", "conf_low", "conf_high"]] = \
            [pt["std_error"], pt["p_value"], pt["conf_low"], pt["conf_high"]]
        tidy["statistic"] = tidy["estimate"] / tidy["std_error"]
        rest = tidy.index != main
        tidy.loc[rest, "p_value"] = 2 * stats.norm.sf(np.abs(tidy.loc[rest, "statistic"]))
        z = stats.norm.ppf(0.5 + level / 2)
        tidy.loc[rest, "conf_low"] = tidy.loc[rest, "estimate"] - z * tidy.loc[rest, "std_error"]
        tidy.loc[rest, "conf_high"] = tidy.loc[rest, "estimate"] + z * tidy.loc[rest, "std_error"]
        ci_fn = _placebo_ci_fn(tidy, main, draws)
        extras.update(n_placebos=pt["n_placebos"], placebo_not_identified=pt["n_not_identified"],
                      placebo_p_value=pt["p_value"], placebo_half_width=pt["conf_high"] - tidy.at[main, "estimate"],
                      placebo_estimates=draws.dropna().to_dict())
        notes.append(f"Placebo in space over {pt['n_placebos']} control municipalities for "
                     f"'{main}': p = rank/(J+1), interval inverts the rank test, std_error = RMS "
                     "of placebo estimates; other terms: person-robust sandwich.")
        if pt["n_not_identified"]:
            notes.append(f"{pt['n_not_identified']} control municipalities left out as placebos: "
                         "no event in their exposed or pre-IPS time (not identified).")
        if pt["n_placebos"] + 1 < 1 / (1 - level):
            notes.append(f"with {pt['n_placebos']} placebos the {level:.0%} interval is unbounded")
    return CoxResults(tidy, fit=fit, design="cox", outcome=outcome or "ltbd_onset",
                      inference=inference, n_obs=len(tte),
                      n_units=n_clusters if inference in ("cluster", "placebo")
                      else int(tte["person_id"].nunique()),
                      main_term=main, level=level, extras=extras, conf_int_fn=ci_fn,
                      notes=tuple(notes))


# -- competing risks ------------------------------------------------------------------------
class CumincResults(Results):
    """Aalen–Johansen cumulative incidence per group with Gray's test."""

    def __init__(self, tidy, *, curves, gray, **kw):
        super().__init__(tidy, **kw)
        self._curves, self._gray = curves, gray

    def curves(self) -> dict:
        return {k: v.copy() for k, v in self._curves.items()}

    def gray(self) -> dict:
        return dict(self._gray)

    def plot(self, ax=None, **kwargs):
        """Cumulative incidence curves with pointwise bands; returns the Axes."""
        ax = plot_curves(self._curves, ax, ylabel=f"Cumulative incidence of {self.outcome}",
                         cumulative=True, level=self.level)
        ax.set_ylim(0, min(1.02, max(float(c["upper"].max(skipna=True)) for c in
                                     self._curves.values()) * 1.1 + 0.02))
        ax.set_title(f"Cumulative incidence: {self.outcome} (Gray p = {self._gray['p_value']:.3g})")
        return ax


def fit_cuminc_panel(panel, *, outcome="ltbd_onset", config=None, inference=None,
                     group="treated_era", horizon: int = 36, level: float = 0.95,
                     **options) -> CumincResults:
    """Cumulative incidence of ``outcome`` with the other event competing, by group.

    The estimate is the CIF difference at ``horizon`` months (DiD over eras when both are
    present); Gray's test compares the whole curves.
    """
    cause = _cause(outcome)
    config, tte, notes = _prepare(panel, config, options)
    if options:
        raise TypeError(f"unknown option(s) for cuminc: {', '.join(options)}")
    grp = _group_labels(tte, group).to_numpy()
    ci = _cuminc_frame(tte.assign(grp=grp), stop="stop", event="event", cause=cause, by="grp",
                       start="start", level=level)
    curves, rows, est, se = ci.curves, {}, {}, {}
    for name in sorted(set(grp)):
        c = curves[name]
        idx = np.searchsorted(c["time"].to_numpy(), horizon, side="right") - 1
        est[name] = float(c["estimate"].iloc[idx]) if idx >= 0 else 0.0
        se[name] = float(c["std_error"].iloc[idx]) if idx >= 0 else 0.0
        rows[f"cif_{horizon}m[{name}]"] = {"estimate": est[name], "std_error": se[name]}
    con = _contrast(pd.Series(est), pd.Series(se))
    main = None
    if con is not None:
        main = f"{con[0]}_cif_{horizon}m"
        rows = {main: {"estimate": con[1], "std_error": con[2]}, **rows}
    gray = ci.test if ci.test is not None else gray_test(tte["start"], tte["stop"], tte["event"],
                                                         grp, cause=cause)
    extras = {"gray_test": {k: gray[k] for k in ("statistic", "df", "p_value")},
              "horizon_months": horizon, "n_persons": int(tte["person_id"].nunique()),
              "n_events": int((tte["event"] == cause).sum()),
              "n_competing": int(((tte["event"] > 0) & (tte["event"] != cause)).sum())}
    n_min = int(pd.Series(tte["person_id"].to_numpy()).groupby(grp).nunique().min())
    return CumincResults(pd.DataFrame.from_dict(rows, orient="index"), curves=curves, gray=gray,
                         design="cuminc", outcome=outcome or "ltbd_onset", inference="aalen-johansen",
                         n_obs=len(tte), n_units=int(tte["person_id"].nunique()), main_term=main,
                         level=level, extras=extras, n_min=n_min, notes=tuple(notes))


def fit_finegray_panel(panel, *, outcome="ltbd_onset", config=None, inference=None,
                       covariates=("treated", "female", "age_band"), **options) -> CoxResults:
    """Fine–Gray subdistribution hazards of ``outcome``; covariates fixed at the index date.

    Needs entry at the index date (``time_scale="index"``, forced here). ``inference``:
    ``"crr"`` (default; Fine & Gray's variance with the censoring-distribution term, as
    ``cmprsk::crr``), ``"robust"`` (sandwich by person, as ``coxph`` on ``finegray`` data) or
    ``"cluster"`` (sandwich by index municipality).
    """
    cause = _cause(outcome)
    options.setdefault("time_scale", "index")
    if options["time_scale"] != "index":
        raise ValueError("Fine–Gray needs entry at the index date: use time_scale='index'")
    config, tte, notes = _prepare(panel, config, options)
    if options:
        raise TypeError(f"unknown option(s) for finegray: {', '.join(options)}")
    inference = check_method("fine_gray", inference)
    first = tte.groupby("person_id", sort=False).first()
    persons = person_level(tte).set_index(first.index)
    X = design_matrix(first, covariates)
    X, merged = drop_eventless_levels(X, (persons["status"] == cause).to_numpy())
    if merged:
        notes.append(f"No events at level(s) {', '.join(merged)}: merged into the reference level.")
    frame = X.assign(_time=persons["time"].to_numpy(float), _status=persons["status"].to_numpy())
    fit = _fine_gray_frame(frame, stop="_time", event="_status", cause=cause,
                           covariates=list(X.columns))._fit
    if inference == "cluster":
        cov = fit.robust_cov(persons["cluster"].to_numpy()[fit.subjects_])
    elif inference == "robust":
        cov = fit.cov_robust_
    elif inference == "crr":
        cov = fit.cov_crr_
    else:
        raise ValueError("inference must be 'crr', 'robust' or 'cluster' for finegray")
    extras = {"n_events": int((persons["status"] == cause).sum()),
              "n_competing": int(((persons["status"] > 0) & (persons["status"] != cause)).sum()),
              "n_extended_rows": fit.n_extended_, "n_persons": len(persons)}
    return CoxResults(_cox_tidy(fit, cov), fit=fit, design="finegray",
                      outcome=outcome or "ltbd_onset", inference=inference, n_obs=len(persons),
                      n_units=len(persons) if inference != "cluster" else int(persons["cluster"].nunique()),
                      main_term=X.columns[0], extras=extras, notes=tuple(notes))


# -- discrete-time hazard DiD ---------------------------------------------------------------
def fit_dthazard(pm: pd.DataFrame, *, term: str = "treated_post", link: str = "cloglog",
                 period: str = "year", duration_breaks=(0, 6, 12, 24, 36, 60),
                 covariates=("age_band", "female"), cluster: str = "cluster",
                 se: str = "cluster", trials: str | None = None) -> SurvivalRegressionResults:
    """The register design's discrete-time hazard DiD: :func:`~.fitters.discrete_hazard` on
    person-months (see :mod:`.dthazard`).

    The index municipality (``cluster``) is both the fixed-effect group (``fe=``) and the
    cluster of the standard errors; period effects by calendar ``"year"`` or ``"month"``;
    duration bands cut at ``duration_breaks``, left out when every person enters at one
    date (closed cohort), because duration and calendar time then coincide.

    Parameters
    ----------
    pm : DataFrame
        Output of :func:`.dthazard.person_months` with ``term`` (derived by the caller),
        ``y``, ``calendar_month``, ``duration``, ``cluster`` and the covariates.
    term : str
        The DiD regressor (``"treated_post"`` or ``"exposed"``).
    se : {"cluster", "model"}
    trials : str, optional
        ``pm`` holds cells of person-months (:func:`.dthazard.month_cells`: ``y`` the events,
        this column the person-months) instead of one row per person-month; the fit is the
        same.

    Returns
    -------
    SurvivalRegressionResults
        Rows ``term`` and the covariates (numeric ones as numbers, text ones as
        ``name[level]`` dummies); ``extras`` has ``n_cells`` and ``n_clusters``.
    """
    cal = pm["calendar_month"].to_numpy()
    d = pd.DataFrame({term: pm[term].to_numpy(), "y": pm["y"].to_numpy(),
                      "period": cal // 12 if period == "year" else cal,
                      "municipality": pm[cluster].astype(str).to_numpy(),
                      "duration": pm["duration"].to_numpy()})
    for c in covariates:
        d[c] = pm[c].to_numpy()
    if trials is not None:
        d["__n"] = pm[trials].to_numpy()
    staggered = (pm["calendar_month"] - pm["duration"]).nunique() > 1
    return _discrete_hazard(d, event="y", duration="duration" if staggered else None,
                            duration_breaks=duration_breaks, time="period", treat=term,
                            cluster="municipality", covariates=list(covariates), fe="municipality",
                            link=link, event_value=None, missing="raise", level=0.95, formula=None,
                            se=se, trials=None if trials is None else "__n")


def fit_dthazard_panel(panel, *, outcome="ltbd_onset", config=None, inference=None,
                       link: str = "cloglog", period: str = "year", term: str = "treated_post",
                       covariates=("age_band", "female"), **options) -> Results:
    """Discrete-time hazard DiD (person-month cloglog/logit); main term ``treated_post``.

    ``inference``: ``"placebo"`` (default for ``term="treated_post"``: placebo in space, the
    GLM refitted on the controls-only person-months with each control municipality as the
    treated one from the same ``ips_start``; rank p-value, inverted interval and RMS standard
    error as for ``cox``, see :mod:`.placebo`; other terms keep the clustered SE), ``"cluster"``
    (municipality of the index date; the default for other terms; with one treated
    municipality it rejected a true null 40 % of the time at 5 %, docs/survival.md) or
    ``"model"``.
    """
    cause = _cause(outcome)
    config, tte, notes = _prepare(panel, config, options)
    if options:
        raise TypeError(f"unknown option(s) for dthazard: {', '.join(options)}")
    inference = inference or ("placebo" if term == "treated_post" else "cluster")
    pm, trials = _months(tte, cause, term, covariates)
    ips = config.ips_start.year * 12 + config.ips_start.month - 1
    pm["treated_post"] = (pm["treated"].to_numpy() * (pm["calendar_month"].to_numpy() >= ips)).astype(int)
    inference = check_method("discrete_hazard", inference)
    fit = fit_dthazard(pm, term=term, link=link, period=period, covariates=covariates,
                       se="model" if inference == "model" else "cluster", trials=trials)
    tidy = fit.tidy()[["estimate", "std_error"]]
    tidy["exp_estimate"] = np.exp(tidy["estimate"])
    n_clusters = fit.extras["n_clusters"]
    ci_fn, extra_pl = None, {}
    if inference == "placebo":
        tidy, ci_fn, extra_pl = _dthazard_placebo(pm, tidy, config, ips, term=term, link=link,
                                                  period=period, covariates=covariates, notes=notes,
                                                  trials=trials)
    if inference == "cluster" and n_clusters < MIN_CLUSTERS:
        notes.append(f"Only {n_clusters} municipality clusters: clustered SEs are "
                     "unreliable with few clusters.")
    notes.extend(fit.notes)
    extras = {"link": link, "period_effects": period, "n_events": fit.n_events,
              "n_cells": fit.extras["n_cells"], "n_clusters": n_clusters,
              "n_persons": int(tte["person_id"].nunique()), **extra_pl}
    return Results(tidy, design="dthazard", outcome=outcome or "ltbd_onset", inference=inference,
                   n_obs=fit.nobs, n_units=n_clusters if inference != "model"
                   else int(tte["person_id"].nunique()), main_term=term, extras=extras,
                   conf_int_fn=ci_fn, notes=tuple(notes))


def _months(tte: pd.DataFrame, cause: int, term: str, covariates):
    """The person-months the GLM is fitted on: counted into cells (:func:`.dthazard.month_cells`;
    the column of person-months returned beside them) when every regressor is a function of
    the cell keys, else one row per person-month (``None``)."""
    keys = ["treated", "cluster", *covariates]
    if term in ("treated_post", "treated") and all(c in tte for c in keys) \
            and not tte[keys].isna().to_numpy().any():
        return month_cells(tte, cause=cause, covariates=covariates), "n"
    # a missing key (the GLM's error counts rows) or another term: person-month rows
    return person_months(tte, cause=cause), None


def _dthazard_placebo(pm, tidy, config, ips, *, term, link, period, covariates, notes, trials=None):
    """Placebo-in-space rows for the dthazard ``treated_post`` term (see :mod:`.placebo`)."""
    from ...inference.placebo_engine import draw_assignments, run_placebo
    from .placebo import placebo_table

    if term != "treated_post":
        raise ValueError("placebo inference for dthazard needs term='treated_post'")
    ctrl = pm[pm["cluster"] != config.treated_municipality].reset_index(drop=True)
    post = ctrl["calendar_month"].to_numpy() >= ips
    y = ctrl["y"].to_numpy()
    cluster = ctrl["cluster"].to_numpy()
    codes = sorted(ctrl["cluster"].unique())

    def refit(slot: np.ndarray) -> float:
        t = (cluster == codes[slot[0]]).astype(np.int8)
        # as for the Cox placebo (placebo._identified): events before and after the placebo
        # start in the placebo municipality, else its coefficient runs off to +-infinity
        if y[(t == 1) & post].sum() == 0 or y[(t == 1) & ~post].sum() == 0:
            return np.nan          # not identified
        try:
            f = fit_dthazard(ctrl.assign(treated=t, treated_post=(t * post).astype(int)), term=term,
                             link=link, period=period, covariates=covariates, trials=trials)
            b = float(f.params[term])
        except (ValueError, np.linalg.LinAlgError):
            return np.nan
        return b if np.isfinite(b) else np.nan

    # every control municipality in turn (one treated unit: all assignments), one engine
    run = run_placebo(draw_assignments(len(codes), 1, reps=None), estimate=refit,
                      desc="dthazard placebo fits")
    draws = pd.Series(run.draws[:, 0], index=codes, dtype=float)
    pt = placebo_table(float(tidy.at[term, "estimate"]), draws, 0.95)
    tidy = tidy.copy()
    tidy.loc[term, ["std_error", "p_value", "conf_low", "conf_high"]] = \
        [pt["std_error"], pt["p_value"], pt["conf_low"], pt["conf_high"]]
    notes.append(f"Placebo in space over {pt['n_placebos']} control municipalities for "
                 f"'{term}'; other terms: clustered SE.")
    if pt["n_placebos"] + 1 < 20:
        notes.append(f"with {pt['n_placebos']} placebos the 95% interval is unbounded")
    z = stats.norm.ppf(0.975)
    rest = tidy.index != term
    tidy.loc[rest, "p_value"] = 2 * stats.norm.sf(np.abs(tidy.loc[rest, "estimate"] / tidy.loc[rest, "std_error"]))
    tidy.loc[rest, "conf_low"] = tidy.loc[rest, "estimate"] - z * tidy.loc[rest, "std_error"]
    tidy.loc[rest, "conf_high"] = tidy.loc[rest, "estimate"] + z * tidy.loc[rest, "std_error"]
    return tidy, _placebo_ci_fn(tidy, term, draws), {
        "n_placebos": pt["n_placebos"], "placebo_estimates": draws.dropna().to_dict(),
        "placebo_not_identified": pt["n_not_identified"]}
