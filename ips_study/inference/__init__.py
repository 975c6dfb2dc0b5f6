"""Inference for difference-in-differences with one (or few) treated municipalities.

With a single treated cluster the usual cluster-robust standard errors and the wild cluster
bootstrap are unreliable (MacKinnon & Webb 2017, 2018; Conley & Taber 2011), so every
estimate can be re-examined under several named methods, switchable after fitting:

========================  ==============================================================
``cluster``               CRV1 clustered by municipality, t(G-1) reference; warns when
                          treated clusters are few (:mod:`.cluster`)
``wild``                  restricted wild cluster bootstrap (WCR), Rademacher or Webb
                          weights, interval by test inversion (:mod:`.wild`)
``placebo``               placebo-in-space randomization inference, p = rank/(J+1), plus
                          the RMSPE-ratio variant (:mod:`.randomization`)
``placebo-t``             placebo-in-space ranking studentised estimates, rescaled for
                          unequal municipality sizes (Ferman & Pinto 2019;
                          :mod:`.studentized`)
``conley-taber``          Conley & Taber (2011) interval from control-unit residuals
                          (:mod:`.residual`)
``ferman-pinto``          Ferman & Pinto (2019) version of Conley-Taber corrected for
                          heteroskedasticity from unequal municipality sizes (:mod:`.residual`)
========================  ==============================================================

Which methods every design accepts (synth, sdid, staggered and the survival designs too)
is one table, :mod:`.table` (:func:`check_method`, :func:`methods_for`); every placebo in
space runs through :mod:`.placebo_engine`.

Each method takes a fitted :class:`ips_study.within.TwfeFit` and a set of linear
contrasts of the treatment coefficients (``L``, one row per reported term) and returns an
:class:`InferenceOutput`. Assumptions of each method are documented in its module and in
``docs/inference.md``.

Examples
--------
>>> from ips_study.inference import METHODS
>>> sorted(METHODS)
['cluster', 'conley-taber', 'ferman-pinto', 'placebo', 'placebo-t', 'wild']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig

# the one table of methods per design (the TWFE targets are METHODS)
from .table import (METHODS, TABLE, check_method, default_method,  # noqa: F401
                    methods_for, twfe_function)

#: seed of every random draw in inference (wild bootstrap weights, random placebo
#: assignments) when the call gives none: the study configuration's default, read here once
DEFAULT_SEED: int = StudyConfig.seed

@dataclass(frozen=True)
class InferenceOutput:
    """What an inference method hands back to the results object.

    ``tidy`` has the :data:`ips_study.results.TIDY_COLUMNS`; ``conf_int_fn`` gives intervals
    at other levels; ``null_draws`` (J x m) are the reference-distribution draws of the
    contrasts for rank-based methods (used by joint tests); ``vcov`` is the contrasts'
    covariance where the method has one.
    """

    tidy: pd.DataFrame
    conf_int_fn: Callable[[float], pd.DataFrame] | None = None
    df_resid: float | None = None
    notes: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    null_draws: np.ndarray | None = None
    vcov: np.ndarray | None = None


def get_method(name: str) -> Callable[..., InferenceOutput]:
    """Return the TWFE inference function registered under ``name`` (see :mod:`.table`)."""
    return twfe_function(name)


def infer(fit, method: str, contrasts: pd.DataFrame, *, level: float = 0.95,
          **options) -> InferenceOutput:
    """Run inference ``method`` on ``fit`` for the rows of ``contrasts``.

    Parameters
    ----------
    fit : TwfeFit
    method : str
        One of :data:`METHODS`.
    contrasts : DataFrame
        Index = reported term names, columns = the fit's treatment terms; each row is a
        linear combination of treatment coefficients.
    level : float
        Confidence level of the stored interval.
    """
    fn = get_method(method)
    valid = method_options(method)
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"inference {method!r} has no option {unknown[0]!r}; valid options: "
                         f"{', '.join(valid) or 'none'}")
    return fn(fit, contrasts, level=level, **options)


def method_options(method: str) -> list[str]:
    """Keyword options an inference method accepts (besides ``level``)."""
    import inspect

    params = inspect.signature(get_method(method)).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name != "level"]


# -- helpers shared by the rank-based methods ---------------------------------------------------
def rank_p_value(stat: float, null: np.ndarray) -> float:
    """Two-sided rank p-value ``(1 + #{|null_j| >= |stat|}) / (J + 1)``.

    Exact under exchangeability of the treated unit with the J null draws.
    """
    null = np.asarray(null, dtype=float)
    null = null[np.isfinite(null)]
    return float((1 + np.sum(np.abs(null) >= abs(stat) * (1 - 1e-12))) / (len(null) + 1))


def rank_half_width(null: np.ndarray, level: float) -> float:
    """Half-width ``h`` of the interval ``estimate +/- h`` that inverts :func:`rank_p_value`.

    A value ``theta`` is kept when ``p(estimate - theta) > 1 - level``; this holds for
    ``|estimate - theta| <= m``-th largest ``|null_j|`` with ``m = floor((1 - level)(J + 1))``.
    When ``m = 0`` (too few units for this level) the interval is unbounded.
    """
    a = np.sort(np.abs(np.asarray(null, dtype=float)[np.isfinite(null)]))[::-1]
    m = math.floor((1 - level) * (len(a) + 1) + 1e-9)
    return math.inf if m == 0 else float(a[m - 1])


def rank_table(estimates: pd.Series, draws: np.ndarray, level: float,
               std_error: np.ndarray) -> tuple[pd.DataFrame, Callable[[float], pd.DataFrame]]:
    """Tidy table and interval function for a rank-based method (draws: J x m)."""
    est = estimates.to_numpy(dtype=float)
    se = np.asarray(std_error, dtype=float)
    p = [rank_p_value(est[i], draws[:, i]) for i in range(len(est))]

    def ci(lv: float) -> pd.DataFrame:
        h = np.array([rank_half_width(draws[:, i], lv) for i in range(len(est))])
        return pd.DataFrame({"lower": est - h, "upper": est + h}, index=estimates.index)

    c = ci(level)
    tidy = pd.DataFrame({"estimate": est, "std_error": se, "statistic": est / se, "p_value": p,
                         "conf_low": c["lower"].to_numpy(), "conf_high": c["upper"].to_numpy()},
                        index=estimates.index)
    return tidy, ci


def contrast_matrix(fit, contrasts: pd.DataFrame) -> np.ndarray:
    """Contrasts over all coefficients (treatment terms then covariates, zeros for those)."""
    L = contrasts.reindex(columns=fit.terms, fill_value=0.0).to_numpy(dtype=float)
    return np.column_stack([L, np.zeros((len(L), fit.k - fit.p))])
