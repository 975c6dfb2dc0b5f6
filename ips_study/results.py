"""One results interface for every design.

Every estimator in :mod:`ips_study.designs` returns a :class:`Results` (or a subclass).
The coefficient table returned by :meth:`Results.tidy` is the single source of truth:
``estimate``, ``std_error``, ``conf_int`` and ``p_value`` all read from it, so a number
can never disagree between the text summary, the JSON export and the plot.

Term, outcome and unit names are kept exactly as given (any script; ``tidy()`` and
:meth:`Results.to_json` round-trip them); the text :meth:`Results.summary` pads by display
width (:func:`display_width`), so non-ASCII and decomposed names stay aligned.

Results are read-only. A design that lets the user switch inference after fitting
(see :mod:`ips_study.designs.did`) returns a *new* results object rather than mutating.

Examples
--------
>>> import pandas as pd
>>> tidy = pd.DataFrame({"estimate": [2.0], "std_error": [0.5]}, index=["treated_post"])
>>> res = Results(tidy, design="did", outcome="workdays", inference="cluster",
...               n_obs=100, n_units=10)
>>> round(float(res.conf_int().loc["treated_post", "lower"]), 3)
1.02
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats

#: Fixed column names of :meth:`Results.tidy` (pyfixest-style: one vocabulary everywhere).
TIDY_COLUMNS = ["estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high"]

#: Fixed column names of an event-time table.
EVENT_TIME_COLUMNS = ["event_time", "estimate", "std_error", "conf_low", "conf_high"]


def _complete_tidy(tidy: pd.DataFrame, level: float, df_resid: float | None) -> pd.DataFrame:
    """Fill statistic, p-value and interval columns that the estimator did not supply.

    Missing intervals and p-values are filled from a normal (or t with ``df_resid``)
    reference distribution; estimators whose inference is not of that form (randomization
    inference, Conley-Taber, bootstrap) supply their own columns and they are kept as given.
    """
    out = tidy.copy()
    if "estimate" not in out or "std_error" not in out:
        raise ValueError("tidy table needs at least 'estimate' and 'std_error' columns")
    est = out["estimate"].astype(float)
    se = out["std_error"].astype(float)
    dist = stats.t(df_resid) if df_resid else stats.norm()
    with np.errstate(divide="ignore", invalid="ignore"):
        if "statistic" not in out:
            out["statistic"] = est / se
        if "p_value" not in out:
            out["p_value"] = 2 * dist.sf(np.abs(out["statistic"].astype(float)))
    crit = dist.ppf(0.5 + level / 2)
    if "conf_low" not in out:
        out["conf_low"] = est - crit * se
    if "conf_high" not in out:
        out["conf_high"] = est + crit * se
    extra = [c for c in out.columns if c not in TIDY_COLUMNS]
    return out[TIDY_COLUMNS + extra]


def display_width(text: str) -> int:
    """Columns ``text`` takes in a fixed-width font: combining marks take none (a
    decomposed "å", as macOS file names give, is one column), East Asian wide characters
    two, everything else (æ, ø, å, ², ×, −) one. ``len`` would misalign such names.

    >>> display_width("a\u030a"), display_width("alder²"), display_width("人口")
    (1, 6, 4)
    """
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, align: str = "l") -> str:
    """``text`` padded with spaces to ``width`` display columns (``align`` "l" or "r")."""
    fill = " " * max(width - display_width(text), 0)
    return text + fill if align == "l" else fill + text


def _frame_text(frame: pd.DataFrame, fmt: Callable[[float], str]) -> str:
    """``DataFrame.to_string`` laid out by display width: the index (and its name) left,
    the columns right, numbers through ``fmt``, missing values as ``NaN``."""
    def cell(v):
        if isinstance(v, (float, np.floating)):
            return "NaN" if math.isnan(v) else fmt(float(v))
        return str(v)

    index = [str(i) for i in frame.index]
    cols = [[str(c)] + [cell(v) for v in frame[c].tolist()] for c in frame.columns]
    w0 = max([display_width(i) for i in index] + [display_width(str(frame.index.name or ""))])
    widths = [max(display_width(x) for x in col) for col in cols]
    lines = [" " * w0 + "".join("  " + pad(col[0], w, "r") for col, w in zip(cols, widths))]
    if frame.index.name is not None:
        lines.append(pad(str(frame.index.name), w0))
    for r, name in enumerate(index):
        lines.append(pad(name, w0) + "".join("  " + pad(col[r + 1], w, "r")
                                             for col, w in zip(cols, widths)))
    return "\n".join(line.rstrip() for line in lines)


def _jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars and containers into plain JSON types (NaN -> None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return None if math.isnan(v) or math.isinf(v) else v
    if isinstance(value, (pd.Timestamp,)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def _labelled_cov(cov, terms: pd.Index) -> pd.DataFrame:
    """A covariance as a terms x terms DataFrame (checks its shape against the terms)."""
    if isinstance(cov, pd.DataFrame):
        return cov.reindex(index=terms, columns=terms).astype(float)
    arr = np.asarray(cov, dtype=float)
    if arr.shape != (len(terms), len(terms)):
        raise ValueError(f"cov has shape {arr.shape}, expected {(len(terms), len(terms))}")
    return pd.DataFrame(arr, index=terms, columns=terms)


@dataclass(frozen=True)
class Summary:
    """A rendered results summary: text, HTML and LaTeX views of the same tables."""

    title: str
    header: pd.DataFrame
    table: pd.DataFrame
    notes: tuple[str, ...] = ()

    def as_text(self) -> str:
        lines = [self.title, "=" * max(display_width(self.title), 40)]
        lines += [f"{k:<22}{v}" for k, v in self.header["value"].items()]
        lines.append("-" * 40)
        lines.append(self.table.to_string(float_format=lambda x: f"{x:.4g}")
                     if self.table.index.map(str).str.isascii().all() else
                     # non-ASCII term names: pandas pads by len(), which misaligns a
                     # decomposed "å" or a wide character
                     _frame_text(self.table, lambda x: f"{x:.4g}"))
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        notes = "".join(f"<p><em>Note:</em> {n}</p>" for n in self.notes)
        return (f"<h4>{self.title}</h4>" + self.header.to_html(header=False)
                + self.table.to_html(float_format=lambda x: f"{x:.4g}") + notes)

    def as_latex(self) -> str:
        body = self.table.to_latex(float_format=lambda x: f"{x:.4g}")
        notes = "".join(f"\\par\\emph{{Note:}} {n}\n" for n in self.notes)
        return f"% {self.title}\n" + body + notes

    def __str__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


#: what to do instead of ``with_inference`` for results that do not keep their data. The
#: staggered results (``ips.att_gt`` and the register design) do not keep the panel: the
#: placebo re-runs the design on the never-treated units, so switching would mean carrying
#: the whole person or unit panel inside every result (and its pickles), for a call that is
#: one refit away. ``ips.att_gt`` itself has no ``inference=`` argument, hence the pointer.
_NO_SWITCH = {
    "staggered": ("for ips.att_gt use .aggregate(kind, bootstrap=True) for the bootstrap; "
                  "placebo inference is in the register design, "
                  "ips_study.designs.staggered.fit_panel(..., inference='placebo')"),
}


class refitter:
    """A :meth:`Results.with_inference` hook that re-runs ``design(*args, **kwargs)`` with
    another ``inference`` and confidence ``level`` (and any extra options).

    A class rather than a closure so that results stay picklable (parallel simulations).
    """

    def __init__(self, design: Callable[..., "Results"], *args, **kwargs) -> None:
        self.design, self.args, self.kwargs = design, args, kwargs

    def __call__(self, inference: str, level: float, **options) -> "Results":
        return self.design(*self.args, **{**self.kwargs, **options}, inference=inference,
                           level=level)


class Results:
    """Read-only estimation results shared by all designs.

    Parameters
    ----------
    tidy : DataFrame
        One row per term (index = term name) with at least ``estimate`` and ``std_error``;
        ``statistic``, ``p_value``, ``conf_low`` and ``conf_high`` are filled from a normal
        (or t) reference when absent. Extra columns are kept.
    design, outcome, inference : str
        Names reported in summaries and JSON (``inference`` names the method, e.g.
        ``"cluster"``, ``"placebo"``, ``"conley-taber"``).
    n_obs, n_units : int
        Observations and independent units (clusters / municipalities / persons).
    main_term : str, optional
        The term reported as *the* estimate (defaults to the first row).
    level : float
        Confidence level of the stored interval columns.
    df_resid : float, optional
        Degrees of freedom for t-based intervals; ``None`` means normal.
    event_time : DataFrame, optional
        Event-study rows with :data:`EVENT_TIME_COLUMNS`.
    extras : dict, optional
        Design-specific read-only material (weights, diagnostics) exported in JSON.
    conf_int_fn : callable, optional
        ``level -> DataFrame(lower, upper)`` for methods whose intervals are not
        estimate +/- critical value x SE (randomization inference, bootstrap).
    n_min : int, optional
        Smallest number of persons behind any reported number (for disclosure control).
    cov : array or DataFrame, optional
        Covariance of the estimates (terms x terms, in the order of ``tidy``) when the
        inference method has one (CRV1 ``cluster``); exposed as :attr:`cov`.

    Notes
    -----
    statsmodels / linearmodels users find the usual names: :attr:`params`,
    :attr:`std_errors` (alias :attr:`bse`), :attr:`tstats`, :attr:`pvalues`, :attr:`cov`
    and :attr:`nobs`, all labelled by term and read from :meth:`tidy`.
    """

    def __init__(
        self,
        tidy: pd.DataFrame,
        *,
        design: str,
        outcome: str,
        inference: str,
        n_obs: int,
        n_units: int,
        main_term: str | None = None,
        level: float = 0.95,
        df_resid: float | None = None,
        event_time: pd.DataFrame | None = None,
        extras: dict[str, Any] | None = None,
        conf_int_fn: Callable[[float], pd.DataFrame] | None = None,
        n_min: int | None = None,
        notes: tuple[str, ...] = (),
        cov: np.ndarray | pd.DataFrame | None = None,
        refit: Callable[..., "Results"] | None = None,
    ) -> None:
        self._tidy = _complete_tidy(tidy, level, df_resid)
        self._tidy.index.name = "term"
        self._cov = None if cov is None else _labelled_cov(cov, self._tidy.index)
        self.design = design
        self.outcome = outcome
        self.inference = inference
        self.n_obs = int(n_obs)
        self.n_units = int(n_units)
        self.main_term = main_term if main_term is not None else str(self._tidy.index[0])
        if self.main_term not in self._tidy.index:
            raise KeyError(f"main term {self.main_term!r} not in the coefficient table")
        self.level = level
        self.df_resid = df_resid
        self._event_time = None if event_time is None else event_time.reset_index(drop=True).copy()
        self._extras = dict(extras or {})
        self._conf_int_fn = conf_int_fn
        self.n_min = n_min
        self.notes = tuple(notes)
        self._refit = refit

    # -- accessors: all read from tidy ---------------------------------------------------
    def tidy(self) -> pd.DataFrame:
        """Coefficient table (copy): the single source of truth."""
        return self._tidy.copy()

    @property
    def params(self) -> pd.Series:
        """Estimates labelled by term (statsmodels/linearmodels ``params``)."""
        return self._tidy["estimate"].rename("params")

    @property
    def std_errors(self) -> pd.Series:
        """Standard errors labelled by term, as reported by the inference method."""
        return self._tidy["std_error"].rename("std_error")

    @property
    def bse(self) -> pd.Series:
        """Alias of :attr:`std_errors` (the statsmodels name)."""
        return self.std_errors

    @property
    def tstats(self) -> pd.Series:
        """Test statistics (estimate / SE unless the method supplies its own) by term."""
        return self._tidy["statistic"].astype(float).rename("tstat")

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values by term under this object's inference method."""
        return self._tidy["p_value"].astype(float).rename("pvalue")

    @property
    def nobs(self) -> int:
        """Number of observations used in the fit (alias of ``n_obs``)."""
        return self.n_obs

    @property
    def has_cov(self) -> bool:
        """Whether the inference method supplied a covariance matrix (see :attr:`cov`)."""
        return self._cov is not None

    @property
    def cov(self) -> pd.DataFrame:
        """Covariance of the estimates, a terms x terms DataFrame.

        Methods with a covariance fill it: CRV1 ``cluster``, and ``placebo-t`` with one or
        several treated units (the correlation of its rescaled placebo draws, scaled by the
        standard errors). Rank-based and bootstrap methods (placebo, Conley-Taber,
        Ferman-Pinto, wild) have no covariance matrix: the frame then
        has the same labels and is NaN everywhere, so that code written for statsmodels
        keeps running but no number is invented; test :attr:`has_cov` before using it, or
        refit with ``with_inference("cluster")``.
        """
        if self._cov is not None:
            return self._cov.copy()
        idx = self._tidy.index
        return pd.DataFrame(np.nan, index=idx, columns=idx)

    @property
    def estimate(self) -> float:
        return float(self._tidy.at[self.main_term, "estimate"])

    @property
    def std_error(self) -> float:
        return float(self._tidy.at[self.main_term, "std_error"])

    @property
    def p_value(self) -> float:
        return float(self._tidy.at[self.main_term, "p_value"])

    @property
    def extras(self) -> dict[str, Any]:
        return dict(self._extras)

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Confidence intervals (columns ``lower``, ``upper``) for every term."""
        if level is None or math.isclose(level, self.level):
            ci = self._tidy[["conf_low", "conf_high"]]
            return ci.set_axis(["lower", "upper"], axis=1).copy()
        if self._conf_int_fn is not None:
            return self._conf_int_fn(level)
        dist = stats.t(self.df_resid) if self.df_resid else stats.norm()
        crit = dist.ppf(0.5 + level / 2)
        est, se = self._tidy["estimate"], self._tidy["std_error"]
        return pd.DataFrame({"lower": est - crit * se, "upper": est + crit * se})

    def with_inference(self, inference: str, *, level: float | None = None,
                       **options) -> "Results":
        """The same estimates under another inference method (a new object).

        ``inference`` is one of the design's methods (:func:`ips_study.inference.methods_for`,
        e.g. ``methods_for("did")``); ``level`` is the confidence level (default this
        object's); ``options`` go to the method (e.g. ``seed=``, ``reps=``, ``weights=`` of
        the wild bootstrap). DiD and event study reuse their fitted regression; synth, sdid
        re-run with the new method. Results built without a way back to their design (the
        staggered ones, which do not keep the panel) raise a one-line error saying what to
        call instead.
        """
        if self._refit is None:
            how = _NO_SWITCH.get(self.design, f"refit with inference={inference!r}")
            raise NotImplementedError(f"{self.design!r} results cannot switch inference after "
                                      f"fitting (they do not keep the data); {how}")
        return self._refit(inference, self.level if level is None else level, **options)

    def event_time(self) -> pd.DataFrame | None:
        """Event-time table (copy) for event-study type designs, else ``None``."""
        return None if self._event_time is None else self._event_time.copy()

    # -- rendering ------------------------------------------------------------------------
    def summary(self) -> Summary:
        """Summary with ``as_text()``, ``as_html()`` and ``as_latex()`` views."""
        header = pd.DataFrame(
            {"value": {
                "Design": self.design,
                "Outcome": self.outcome,
                "Inference": self.inference,
                "Observations": f"{self.n_obs:,}",
                "Units": f"{self.n_units:,}",
                "Confidence level": f"{self.level:.0%}",
            }}
        )
        title = f"{self.design} results: {self.outcome}"
        return Summary(title, header, self._tidy, self.notes)

    def __repr__(self) -> str:
        lo, hi = self.conf_int().loc[self.main_term]
        return (f"<{type(self).__name__} {self.design} {self.outcome}: "
                f"{self.estimate:.4g} (SE {self.std_error:.3g}, "
                f"{self.level:.0%} CI {lo:.4g} to {hi:.4g}, {self.inference})>")

    def _repr_html_(self) -> str:
        return self.summary().as_html()

    def plot(self, ax=None, **kwargs):
        """Plot estimates with intervals: event-time path if present, else coefficients.

        Returns the matplotlib ``Axes``.
        """
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        if self._event_time is not None:
            et = self._event_time
            ax.axhline(0, color="0.5", lw=0.8)
            ax.axvline(-0.5, color="0.5", lw=0.8, ls="--")
            ax.fill_between(et["event_time"], et["conf_low"], et["conf_high"],
                            color="0.8", label=f"{self.level:.0%} CI")
            ax.plot(et["event_time"], et["estimate"], "o-", color="black", label="Estimate",
                    **kwargs)
            ax.set_xlabel("Event time")
        else:
            t = self._tidy
            y = np.arange(len(t))
            ax.errorbar(t["estimate"], y,
                        xerr=[t["estimate"] - t["conf_low"], t["conf_high"] - t["estimate"]],
                        fmt="o", color="black", **kwargs)
            ax.set_yticks(y, t.index)
            ax.axvline(0, color="0.5", lw=0.8)
        ax.set_title(f"{self.design}: {self.outcome}")
        return ax

    # -- export ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON object of data contract, section 5, as a plain dict."""
        lo, hi = self.conf_int().loc[self.main_term]
        out: dict[str, Any] = {
            "design": self.design,
            "outcome": self.outcome,
            "estimate": self.estimate,
            "std_error": self.std_error,
            "conf_int": [lo, hi],
            "p_value": self.p_value,
            "n_obs": self.n_obs,
            "n_units": self.n_units,
            "inference": self.inference,
            "level": self.level,
            "terms": self._tidy.reset_index().to_dict(orient="records"),
        }
        if self._event_time is not None:
            rows = []
            for r in self._event_time.to_dict(orient="records"):
                rows.append({
                    "event_time": r["event_time"],
                    "estimate": r["estimate"],
                    "std_error": r["std_error"],
                    "conf_int": [r["conf_low"], r["conf_high"]],
                })
            out["event_time"] = rows
        if self._extras:
            out["extras"] = self._extras
        if self.notes:
            out["notes"] = list(self.notes)
        return _jsonable(out)

    def to_json(self, path=None, indent: int = 2) -> str:
        """Serialise :meth:`to_dict` (sorted keys, for byte-identical reruns); write if path."""
        text = json.dumps(self.to_dict(), indent=indent, sort_keys=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text
