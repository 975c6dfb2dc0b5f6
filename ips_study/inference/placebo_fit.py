"""Controls-only placebo refits shared by the placebo methods (one or several treated units).

The truly treated units are left out so that their effect cannot contaminate the placebo
fits; the controls-only sample is demeaned once, and each placebo only changes the
treatment columns. Used by :mod:`.randomization`, :mod:`.studentized` and
:mod:`.assignments`.

Examples
--------
>>> import numpy as np
>>> _solve(np.eye(1), np.array([2.0]), np.zeros((1, 0)), np.zeros((0, 0)), np.zeros(0))
array([2.])
"""

from __future__ import annotations

import numpy as np

from ips_study.within import Demeaner


def _controls_piece(fit):
    """Controls-only sample, demeaned once: rows, demeaner, y~, Z~."""
    rows = np.flatnonzero(~fit.is_treated_unit[fit.unit])
    dm = fit.demeaner.subset(rows) if fit.fe else Demeaner([])
    yt = dm(fit.y[rows])
    Zt = dm(fit.Z[rows]) if fit.Z.shape[1] else np.empty((len(rows), 0))
    return rows, dm, yt, Zt


def _solve(DtD, Dty, DtZ, ZtZ, Zty):
    """First block of the solution of the partitioned normal equations.

    NaN when the placebo regression is not identified (a small control municipality with no
    person in some event-time bin): that unit cannot serve as a placebo.
    """
    p = DtD.shape[0]
    A = np.block([[DtD, DtZ], [DtZ.T, ZtZ]])
    b = np.concatenate([Dty, Zty])
    try:
        return np.linalg.solve(A, b)[:p]
    except np.linalg.LinAlgError:
        return np.full(p, np.nan)


