"""One table of the inference methods each design accepts, keyed by method and fit kind.

In the spirit of linearmodels' covariance-estimator table: every design maps to a *fit
kind* (the object its inference works on), and each ``(method, fit kind)`` pair that exists
is one :class:`Method` row saying what the method is, whether it ranks placebo
assignments (then it runs through :mod:`.placebo_engine`) and, for the TWFE fits, which
function implements it. A design validates its ``inference=`` string once, with
:func:`check_method`, and gets the canonical name (the design's default when none is
given) or a one-line error listing the methods valid *for that design*.

=================  ==========================================================
design             fit kind and methods (default first)
=================  ==========================================================
did, event_study   ``twfe``: placebo-t, placebo, conley-taber, ferman-pinto,
                   cluster, wild
synth              ``synth``: placebo, none
sdid               ``sdid``: placebo, jackknife, bootstrap, none
att_gt             ``staggered``: analytic, bootstrap, placebo
cox                ``cox``: placebo, cluster, robust, model
fine_gray          ``fine_gray``: crr, robust, cluster
discrete_hazard    ``dthazard``: placebo, cluster, model
=================  ==========================================================

This module imports nothing from the designs (the designs import it).

Examples
--------
>>> check_method("synth", None)
'placebo'
>>> check_method("cox", "wild")
Traceback (most recent call last):
...
ValueError: unknown inference 'wild' for cox; valid: placebo, cluster, robust, model
>>> methods_for("att_gt")
('analytic', 'bootstrap', 'placebo')
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Mapping

#: design name (as the top-level call, the ``design`` label of results, or an older
#: spelling) -> fit kind
FIT_KINDS: dict[str, str] = {
    "did": "twfe", "event_study": "twfe", "event": "twfe",
    "synth": "synth",
    "sdid": "sdid",
    "att_gt": "staggered", "staggered": "staggered",
    "cox": "cox",
    "fine_gray": "fine_gray", "finegray": "fine_gray",
    "discrete_hazard": "dthazard", "dthazard": "dthazard",
}


@dataclass(frozen=True)
class Method:
    """One row of the table: an inference method available for one fit kind.

    ``placebo`` says whether the method ranks the estimate among placebo assignments of the
    same number of treated units (:mod:`.placebo_engine`); ``target`` is ``"module:function"``
    for methods dispatched by :func:`ips_study.inference.infer` (TWFE fits), else ``None``
    (the design computes it from its own fitted pieces).
    """

    name: str
    fit_kind: str
    description: str
    placebo: bool = False
    target: str | None = None


_ROWS = (
    # TWFE (did, event_study): the default, placebo-t, first
    Method("placebo-t", "twfe", "placebo ranks of studentised estimates, size-rescaled "
           "(Ferman & Pinto 2019)", True,
           "ips_study.inference.studentized:studentized_placebo_inference"),
    Method("placebo", "twfe", "placebo in space, p = rank/(J+1), RMSPE-ratio variant", True,
           "ips_study.inference.randomization:placebo_inference"),
    Method("conley-taber", "twfe", "Conley & Taber (2011) interval from control residuals", True,
           "ips_study.inference.residual:conley_taber_inference"),
    Method("ferman-pinto", "twfe", "Conley-Taber with the size heteroskedasticity correction",
           True, "ips_study.inference.residual:ferman_pinto_inference"),
    Method("cluster", "twfe", "CRV1 clustered by unit, t(G-1) reference", False,
           "ips_study.inference.cluster:cluster_inference"),
    Method("wild", "twfe", "restricted wild cluster bootstrap (WCR)", False,
           "ips_study.inference.wild:wild_inference"),
    # synthetic control
    Method("placebo", "synth", "every donor in turn as the treated unit; RMSPE-ratio rank", True),
    Method("none", "synth", "point estimate only"),
    # synthetic DiD (Arkhangelsky et al. 2021, section 5)
    Method("placebo", "sdid", "placebo variance (Algorithm 4): random placebo-treated controls",
           True),
    Method("jackknife", "sdid", "jackknife variance (Algorithm 3), two or more treated units"),
    Method("bootstrap", "sdid", "bootstrap variance (Algorithm 2), two or more treated units"),
    Method("none", "sdid", "point estimate only"),
    # staggered adoption (Callaway & Sant'Anna)
    Method("analytic", "staggered", "influence-function standard errors"),
    Method("bootstrap", "staggered", "multiplier bootstrap with uniform bands"),
    Method("placebo", "staggered", "adoption pattern given to never-treated units, design re-run",
           True),
    # survival
    Method("placebo", "cox", "each control municipality in turn as the treated one", True),
    Method("cluster", "cox", "Lin-Wei sandwich by municipality"),
    Method("robust", "cox", "sandwich by person"),
    Method("model", "cox", "inverse information"),
    Method("crr", "fine_gray", "Fine & Gray variance with the censoring term (cmprsk::crr)"),
    Method("robust", "fine_gray", "sandwich by person"),
    Method("cluster", "fine_gray", "sandwich by municipality"),
    Method("placebo", "dthazard", "each control municipality in turn as the treated one", True),
    Method("cluster", "dthazard", "GLM sandwich by municipality"),
    Method("model", "dthazard", "GLM model-based variance"),
)

#: (method, fit kind) -> :class:`Method`
TABLE: dict[tuple[str, str], Method] = {(m.name, m.fit_kind): m for m in _ROWS}

#: inference name -> "module:function" of the TWFE methods (did, event_study)
METHODS: dict[str, str] = {m.name: m.target for m in _ROWS if m.fit_kind == "twfe"}


def fit_kind(design: str) -> str:
    """Fit kind of ``design`` (one-line error for an unknown design)."""
    try:
        return FIT_KINDS[design]
    except KeyError:
        raise ValueError(f"unknown design {design!r}; known: {', '.join(FIT_KINDS)}") from None


def methods_for(design: str) -> tuple[str, ...]:
    """Methods ``design`` accepts, its default first."""
    kind = fit_kind(design)
    return tuple(m.name for m in _ROWS if m.fit_kind == kind)


def default_method(design: str) -> str:
    """The method ``design`` uses when the call names none."""
    return methods_for(design)[0]


def check_method(design: str, method: str | None) -> str:
    """Canonical inference name for ``design``: ``method``, or the default for ``None`` /
    ``"default"``; a one-line ``ValueError`` listing the valid ones otherwise."""
    if method is None or method == "default":
        return default_method(design)
    valid = methods_for(design)
    if method not in valid:
        raise ValueError(f"unknown inference {method!r} for {design}; valid: {', '.join(valid)}")
    return method


def is_placebo(design: str, method: str) -> bool:
    """True when ``method`` ranks placebo assignments for ``design``."""
    return TABLE[(check_method(design, method), fit_kind(design))].placebo


def dispatch(design: str, method: str | None, handlers: Mapping[str, Callable]) -> Callable:
    """The design's handler for ``method`` after :func:`check_method`.

    ``handlers`` maps every method of the design's fit kind to the function computing it; a
    method in the table without a handler (or a handler not in the table) is a programming
    error, so the table stays the one list.
    """
    method = check_method(design, method)
    missing = set(methods_for(design)) ^ set(handlers)
    if missing:
        raise RuntimeError(f"{design} handlers and the inference table disagree on "
                           f"{', '.join(sorted(missing))}")
    return handlers[method]


def twfe_function(method: str) -> Callable:
    """The function implementing TWFE ``method`` (``did``/``event_study``)."""
    module, func = TABLE[(check_method("did", method), "twfe")].target.split(":")
    return getattr(importlib.import_module(module), func)


def as_frame():
    """The table as a DataFrame (design x method, with fit kind and placebo flag)."""
    import pandas as pd

    designs = ("did", "event_study", "synth", "sdid", "att_gt", "cox", "fine_gray",
               "discrete_hazard")
    rows = [{"design": d, "fit_kind": fit_kind(d), "method": m.name,
             "default": m.name == default_method(d), "placebo_engine": m.placebo,
             "description": m.description}
            for d in designs for m in _ROWS if m.fit_kind == fit_kind(d)]
    return pd.DataFrame(rows)
