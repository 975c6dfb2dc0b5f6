"""Balanced unit-by-period arrays for the staggered-adoption estimators.

Shared by :mod:`ips_study.designs.staggered` (the group-time estimates) and
:mod:`ips_study.designs.staggered_placebo` (the placebo draws), so that neither has to
import the other.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from .roles import covariate_frame


def wide_arrays(data: pd.DataFrame, outcome: str, unit: str, time: str, group: str,
          covariates: Sequence[str], weights: str | None, cluster: str | None = None):
    """Balanced unit x period arrays; drops (with a warning) units not seen every period.

    Rows are scattered into place by integer codes rather than sorted, which keeps a
    million-row panel cheap.
    """
    df = data.loc[data[outcome].notna()]
    ucode, units = pd.factorize(df[unit], sort=True)
    tcode, times = pd.factorize(df[time], sort=True)
    n, nt = len(units), len(times)
    flat = ucode.astype(np.int64) * nt + tcode
    seen = np.bincount(flat, minlength=n * nt)
    if seen.max() > 1:
        raise ValueError(f"duplicate ({unit}, {time}) rows in the panel")
    full = seen.reshape(n, nt).all(axis=1)

    def scatter(col):
        out = np.full(n * nt, np.nan)
        out[flat] = df[col].to_numpy(float)
        return out.reshape(n, nt)[full]

    if not full.all():
        warnings.warn(f"dropped {int((~full).sum())} units not observed in every period "
                      "(the estimator needs a balanced panel)", stacklevel=3)
    # a missing cluster label would be one more cluster (code -1) holding all of them, a
    # missing weight a NaN estimate, a missing text covariate the reference level's dummy
    named = [(f"weights={weights!r}", weights), (f"cluster={cluster!r}", cluster),
             *((f"covariate {c!r}", c) for c in covariates or ())]
    for what, c in named:
        n_na = 0 if c is None else int(df[c].isna().sum())
        if n_na:
            raise ValueError(f"{what} has {n_na} missing value(s); drop or fill them first")
    y, g = scatter(outcome), scatter(group)
    if covariates:
        # text and categorical covariates as 0/1 dummies (first level the reference, as in
        # did's covariates=)
        Z = covariate_frame(df, covariates)
        df = df.assign(**{f"__x{i}": Z[c] for i, c in enumerate(Z.columns)})
        covariates = [f"__x{i}" for i in range(Z.shape[1])]
    if np.any((g != g[:, :1]) & ~(np.isnan(g) & np.isnan(g[:, :1]))):
        raise ValueError(f"{group!r} must be constant within each unit")
    # no NaN in x: missing covariates were refused above and only complete units are kept
    x = (np.stack([scatter(c) for c in covariates], axis=2) if covariates
         else np.zeros((int(full.sum()), nt, 0)))
    w = np.ones(int(full.sum()))
    if weights:
        wmat = scatter(weights)
        if np.any(wmat != wmat[:, :1]):   # the first period's weight was used silently
            raise ValueError(f"weights={weights!r} must be constant within each unit")
        if (wmat[:, 0] < 0).any():
            raise ValueError(f"weights={weights!r} has negative values")
        w = wmat[:, 0]
    cl = None
    if cluster:
        df = df.assign(_cluster=pd.factorize(df[cluster])[0])
        cmat = scatter("_cluster")
        if np.any(cmat != cmat[:, :1]):
            raise ValueError(f"{cluster!r} must be constant within each unit")
        cl = cmat[:, 0].astype(int)
    return np.asarray(units)[full], np.asarray(times), y, g[:, 0], x, w, cl
