"""Two-way fixed-effects difference-in-differences on any long panel.

:func:`did` estimates ``y_it = a_i + g_t + beta * treat_it + x_it' gamma + e_it`` with unit
and time fixed effects, where ``treat`` is an absorbing 0/1 column (on from each treated
unit's adoption period). One or several treated units, with the same or different adoption
periods; unbalanced panels; ``unit`` and ``time`` of any dtype; person-level data with
``cluster`` the level treatment is assigned at (e.g. unit = person, cluster = municipality:
the placebo methods then permute municipalities). Rows of units treated in the data are
never used as controls.

Fixed effects are absorbed by the within transformation of :mod:`ips_study.within`
(pyfixest ``feols("y ~ treat | unit + time", vcov={"CRV1": cluster})`` gives the same
estimate and clustered SE, tests/reference/did_roles_pyfixest.py). Inference is a named
choice (:mod:`ips_study.inference`) and can be switched after fitting without refitting:
``res.with_inference("placebo")``.

:func:`fit_panel` is the register pipeline's adapter (CLI design ``did``): it maps the
study's person-period panel onto these roles (:mod:`.register_panel`).

Municipalities other than the treated one that adopted IPS inside the window (``ips_start``
not empty) are dropped by default, so controls are never treated (data contract, section 3).

Examples
--------
>>> import pandas as pd
>>> import ips_study as ips
>>> df = pd.DataFrame({
...     "region": ["A"] * 4 + ["B"] * 4 + ["C"] * 4 + ["D"] * 4,
...     "year": [2019, 2020, 2021, 2022] * 4,
...     "jobs": [10., 11, 15, 16, 9, 10, 11, 12, 12, 12, 13, 15, 8, 10, 10, 11],
...     "reform": [0, 0, 1, 1] + [0] * 12})
>>> res = ips.did(df, y="jobs", unit="region", time="year", treat="reform",
...               inference="placebo")
>>> round(res.estimate, 3), res.n_units
(3.167, 4)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..formula import formula_roles
from .did_results import DEFAULT_INFERENCE, DidResults, build_results, fit_twfe, n_min
from .register_panel import (  # noqa: F401  (re-exported: the pipeline's names)
    LEVELS, aggregate, aggregation_level, example_panel, period_start, register_roles)
from .roles import (RolePanel, all_eventually_treated, codes, panel_roles,  # noqa: F401
                    timing_only_notes)

__all__ = ["did", "fit_panel", "fit_event_panel", "DidResults", "DEFAULT_INFERENCE",
           "aggregate", "example_panel", "codes", "did_timing"]


def did_timing(rp: RolePanel, lazy: bool = False) -> tuple[np.ndarray | None, np.ndarray]:
    """Post indicator per row (n x 1) and per period for each treated unit (k x T x 1).

    Treated rows get their own unit's timing; control rows get the common timing when all
    treated units adopt together (what a one-unit placebo moves), else zero. ``lazy``: with
    one common adoption period return ``None`` for the rows' indicator, which is then
    ``timing[0]`` at each row's period (:class:`~ips_study.within.TwfeFit` builds it only if
    an inference method asks, saving a table-sized array).
    """
    T = len(rp.time_labels)
    timing = (np.arange(T)[None, :] >= rp.adoption[:, None]).astype(float)[:, :, None]
    if (rp.adoption == rp.adoption[0]).all():
        if lazy:
            return None, timing
        # one adoption period: every row's timing is the common one (one pass, no gathers)
        return (rp.time >= rp.adoption[0]).astype(float)[:, None], timing
    pos = np.full(len(rp.cluster_labels), -1)
    pos[rp.treated] = np.arange(rp.n_treated)
    own = pos[rp.cluster]
    B = np.where((own >= 0)[:, None], timing[np.maximum(own, 0), rp.time], 0.0)
    return B, timing


def did(data: pd.DataFrame, *, y: str | None = None, unit: str, time: str, treat: str,
        weights: str | None = None, cluster: str | None = None,
        covariates: Sequence[str] | None = None, size: str | None = None,
        inference: str = DEFAULT_INFERENCE, level: float = 0.95,
        small_sample: str = "fixest", missing: str = "error", seed: int | None = None,
        formula: str | None = None, **inference_options) -> DidResults:
    """Two-way fixed-effects DiD on a long DataFrame.

    Parameters
    ----------
    data : DataFrame, one row per unit (or person) and period
    y : outcome column (numeric)
    unit, time : unit and period columns (any dtype; fixed effects for both)
    treat : absorbing 0/1 treatment column (1 from the unit's adoption period on)
    weights : observation-weight column (e.g. persons behind an aggregate row)
    cluster : level the treatment is assigned at and standard errors are clustered on
        (default ``unit``); placebo methods permute this level
    covariates : column names (non-numeric ones become dummies)
    size : persons behind each row, used by the size-rescaled methods (``placebo-t``,
        ``ferman-pinto``; default: the weights, else the number of rows per cell)
    inference : ``placebo-t`` (default), ``placebo``, ``conley-taber``, ``ferman-pinto``,
        ``cluster`` or ``wild``; with several treated units the rank-based methods use
        placebo assignments of as many controls (:mod:`ips_study.inference.assignments`)
    level : confidence level of the stored intervals
    small_sample : CRV1 convention, ``"fixest"`` (pyfixest default) or ``"stata"``
    missing : ``"error"`` (default) or ``"drop"`` rows with NaN in a role column (the count
        goes into the notes)
    seed : seed of the wild bootstrap and of random placebo assignments (default
        :data:`ips_study.inference.DEFAULT_SEED`)
    formula : ``"y ~ x1 + C(g) + log(x2)"`` instead of ``y=`` and ``covariates=`` (not
        together with them; :mod:`ips_study.formula`); covariate terms are labelled as
        written, the intercept is dropped (the fixed effects are the baseline)
    inference_options : passed to the inference method

    Returns
    -------
    DidResults
        Term ``treated_post``; ``params``, ``std_errors``, ``conf_int()``, ``summary()``;
        switch inference with ``res.with_inference(name)``.

    Raises
    ------
    ips_study.designs.roles.DesignError
        one line naming the argument and column for every misuse (see :mod:`.roles`).

    Notes
    -----
    A panel where every unit is eventually treated (staggered adoption, no never-treated
    unit) is fitted when at least two adoption periods differ: the not-yet-treated units are
    the controls, as in any TWFE with staggered timing, and a note says so. Only
    ``inference="cluster"`` or ``"wild"`` are then valid (the placebo methods move the
    treatment onto never-treated units); others are refused naming the reason. With
    effects that change over time prefer ``ips.att_gt(..., control_group="not_yet_treated")``.
    """
    data, y, covariates = formula_roles(data, formula, y=y, covariates=covariates,
                                        missing=missing)
    rp = panel_roles(data, y=y, unit=unit, time=time, treat=treat, cluster=cluster,
                     weights=weights, size=size, covariates=covariates, missing=missing,
                     require_controls=False)
    timing_notes = timing_only_notes(rp, "did") if all_eventually_treated(rp) else []
    B, timing = did_timing(rp, lazy=True)
    fit, notes = fit_twfe(rp, B, timing, ["treated_post"], small_sample)
    contrasts = pd.DataFrame({"treated_post": [1.0]}, index=["treated_post"])
    meta = dict(design="did", outcome=y, main_term="treated_post", n_min=n_min(rp),
                extras=_unit_extras(rp), notes=[*rp.notes, *timing_notes, *notes], seed=seed,
                level_name=rp.roles["cluster"] or rp.roles["unit"])
    return build_results(DidResults, fit, contrasts, inference, level, inference_options, meta)


def _unit_extras(rp: RolePanel) -> dict:
    return {"n_treated": rp.n_treated,
            "treated_units": [str(v) for v in rp.cluster_labels[rp.treated]],
            "adoption": [str(v) for v in rp.time_labels[rp.adoption]]}


def fit_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
              aggregation: str | None = None, covariates: Sequence[str] = (),
              weights: str | None | bool = None, conf_level: float = 0.95,
              small_sample: str = "fixest", drop_other_treated: bool = True,
              level: str | None = None, **inference_options) -> DidResults:
    """Two-way fixed-effects DiD on the register panel (CLI design ``did``): adapter to :func:`did`.

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (or a municipality-period aggregate panel with ``n_persons``).
    outcome : str
        Outcome column (e.g. ``"workdays"``).
    config : StudyConfig
        Gives the treated municipality, IPS start and seed.
    inference : str, optional
        As :func:`did` (default ``placebo-t``; see docs/inference.md).
    aggregation : ``"person"`` (person and period effects, clustered by municipality) or
        ``"municipality"`` (aggregate, municipality and period effects, population weights);
        default: ``"municipality"`` for an aggregate panel (``n_persons``, no ``person_id``),
        else ``"person"``. ``level=`` is its older name (``conf_level`` is the confidence
        level, called ``level`` in :func:`did`).
    covariates : column names (non-numeric ones become dummies).
    weights : column with observation weights; for the aggregate level defaults to
        ``n_persons`` (``False`` for unweighted; the size model still uses ``n_persons``).
    small_sample : CRV1 convention, ``"fixest"`` (pyfixest default) or ``"stata"`` (plm ``sss``).
    inference_options : passed to the inference method.

    Returns
    -------
    DidResults
        Term ``treated_post``; switch inference with ``res.with_inference(name)``.
    """
    df, roles, extras, notes = register_roles(
        panel, outcome=outcome, config=config, level=aggregation_level(aggregation, level),
        covariates=covariates, weights=weights, drop_other_treated=drop_other_treated)
    rp = panel_roles(df, missing="drop", **roles)
    B, timing = did_timing(rp, lazy=True)
    fit, fit_notes = fit_twfe(rp, B, timing, ["treated_post"], small_sample)
    contrasts = pd.DataFrame({"treated_post": [1.0]}, index=["treated_post"])
    meta = dict(design="did", outcome=outcome, main_term="treated_post", n_min=n_min(rp),
                extras=extras, notes=[*notes, *fit_notes], seed=getattr(config, "seed", None))
    return build_results(DidResults, fit, contrasts, inference or DEFAULT_INFERENCE, conf_level,
                         inference_options, meta)


def fit_event_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
                    **options):
    """Event study (CLI design ``event``); see :func:`ips_study.designs.event.fit_event_panel`."""
    from .event import fit_event_panel as _fit_event

    return _fit_event(panel, outcome=outcome, config=config, inference=inference, **options)
