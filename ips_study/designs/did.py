"""Two-way fixed-effects difference-in-differences of Bodø against control municipalities.

``fit_panel`` estimates ``y_it = a_i + g_t + beta * treated_i * post_t + x_it' gamma + e_it``

* on the person-period panel (``level="person"``): person and period fixed effects,
  observations = person-periods, clusters = municipality of residence;
* on the municipality-period aggregate panel (``level="municipality"``): municipality and
  period fixed effects, weighted by the population at risk (``n_persons``).

Fixed effects are absorbed by the within transformation of :mod:`ips_study.designs.twfe`
(linearmodels' ``PanelOLS`` gives the same numbers and is used in the tests as a cross-check).
Inference is a named choice (:mod:`ips_study.inference`) and can be switched after fitting
without refitting: ``res.with_inference("placebo")``.

Municipalities other than the treated one that adopted IPS inside the window (``ips_start``
not empty) are dropped by default, so controls are never treated (data contract, section 3).

Examples
--------
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import fit_panel, example_panel
>>> panel = example_panel(seed=1)
>>> res = fit_panel(panel, outcome="workdays", config=StudyConfig(), inference="placebo")
>>> res.inference, res.n_units
('placebo', 21)
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ips_study.inference import infer
from ips_study.results import Results, _complete_tidy

from .twfe import Demeaner, TwfeFit

#: inference used when none is named: the studentised placebo (Ferman & Pinto 2019 size
#: rescaling) was the only method within 3-8% rejection under the null in all three settings of
#: docs/inference.md (500 draws of the municipality-level DGP, 500 draws of the synthetic register
#: generator at person and at municipality level); plain placebo and Conley-Taber are valid but
#: conservative when Bodø is larger than typical controls, and Ferman-Pinto over-rejects on
#: person-level fits
DEFAULT_INFERENCE = "placebo-t"
LEVELS = ("person", "municipality")


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

    @property
    def fit(self) -> TwfeFit:
        """The fitted :class:`~ips_study.designs.twfe.TwfeFit` (shared, do not modify)."""
        return self._fit

    def with_inference(self, inference: str, *, level: float | None = None,
                       **options) -> "DidResults":
        """Same estimates under another inference method (a new object).

        Parameters
        ----------
        inference : ``placebo-t``, ``placebo``, ``conley-taber``, ``ferman-pinto``, ``cluster``
            or ``wild`` (:data:`ips_study.inference.METHODS`)
        level : confidence level (defaults to this object's)
        options : passed to the method (e.g. ``weights="rademacher"`` for ``wild``)
        """
        return _build(type(self), self._fit, self._contrasts, inference,
                      self.level if level is None else level, options, self._meta)

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
        ax.axvline(float(self._tidy.at[term, "estimate"]), color="black", lw=2,
                   label="treated estimate")
        ax.set_xlabel(f"{term} ({self.inference})")
        ax.set_ylabel("count")
        ax.legend()
        return ax


def _build(cls, fit: TwfeFit, contrasts: pd.DataFrame, inference: str, level: float,
           options: dict[str, Any], meta: dict[str, Any]):
    opts = dict(options)
    if inference == "cluster":
        opts.setdefault("n_treated", 1)
    out = infer(fit, inference, contrasts, level=level, **opts)
    extras = {**meta.get("extras", {}), **out.extras}
    if "pretrend_fn" in meta:
        extras["pretrend"] = meta["pretrend_fn"](out)
    kwargs = dict(design=meta["design"], outcome=meta["outcome"], inference=inference,
                  n_obs=fit.n, n_units=fit.n_units, main_term=meta["main_term"], level=level,
                  df_resid=out.df_resid, extras=extras, conf_int_fn=out.conf_int_fn,
                  n_min=meta.get("n_min"), notes=tuple(meta.get("notes", ())) + out.notes)
    if "event_time_fn" in meta:
        kwargs["event_time"] = meta["event_time_fn"](
            _complete_tidy(out.tidy, level, out.df_resid), level)
    return cls(out.tidy, fit=fit, contrasts=contrasts, inference_options=opts, meta=meta,
               null_draws=out.null_draws, **kwargs)


# -- panel preparation --------------------------------------------------------------------------
def _covariate_frame(df: pd.DataFrame, covariates: Sequence[str]) -> pd.DataFrame:
    parts = []
    for c in covariates:
        if c not in df:
            raise KeyError(f"covariate {c!r} is not a panel column")
        col = df[c]
        if pd.api.types.is_numeric_dtype(col):
            parts.append(col.astype(float).rename(c))
        else:
            parts.append(pd.get_dummies(col, prefix=c, drop_first=True, dtype=float))
    return pd.concat(parts, axis=1) if parts else pd.DataFrame(index=df.index)


def aggregate(panel: pd.DataFrame, outcome: str, covariates: Sequence[str] = (),
              weights: str | None = None) -> pd.DataFrame:
    """Municipality-period means of the outcome and covariates, with ``n_persons``.

    Used when ``level="municipality"`` is asked for on a person-period panel (the format of
    ``ips_study.panel.aggregate_panel``). ``weights`` (a column) gives weighted means and
    ``n_persons`` as the sum of weights.
    """
    keys = ["municipality", "period"]
    w = np.ones(len(panel)) if weights is None else panel[weights].to_numpy(float)
    cov = _covariate_frame(panel, covariates)
    vals = pd.concat([panel[[outcome]].astype(float), cov], axis=1).mul(w, axis=0)
    vals["n_persons"] = w
    for c in ("post", "treated"):
        vals[c] = panel[c].to_numpy() * w if c in panel else 0.0
    g = vals.groupby([panel[k] for k in keys], sort=True).sum()
    n = g.pop("n_persons")
    out = g.div(n, axis=0)
    out["n_persons"] = n
    out = out.reset_index()
    for c in ("post", "treated"):
        out[c] = (out[c] > 0.5).astype(np.int8)
    first = panel.groupby(keys, sort=True).first()
    for c in ("period_start", "event_time", "ips_start"):
        if c in panel:
            out[c] = first[c].to_numpy()
    return out


def codes(col: pd.Series, sort: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Dense integer codes 0..L-1 and labels of a column.

    Categorical and small-range integer columns are coded in O(n) without hashing (a 20M-row
    person-month panel spends most of its set-up time here otherwise).
    """
    # widen to intp once and count on that (bincount would widen a copy itself); when every
    # level occurs (the usual case) the widened values are already the codes
    if isinstance(col.dtype, pd.CategoricalDtype):
        c = col.cat.codes.to_numpy()
        if len(c) and c.min() >= 0:
            x = c.astype(np.intp)
            used = np.bincount(x, minlength=len(col.cat.categories)) > 0
            cats = np.asarray(col.cat.categories)
            if used.all():
                return x, cats
            return (np.cumsum(used) - 1)[x], cats[used]
    elif pd.api.types.is_integer_dtype(col.dtype) and len(col):
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v):
            x = np.subtract(v, lo, dtype=np.intp)
            used = np.bincount(x, minlength=hi - lo + 1) > 0
            if used.all():
                return x, np.arange(lo, hi + 1)
            return (np.cumsum(used) - 1)[x], np.flatnonzero(used) + lo
    return pd.factorize(col, sort=sort)


