"""One placebo-in-space engine for every design that offers placebo inference.

Placebo in space (Abadie, Diamond & Hainmueller 2010; with several treated units,
MacKinnon & Webb 2020) gives the treatment pattern of the real treated units to the same
number of control units, re-estimates the design without the real treated units, and ranks
the real estimate among the placebo estimates. Every design does the same three steps here:

1. :func:`draw_assignments`: the placebo assignments, i.e. which control (index ``0..J-1``)
   gets each *slot* of the treated pattern. Slots with equal labels are interchangeable
   (one treated unit, or several with one adoption date: combinations; different dates:
   ordered). All assignments are used when there are at most ``reps``; otherwise ``reps``
   are drawn at random with the seed of the call or of the study
   (:func:`resolve_seed`, default :data:`~ips_study.inference.DEFAULT_SEED`).
2. :func:`run_placebo`: the design's function evaluated on each assignment, either one
   at a time (``estimate=``, a refit; called in order, so a refit may warm-start from the
   previous one) or all at once (``batch=``, a closed form such as the TWFE placebo of
   :mod:`.placebo_fit`).
3. :meth:`PlaceboRun.summary` / :func:`rank_summary`: p-value ``(1 + #{|b_r| >= |b|}) /
   (R + 1)``, the interval that inverts it under a constant additive effect, and the root
   mean square of the draws as the standard error. A placebo whose fit is not identified is
   a row with NaN; it is left out of the ranks.

The random samplers are the three the designs have always used (kept so stored results
reproduce exactly): ``"choice"`` (one ``Generator.choice`` per draw), ``"argsort"`` (the
first slots of a random ordering per draw, vectorised) and ``"permutation"`` (a whole random
ordering of the controls per draw, placebo-treated last, as synthdid's placebo variance).

Examples
--------
>>> import numpy as np
>>> a = draw_assignments(4, [0])
>>> a.units.ravel().tolist(), a.enumerated
([0, 1, 2, 3], True)
>>> y = np.array([0.5, -1.0, 2.0, 0.1])
>>> run = run_placebo(a, batch=lambda units: y[units[:, 0]][:, None])
>>> tidy, _ = run.summary(pd.Series([3.0], index=["effect"]), level=0.5)
>>> float(tidy.at["effect", "p_value"])
0.2
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from itertools import combinations
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .. import progress
from . import DEFAULT_SEED, rank_table

#: placebo assignments drawn at random when there are more than this many
DEFAULT_REPS = 999

SAMPLERS = ("choice", "argsort", "permutation")


def resolve_seed(seed: int | None = None, config=None) -> int:
    """The seed of a random draw: the call's, else the study configuration's, else
    :data:`~ips_study.inference.DEFAULT_SEED` (the default configuration's)."""
    if seed is not None:
        return seed
    return DEFAULT_SEED if config is None else config.seed


def n_assignments(n_controls: int, pattern) -> int:
    """Distinct ways to give the slots of ``pattern`` to ``n_controls`` control units.

    Slots with equal labels are interchangeable: ``J! / ((J - G)! prod n_g!)``.

    >>> n_assignments(21, [2013]), n_assignments(4, [2013, 2015, 2015])
    (21, 12)
    """
    _, counts = np.unique(np.asarray(pattern), return_counts=True)
    g = int(counts.sum())
    if g > n_controls:
        return 0
    out = math.perm(n_controls, g)
    for c in counts:
        out //= math.factorial(int(c))
    return out


def _enumerate(n_controls: int, pattern: np.ndarray) -> np.ndarray:
    """All assignments in lexicographic order (rows: control per slot of the sorted pattern)."""
    groups, counts = np.unique(pattern, return_counts=True)
    rows: list[list[int]] = []

    def rec(k: int, free: tuple[int, ...], acc: list[int]) -> None:
        if k == len(groups):
            rows.append(acc)
            return
        for pick in combinations(free, int(counts[k])):
            rec(k + 1, tuple(u for u in free if u not in pick), acc + list(pick))

    rec(0, tuple(range(n_controls)), [])
    return np.array(rows, dtype=np.intp).reshape(len(rows), len(pattern))


@dataclass(frozen=True)
class Assignments:
    """Placebo assignments.

    ``units`` is (R, k): the control index given each slot of ``pattern`` (sorted); with
    the ``"permutation"`` sampler it is (R, J), a whole ordering whose last k entries are the
    placebo-treated units. ``seed`` is ``None`` when the assignments are all of them.
    """

    units: np.ndarray
    pattern: np.ndarray
    enumerated: bool
    seed: int | None

    def __len__(self) -> int:
        return len(self.units)


def draw_assignments(n_controls: int, pattern: Sequence | int = 1, *,
                     reps: int | None = DEFAULT_REPS, seed: int | None = None,
                     sampler: str = "argsort", enumerate: bool = True) -> Assignments:
    """Placebo assignments of the treated ``pattern`` to ``n_controls`` controls.

    Parameters
    ----------
    pattern : int or sequence
        The slot labels (e.g. adoption dates of the treated units), or their number when
        all are interchangeable.
    reps : int or None
        All assignments are used when there are at most ``reps`` (``None``: always all);
        otherwise ``reps`` random ones.
    seed : int, optional
        Seed of the random draws (:func:`resolve_seed`).
    sampler : {"argsort", "choice", "permutation"}
        How random assignments are drawn (see the module docstring).
    enumerate : bool
        ``False`` draws at random even when all could be listed (synthdid's placebo
        variance does).
    """
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}; valid: {', '.join(SAMPLERS)}")
    pattern = np.sort(np.zeros(pattern) if np.ndim(pattern) == 0 else np.asarray(pattern))
    k = len(pattern)
    if k > n_controls:
        raise ValueError(f"{k} treated units but only {n_controls} controls: no placebo "
                         "assignment of the same size exists")
    if enumerate and (reps is None or n_assignments(n_controls, pattern) <= reps):
        return Assignments(_enumerate(n_controls, pattern), pattern, True, None)
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    if sampler == "choice":
        units = np.array([rng.choice(n_controls, size=k, replace=False) for _ in range(reps)])
    elif sampler == "argsort":
        units = np.argsort(rng.random((reps, n_controls)), axis=1)[:, :k]
    else:
        units = np.stack([rng.permutation(n_controls) for _ in range(reps)])
    return Assignments(units.astype(np.intp).reshape(reps, -1), pattern, False, seed)


