"""The TWFE core shared by :func:`~ips_study.designs.did.did` and
:func:`~ips_study.designs.event.event_study`: fit from a :class:`~.roles.RolePanel` and a
timing matrix, then attach inference in a results object that can switch it.

Kept below both designs so that neither imports the other.

Examples
--------
>>> from ips_study.designs.did_results import DEFAULT_INFERENCE, SIZE_METHODS
>>> DEFAULT_INFERENCE in SIZE_METHODS
True
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ips_study.inference import check_method, default_method, infer
from ips_study.disclosure.drawn import mark_measures
from ips_study.results import Results, _complete_tidy

from .roles import DesignError, RolePanel, cell_sums, check_timing_only_inference
from ips_study.within import Demeaner, TwfeFit

#: inference used when none is named: the studentised placebo (Ferman & Pinto 2019 size
#: rescaling) was the only method within 3-8% rejection under the null in all three settings of
#: docs/inference.md (500 draws of the municipality-level DGP, 500 draws of the synthetic register
#: generator at person and at municipality level); plain placebo and Conley-Taber are valid but
#: conservative when Bodø is larger than typical controls, and Ferman-Pinto over-rejects on
#: person-level fits
DEFAULT_INFERENCE = default_method("did")

#: methods that rescale by unit size and so need to know it
SIZE_METHODS = ("placebo-t", "ferman-pinto")


class DidResults(Results):
    """DiD results that remember the fitted pieces so inference can be switched.

    Use :meth:`with_inference` to get a new results object under another method; the
    regression is not refitted. :meth:`placebo_plot` draws the reference distribution of
    rank-based methods.
    """

    def __init__(self, tidy, *, fit: TwfeFit, contrasts: pd.DataFrame,
                 inference_options: dict[str, Any], meta: dict[str, Any], null_draws=None,
                 **kwargs) -> None:
        super().__init__(tidy, **kwargs)
        self._fit = fit
        self._contrasts = contrasts
        self._inference_options = dict(inference_options)
        self._meta = dict(meta)
        self._null_draws = null_draws
        self._refit = self._switch

    @property
    def fit(self) -> TwfeFit:
        """The fitted :class:`~ips_study.within.TwfeFit` (shared, do not modify)."""
        return self._fit

    def _switch(self, inference: str, level: float, **options) -> "DidResults":
        """:meth:`Results.with_inference` without refitting: the same TWFE fit, another
        method (``placebo-t``, ``placebo``, ``conley-taber``, ``ferman-pinto``, ``cluster``,
        ``wild``)."""
        return build_results(type(self), self._fit, self._contrasts, inference, level,
                             options, self._meta)

    def placebo_plot(self, ax=None, term: str | None = None):
        """Histogram of the null draws (placebo / Conley-Taber / Ferman-Pinto) and the estimate."""
        import matplotlib.pyplot as plt

        if self._null_draws is None:
            raise ValueError(f"inference {self.inference!r} has no reference distribution to plot")
        term = term or self.main_term
        i = list(self._tidy.index).index(term)
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ax.hist(self._null_draws[:, i], bins=min(30, max(5, len(self._null_draws) // 2)),
                color="0.7", label="null draws")
        mark_measures(ax, "placebo draws")  # counts of placebo fits, not of persons
        ax.axvline(float(self._tidy.at[term, "estimate"]), color="black", lw=2,
                   label="treated estimate")
        ax.set_xlabel(f"{term} ({self.inference})")
        ax.set_ylabel("count")
        ax.legend()
        return ax


def check_sizes(fit: TwfeFit, inference: str) -> None:
    """Size-based methods need unit sizes: refuse when the data carry none.

    With one row per unit-period, no ``weights`` and no ``size`` column every unit would get
    size 1 and the size model would silently reduce to plain placebo / Conley-Taber.
    """
    if inference in SIZE_METHODS and fit.sizes is None and fit.weights is None:
        if np.allclose(fit.unit_sizes(), 1.0):
            raise DesignError(f"inference={inference!r} rescales by unit size but the data have "
                              "one row per unit-period and no size: pass size=<column of "
                              "persons per row> or weights=, or use inference='placebo'")


def build_results(cls, fit: TwfeFit, contrasts: pd.DataFrame, inference: str, level: float,
                  options: dict[str, Any], meta: dict[str, Any]):
    """Run ``inference`` on ``fit`` and wrap it in ``cls`` (a :class:`DidResults`)."""
    inference = check_method(meta["design"], inference)
    if len(fit.treated_units) == fit.n_units:     # no never-treated unit (timing only)
        check_timing_only_inference(meta["design"], inference, meta.get("level_name", "unit"))
    check_sizes(fit, inference)
    opts = dict(options)
    if inference == "cluster":
        opts.setdefault("n_treated", len(fit.treated_units))
    if "seed" in meta and inference in ("wild", "placebo", "placebo-t", "conley-taber",
                                        "ferman-pinto"):
        opts.setdefault("seed", meta["seed"])
    out = infer(fit, inference, contrasts, level=level, **opts)
    extras = {**meta.get("extras", {}), **out.extras}
    if "pretrend_fn" in meta:
        extras["pretrend"] = meta["pretrend_fn"](out)
    kwargs = dict(design=meta["design"], outcome=meta["outcome"], inference=inference,
                  n_obs=fit.n, n_units=fit.n_units, main_term=meta["main_term"], level=level,
                  df_resid=out.df_resid, extras=extras, conf_int_fn=out.conf_int_fn,
                  n_min=meta.get("n_min"), notes=tuple(meta.get("notes", ())) + out.notes,
                  cov=out.vcov)
    if "event_time_fn" in meta:
        kwargs["event_time"] = meta["event_time_fn"](
            _complete_tidy(out.tidy, level, out.df_resid), level)
    return cls(out.tidy, fit=fit, contrasts=contrasts, inference_options=opts, meta=meta,
               null_draws=out.null_draws, **kwargs)


def fit_twfe(rp: RolePanel, B: np.ndarray, timing: np.ndarray, terms: Sequence[str],
             small_sample: str = "fixest") -> tuple[TwfeFit, list[str]]:
    """A :class:`TwfeFit` with unit and time fixed effects, clustered by ``rp.cluster``.

    ``B`` (n x p) is each row's timing (the treated rows' own; for control rows the timing a
    placebo would get when all treated units share it), or None when that is ``timing[0]``
    at the row's period; ``timing`` (k x T x p) the timing per period of each treated unit. Covariates collinear with the fixed effects are dropped
    with a note (returned) rather than failing.
    """
    notes: list[str] = []
    Z, names = rp.Z, list(rp.covariate_names)
    fe = [rp.unit_codes, rp.time_codes]
    treated_row = np.isin(rp.cluster, rp.treated) if Z.shape[1] else None
    p = timing.shape[2] if B is None else B.shape[1]
    while Z.shape[1]:
        Bx = np.asarray(timing[0])[rp.time] if B is None else B
        j = _dependent(*_gram(fe, rp.weights, treated_row, Bx, Z))
        if j is None:
            break
        if j < p:
            raise DesignError("the treatment terms are collinear with the fixed effects "
                              f"(check treat={rp.roles['treat']!r} and the event-time bins)")
        drop = j - p
        notes.append(f"covariate {names[drop]!r} dropped: collinear with fixed effects")
        warnings.warn(notes[-1], UserWarning, stacklevel=3)
        Z = np.delete(Z, drop, axis=1)
        names.pop(drop)
    # post by period: the rows' indicator is built only if an inference method asks
    period_post = (np.arange(len(rp.time_labels)) >= rp.adoption.min()).astype(np.int8)
    fit = TwfeFit(y=rp.y, B=B, Z=Z, unit=rp.cluster_codes,
                  unit_labels=rp.cluster_labels.astype(str), treated=rp.treated,
                  period=rp.time_codes, period_labels=rp.time_labels.astype(str), post=None,
                  period_post=period_post, fe=fe, weights=rp.weights, terms=terms, covariates=names,
                  small_sample=small_sample, sizes=rp.sizes, timing=timing,
                  cell_rows=rp.cell_rows)
    fit.cluster_name = rp.roles["cluster"] or rp.roles["unit"]   # named in the notes
    return fit, notes


def _gram(fe, weights, treated_row, B, Z):
    """Weighted cross-products of the demeaned regressors and the raw sums of squares."""
    dm = Demeaner(fe, weights)
    X = np.column_stack([treated_row[:, None] * B, Z])
    Xt = dm(X)
    Xw = Xt if weights is None else Xt * weights[:, None]
    raw = X if weights is None else X * weights[:, None]
    return Xw.T @ Xt, np.maximum(np.einsum("ij,ij->j", raw, X), 1e-300)


def _dependent(G, scale, tol=1e-9):
    """Index of the first column whose residual variance on earlier kept columns vanishes."""
    kept = []
    for j in range(G.shape[0]):
        r = G[j, j]
        if kept:
            K = np.array(kept)
            r -= G[j, K] @ np.linalg.pinv(G[np.ix_(K, K)]) @ G[K, j]
        if r <= tol * scale[j]:
            return j
        kept.append(j)
    return None


def n_min(rp: RolePanel) -> int:
    """Smallest number of persons (size or rows) in a treated unit-period cell."""
    T = len(rp.time_labels)
    cells = len(rp.cluster_labels) * T
    # only the treated units' rows matter
    rows = (np.isin(rp.cluster, rp.treated) if rp.sizes is not None or rp.cell_rows is None
            else None)
    cnt = (rp.cell_rows.reshape(-1) if rp.cell_rows is not None
           else cell_sums(rp.cluster, rp.time, T, cells, where=rows))
    tot = cnt if rp.sizes is None else cell_sums(rp.cluster, rp.time, T, cells, rp.sizes, rows)
    treated = np.isin(np.arange(len(tot)) // T, rp.treated) & (cnt > 0)
    return int(tot[treated].min())