def period_start(df: pd.DataFrame) -> pd.Series:
    """First day of each row's period (from ``period_start`` or the ``period`` label)."""
    if "period_start" in df:
        return pd.to_datetime(df["period_start"])
    label = df["period"].astype(str)
    return pd.to_datetime(label.where(label.str.len() > 4, label + "-01"), format="%Y-%m")


def prepare(panel: pd.DataFrame, *, outcome: str, config, level: str | None = None,
            covariates: Sequence[str] = (), weights: str | None | bool = None,
            drop_other_treated: bool = True) -> dict[str, Any]:
    """Validate and reduce a panel to the arrays the estimators need.

    Returns a dict with the (possibly aggregated) frame ``df``, the fixed effects ``fe``,
    codes and labels of units and periods, ``post``, ``event_time``, covariates ``Z``, the
    weights, ``n_min`` and bookkeeping ``extras``/``notes``.
    """
    if level is None:
        level = "municipality" if ("n_persons" in panel and "person_id" not in panel) else "person"
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if outcome not in panel:
        raise KeyError(f"outcome {outcome!r} is not a panel column")
    treated = str(config.treated_municipality)
    df = panel
    notes: list[str] = []
    extras: dict[str, Any] = {"level": level}
    if drop_other_treated and "ips_start" in df:
        other = (df["municipality"] != treated) & df["ips_start"].notna() & (
            pd.to_datetime(df["ips_start"]) <= config.window_end)
        if other.any():
            dropped = sorted(df.loc[other, "municipality"].unique().tolist())
            extras["dropped_municipalities"] = dropped
            notes.append(f"dropped {len(dropped)} municipalities that adopted IPS in the window")
            df = df.loc[~other]
    need = [outcome, *covariates]
    ok = np.ones(len(df), dtype=bool)
    for c in need:
        ok &= df[c].notna().to_numpy()
    if not ok.all():
        extras["dropped_missing"] = int((~ok).sum())
        df = df.loc[ok]
    aggregated = "n_persons" in df and "person_id" not in df
    if level == "municipality" and not aggregated:
        df = aggregate(df, outcome, covariates, weights if isinstance(weights, str) else None)
        aggregated = True
        base = {"municipality", "period", outcome, "n_persons", "post", "treated",
                "period_start", "event_time", "ips_start"}
        covariates = [c for c in df.columns if c not in base]
    elif level == "person" and aggregated:
        raise ValueError("level='person' needs a person-period panel (person_id column)")
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        df = df.reset_index(drop=True)
    unit, unit_labels = codes(df["municipality"], sort=True)
    if treated not in set(np.asarray(unit_labels, dtype=str).tolist()):
        raise ValueError(f"treated municipality {treated} has no rows in the panel")
    period, period_labels = codes(df["period"], sort=True)
    if "post" in df:
        post = df["post"].to_numpy(np.int8)
    else:
        post = (period_start(df) >= config.ips_start).to_numpy(np.int8)
    if aggregated:
        fe = [unit, period]
        w = None if weights is False else df[weights if isinstance(weights, str) else
                                              "n_persons"].to_numpy(float)
    else:
        person, _ = codes(df["person_id"])
        fe = [person, period]
        w = df[weights].to_numpy(float) if isinstance(weights, str) else None
    Z = _covariate_frame(df, covariates)
    tcode = int(np.flatnonzero(np.asarray(unit_labels) == treated)[0])
    in_t = unit == tcode
    if aggregated:
        n_min = int(df.loc[in_t, "n_persons"].min())
    else:
        n_min = int(np.bincount(period[in_t]).min()) if in_t.any() else 0
    return dict(df=df, fe=fe, unit=unit, unit_labels=np.asarray(unit_labels, dtype=str),
                treated=tcode, period=period,
                period_labels=np.asarray(period_labels, dtype=str), post=post,
                Z=Z.to_numpy(float), covariate_names=list(Z.columns), weights=w,
                n_min=n_min, extras=extras, notes=notes)