@dataclass(frozen=True)
class PlaceboRun:
    """Draws of a design's statistics (R x m), one row per assignment (NaN: not identified)."""

    assignments: Assignments
    draws: np.ndarray
    columns: pd.Index | None = None

    def frame(self) -> pd.DataFrame:
        """The draws as a DataFrame (columns as returned by the design's function)."""
        return pd.DataFrame(self.draws, columns=self.columns)

    def identified(self, column: int | None = None) -> np.ndarray:
        """Rows whose draw is finite in every column (or in ``column``)."""
        d = self.draws if column is None else self.draws[:, [column]]
        return np.isfinite(d).all(axis=1)

    def summary(self, estimates: pd.Series, level: float, *, keep: np.ndarray | None = None,
                std_error=None):
        """:func:`rank_summary` of ``estimates`` against the identified draws (or ``keep``)."""
        keep = self.identified() if keep is None else keep
        return rank_summary(estimates, self.draws, level, keep=keep, std_error=std_error)


def run_placebo(assignments: Assignments, *,
                estimate: Callable[[np.ndarray], object] | None = None,
                batch: Callable[[np.ndarray], object] | None = None,
                desc: str = "placebo fits") -> PlaceboRun:
    """Evaluate the design on every assignment.

    Exactly one of ``estimate`` (one assignment row -> statistics, called in order; a
    scalar NaN when the placebo is not identified) or ``batch`` (all rows at once -> R x m
    array or DataFrame) is given. One refit per assignment can take minutes, so that loop
    is counted on stderr as ``desc`` when progress is on (:mod:`ips_study.progress`).
    """
    if (estimate is None) == (batch is None):
        raise TypeError("run_placebo needs exactly one of estimate= or batch=")
    if batch is not None:
        out = batch(assignments.units)
    else:
        rows = [np.atleast_1d(np.asarray(estimate(row), dtype=float))
                for row in progress.bar(assignments.units, desc, unit="fit")]
        # a placebo that is not identified may return one NaN for all its statistics
        out = np.full((len(rows), max((len(r) for r in rows), default=1)), np.nan)
        for i, r in enumerate(rows):
            out[i] = r
    if isinstance(out, pd.DataFrame):
        return PlaceboRun(assignments, out.to_numpy(float), out.columns)
    out = np.asarray(out, dtype=float)
    return PlaceboRun(assignments, out if out.ndim == 2 else out.reshape(len(out), -1))


def rank_summary(estimates: pd.Series, draws: np.ndarray, level: float, *,
                 keep: np.ndarray | None = None, std_error=None):
    """Rank p-values, inverted intervals and RMS standard errors of ``estimates``.

    ``draws`` (R x m) has one column per estimate; rows outside ``keep`` (default: none)
    are left out, and NaN draws are left out of their column's ranks. Returns the tidy
    table and the interval function of :func:`~ips_study.inference.rank_table`.
    """
    draws = np.asarray(draws, dtype=float)
    draws = draws.reshape(-1, 1) if draws.ndim < 2 else draws        # one statistic
    kept = draws if keep is None else draws[keep]
    if std_error is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # a column with no draw: NaN
            std_error = np.sqrt(np.nanmean(kept ** 2, axis=0))
    return rank_table(estimates, kept, level, std_error)