def build_fit(prep: dict[str, Any], B: np.ndarray, terms: Sequence[str],
              small_sample: str = "fixest") -> TwfeFit:
    """A :class:`TwfeFit` from :func:`prepare` output and a timing matrix ``B``.

    Covariates that are collinear with the fixed effects (e.g. age with person and year
    effects) are dropped with a note rather than failing.
    """
    Z, names = prep["Z"], list(prep["covariate_names"])
    while Z.shape[1]:
        j = _dependent(*_gram(prep, B, Z))
        if j is None:
            break
        if j < B.shape[1]:
            raise np.linalg.LinAlgError("treatment columns are collinear with the fixed effects")
        drop = j - B.shape[1]
        prep["notes"].append(f"covariate {names[drop]!r} dropped: collinear with fixed effects")
        warnings.warn(prep["notes"][-1], UserWarning, stacklevel=3)
        Z = np.delete(Z, drop, axis=1)
        names.pop(drop)
    return TwfeFit(y=prep["y"], B=B, Z=Z, unit=prep["unit"], unit_labels=prep["unit_labels"],
                   treated=prep["treated"], period=prep["period"],
                   period_labels=prep["period_labels"], post=prep["post"], fe=prep["fe"],
                   weights=prep["weights"], terms=terms, covariates=names,
                   small_sample=small_sample)


def _gram(prep, B, Z):
    """Weighted cross-products of the demeaned regressors and the raw sums of squares."""
    dm = Demeaner(prep["fe"], prep["weights"])
    X = np.column_stack([(prep["unit"] == prep["treated"])[:, None] * B, Z])
    Xt = dm(X)
    Xw = Xt if prep["weights"] is None else Xt * prep["weights"][:, None]
    raw = X if prep["weights"] is None else X * prep["weights"][:, None]
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


def fit_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
              level: str | None = None, covariates: Sequence[str] = (),
              weights: str | None | bool = None, conf_level: float = 0.95,
              small_sample: str = "fixest", drop_other_treated: bool = True,
              **inference_options) -> DidResults:
    """Two-way fixed-effects DiD (CLI design ``did``).

    Parameters
    ----------
    panel : DataFrame
        Person-period panel (or a municipality-period aggregate panel with ``n_persons``).
    outcome : str
        Outcome column (e.g. ``"workdays"``).
    config : StudyConfig
        Gives the treated municipality and IPS start.
    inference : str, optional
        ``placebo-t``, ``placebo``, ``conley-taber``, ``ferman-pinto``, ``cluster`` or ``wild``
        (default :data:`DEFAULT_INFERENCE`, ``placebo-t``; see docs/inference.md).
    level : ``"person"`` (person and period effects) or ``"municipality"`` (aggregate,
        municipality and period effects, population weights); default: ``"municipality"``
        for an aggregate panel (``n_persons``, no ``person_id``), else ``"person"``.
    covariates : column names (non-numeric ones become dummies).
    weights : column with observation weights; for the aggregate level defaults to
        ``n_persons`` (``False`` for unweighted).
    small_sample : CRV1 convention, ``"fixest"`` (pyfixest default) or ``"stata"`` (plm ``sss``).
    inference_options : passed to the inference method.

    Returns
    -------
    DidResults
        Term ``treated_post``; switch inference with ``res.with_inference(name)``.
    """
    prep = prepare(panel, outcome=outcome, config=config, level=level, covariates=covariates,
                   weights=weights, drop_other_treated=drop_other_treated)
    prep["y"] = prep["df"][outcome].to_numpy(float)
    fit = build_fit(prep, prep["post"].astype(float)[:, None], ["treated_post"], small_sample)
    contrasts = pd.DataFrame({"treated_post": [1.0]}, index=["treated_post"])
    meta = dict(design="did", outcome=outcome, main_term="treated_post", n_min=prep["n_min"],
                extras=prep["extras"], notes=prep["notes"])
    return _build(DidResults, fit, contrasts, inference or DEFAULT_INFERENCE, conf_level,
                  inference_options, meta)


def example_panel(n_controls: int = 20, treated_size: int = 60, years=range(2008, 2020),
                  effect: float = 0.0, seed: int = 0) -> pd.DataFrame:
    """A small person-year panel in the data-contract format for examples and tests.

    Municipality ``1804`` has ``treated_size`` persons; controls have 20 to 200 persons.
    The outcome ``workdays`` has person and year effects, a municipality-year shock and
    ``effect`` added for the treated from 2013.
    """
    rng = np.random.default_rng(seed)
    sizes = np.r_[treated_size, rng.integers(20, 200, n_controls)]
    codes = ["1804"] + [f"{1805 + j:04d}" for j in range(n_controls)]
    years = np.asarray(list(years))
    rows = []
    pid = 0
    for code, size in zip(codes, sizes):
        shock = rng.normal(0, 3, len(years))
        for _ in range(size):
            a = rng.normal(60, 20)
            y = a + 2 * (years - years[0]) + shock + rng.normal(0, 15, len(years))
            y = y + effect * ((code == "1804") & (years >= 2013))
            rows.append(pd.DataFrame({"person_id": f"p{pid}", "municipality": code,
                                      "period": years.astype(str), "workdays": y}))
            pid += 1
    df = pd.concat(rows, ignore_index=True)
    df["period_start"] = pd.to_datetime(df["period"] + "-01-01")
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = (df["period_start"] >= "2013-01-01").astype(np.int8)
    df["event_time"] = df["period"].astype(int) - 2013
    df["ips_start"] = pd.NaT
    df.loc[df["treated"] == 1, "ips_start"] = pd.Timestamp("2013-01-01")
    df["months_observed"] = 12
    return df


def fit_event_panel(panel: pd.DataFrame, *, outcome: str, config, inference: str | None = None,
                    **options):
    """Event study (CLI design ``event``); see :func:`ips_study.designs.event.fit_event_panel`."""
    from .event import fit_event_panel as _fit_event

    return _fit_event(panel, outcome=outcome, config=config, inference=inference, **options)
