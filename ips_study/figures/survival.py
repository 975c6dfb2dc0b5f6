"""Survival figures: Kaplan–Meier curves and cumulative incidence with a competing event.

Both wrap the survival design's own curve drawing
(:func:`ips_study.designs.survival.km.plot_curves`) and add what a published figure needs:
every curve ends where its risk set falls below ``min_count`` persons
(:func:`ips_study.disclosure.truncate_survival`), groups get readable English or Norwegian
names, and the curves are restyled to greyscale line styles so that they can be told apart
in print.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import pandas as pd
>>> curve = pd.DataFrame({"time": [1., 2., 3.], "n_risk": [40., 20., 4.], "n_event": [4., 2., 1.],
...                       "surv": [.9, .81, .6], "std_err": [.05, .07, .2],
...                       "lower": [.8, .7, .3], "upper": [.95, .9, .8]})
>>> curves = safe_curves({"treated": curve}, min_count=5)
>>> curves["treated"]["time"].tolist()
[1.0, 2.0]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import disclosure
from ..designs.survival.km import plot_curves
from .labels import group_label, inference_label, label, outcome_label, term_label
from .style import BAND, check_lang, finish, format_number, new_axes, series_style


def safe_curves(curves: dict[str, pd.DataFrame], min_count: int = disclosure.MIN_COUNT
                ) -> dict[str, pd.DataFrame]:
    """Each curve cut where its risk set (``n_risk``) first falls below ``min_count``.

    A group whose whole curve rests on fewer persons is dropped.
    """
    out = {}
    for name, c in curves.items():
        cut = disclosure.truncate_survival(c, at_risk_col="n_risk", min_count=min_count)
        if len(cut):
            out[name] = cut
    return out


def number_at_risk(results, times, min_count: int = disclosure.MIN_COUNT,
                   risk_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Persons at risk per group (rows) at each of ``times`` (columns), disclosure-safe.

    Exact counts from ``risk_table`` (groups x times) or ``results.risk_table()`` where it
    has these times (Kaplan–Meier: persons with entry < t <= exit; the same persons are at
    risk for the cumulative incidence of either event, so the Kaplan–Meier table serves
    both); otherwise, and at time 0, the risk set of the curve's first event time on or
    after t (an approximation: censoring between event times is not seen). Counts below
    ``min_count`` and times past a curve's end are missing (printed blank).

    >>> import pandas as pd
    >>> class R:  # a results object with curves only
    ...     def curves(self):
    ...         return {"treated": pd.DataFrame({"time": [1., 12., 30.], "n_risk": [50., 20., 3.]})}
    >>> number_at_risk(R(), [0, 12, 24, 36]).loc["treated"].tolist()
    [50.0, 20.0, nan, nan]
    """
    times = [float(t) for t in times]
    table = risk_table.copy() if risk_table is not None else None
    if table is None and hasattr(results, "risk_table"):
        try:
            table = results.risk_table()
        except (TypeError, ValueError, AttributeError):
            table = None
    if table is not None:
        table.columns = [float(c) for c in table.columns]
    rows = {}
    for name, c in results.curves().items():
        t, n = c["time"].to_numpy(float), c["n_risk"].to_numpy(float)
        vals = []
        for x in times:
            if table is not None and x > 0 and name in table.index and x in table.columns:
                v = float(table.at[name, x])
            else:
                k = np.searchsorted(t, x, side="left")
                v = float(n[k]) if k < len(t) else np.nan
            vals.append(v if v >= min_count else np.nan)
        rows[name] = vals
    return pd.DataFrame.from_dict(rows, orient="index", columns=times)


def add_number_at_risk(ax, results, *, lang: str = "en", min_count: int = disclosure.MIN_COUNT,
                       treated_code: str | None = "1804", times=None,
                       risk_table: pd.DataFrame | None = None) -> pd.DataFrame:
    """Print the number-at-risk table under ``ax`` at its x ticks; returns the table drawn."""
    if times is None:
        lo, hi = ax.get_xlim()
        times = [t for t in ax.get_xticks() if max(lo, 0) <= t <= hi]
    table = number_at_risk(results, times, min_count, risk_table)
    order = sorted(table.index, key=lambda k: (not str(k).startswith("treated"), str(k)))
    sep = "\u2009" if lang == "no" else ","
    # rows sit below the x label, at fixed distances in points (independent of figure size)
    ax.annotate(label("number_at_risk", lang), xy=(0, 0), xycoords="axes fraction",
                xytext=(0, -42), textcoords="offset points", ha="left", va="top",
                fontsize=7, fontweight="bold")
    for i, name in enumerate(order):
        y = -42 - 10 * (i + 1)
        ax.annotate(group_label(name, lang, treated_code), xy=(0, 0), xycoords="axes fraction",
                    xytext=(-4, y), textcoords="offset points", ha="right", va="top", fontsize=7)
        for t, v in zip(table.columns, table.loc[name]):
            text = f"{int(v):,}".replace(",", sep) if np.isfinite(v) else ""
            ax.annotate(text, xy=(t, 0), xycoords=("data", "axes fraction"), xytext=(0, y),
                        textcoords="offset points", ha="center", va="top", fontsize=7)
    return table.loc[order]


def _yearly_ticks(ax) -> None:
    """Month axes ticked every 12 months (the Kaplan–Meier risk table's own times)."""
    from matplotlib.ticker import MultipleLocator

    lo, hi = ax.get_xlim()
    ax.xaxis.set_major_locator(MultipleLocator(12 if hi - lo <= 120 else 24))


def _finish_curves(ax, results, title, ylabel, legend_loc, *, lang, min_count, treated_code,
                   at_risk, risk_table):
    """Labels, the band's method in the legend title, yearly ticks and the risk table."""
    finish(ax, lang=lang, title=title, xlabel=label("months_since_index", lang), ylabel=ylabel,
           legend_loc=legend_loc,
           legend_title=label("ci_pointwise_method", lang, level=results.level,
                              method=inference_label(results.inference, lang)))
    _yearly_ticks(ax)
    if at_risk:
        add_number_at_risk(ax, results, lang=lang, min_count=min_count, treated_code=treated_code,
                           risk_table=risk_table)
    return ax


def _draw(res, ax, lang: str, min_count: int, treated_code: str | None, cumulative: bool):
    disclosure.check_results(res, min_count)
    curves = safe_curves(res.curves(), min_count)
    if not curves:
        raise disclosure.DisclosureError(
            f"every {res.design} curve rests on fewer than {min_count} persons")
    # treated groups first, so Bodø has the solid line in every survival figure
    order = sorted(curves, key=lambda k: (not str(k).startswith("treated"), str(k)))
    named = {group_label(k, lang, treated_code): curves[k] for k in order}
    ax = new_axes(ax)
    before = len(ax.lines)
    plot_curves(named, ax, cumulative=cumulative, level=res.level)
    # greyscale restyle of the wrapped drawing: line styles differ, bands one light grey
    for i, line in enumerate(ax.lines[before:]):
        st = series_style(i, marker=False)
        line.set_color(st["color"])
        line.set_linestyle(st["linestyle"])
    for coll in ax.collections:
        coll.set_facecolor(BAND["color"])
        coll.set_alpha(0.45)
    return ax, curves


def plot_km(results, ax=None, *, lang: str = "en", min_count: int = disclosure.MIN_COUNT,
            treated_code: str | None = "1804", title: bool = True, at_risk: bool = True,
            risk_table: pd.DataFrame | None = None):
    """Kaplan–Meier curves per group (Bodø / controls x index era) with pointwise bands.

    Parameters
    ----------
    results : KMResults
        From ``ips_study.designs.survival.fit_km_panel``.
    ax : Axes, optional
    lang : {"en", "no"}
    min_count : int
        Curves stop where fewer persons are at risk.
    treated_code : str
        Names the treated group.
    title : bool
        Title with the log-rank p-value.
    at_risk : bool
        Number-at-risk table under the plot (:func:`add_number_at_risk`).
    risk_table : DataFrame, optional
        Exact numbers at risk (groups x months); default ``results.risk_table()``.

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax, _ = _draw(results, ax, lang, min_count, treated_code, cumulative=False)
    event = outcome_label(results.outcome, lang)
    p = results.logrank()["p_value"]
    text = f"{label('kaplan_meier', lang)}: log-rank p = {format_number(p, lang)}"
    return _finish_curves(ax, results, text if title else None,
                          f"{label('free_of', lang)} {event}", "lower left", lang=lang,
                          min_count=min_count, treated_code=treated_code, at_risk=at_risk,
                          risk_table=risk_table)


def plot_cumulative_incidence(results, ax=None, *, lang: str = "en",
                              min_count: int = disclosure.MIN_COUNT,
                              treated_code: str | None = "1804", title: bool = True,
                              at_risk: bool = True, risk_table: pd.DataFrame | None = None):
    """Aalen–Johansen cumulative incidence per group, the other event competing.

    Parameters
    ----------
    results : CumincResults
        From ``ips_study.designs.survival.fit_cuminc_panel``.
    ax, lang, min_count, treated_code, title, at_risk, risk_table :
        As :func:`plot_km` (title with Gray's test p-value). Pass the Kaplan–Meier
        ``risk_table()`` of the same panel for exact numbers at risk.

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax, curves = _draw(results, ax, lang, min_count, treated_code, cumulative=True)
    top = max(float(c["upper"].max(skipna=True)) for c in curves.values())
    top = max(top, max(float(c["estimate"].max()) for c in curves.values()))
    ax.set_ylim(0, min(1.0, top * 1.15 + 0.02))
    event = outcome_label(results.outcome, lang)
    p = results.gray()["p_value"]
    text = f"{label('cumulative_incidence', lang)}: Gray p = {format_number(p, lang)}"
    return _finish_curves(ax, results, text if title else None,
                          f"{label('cumulative_incidence', lang)}: {event}", "upper left",
                          lang=lang, min_count=min_count, treated_code=treated_code,
                          at_risk=at_risk, risk_table=risk_table)


def plot_schoenfeld(results, term: str | None = None, ax=None, *, lang: str = "en",
                    min_count: int = disclosure.MIN_COUNT, bins: int = 10, frac: float = 0.5,
                    title: bool = True):
    """Proportional-hazards check: the smoothed scaled Schoenfeld residuals of one term.

    The design's own plot (:meth:`ZPH.plot <ips_study.designs.survival.cox.ZPH.plot>`)
    scatters one residual per event, i.e. one point per person; a published figure may not.
    Here the residuals are summarised instead: a lowess smooth (each point a local average
    over a share ``frac`` of all events) and means with 95 % intervals in ``bins`` groups of
    equal size along the time axis, each resting on at least ``min_count`` events (fewer
    groups are used when needed). A flat line at the Cox coefficient supports proportional
    hazards (Grambsch & Therneau 1994).

    Parameters
    ----------
    results : CoxResults
        From ``ips_study.designs.survival.fit_cox_panel``.
    term : str, optional
        Covariate (default: the main term).

    Returns
    -------
    Axes
    """
    from statsmodels.nonparametric.smoothers_lowess import lowess

    from .labels import label as _label

    check_lang(lang)
    disclosure.check_results(results, min_count)
    zph = results.zph()
    term = term or results.main_term
    j = list(zph.names).index(term)
    x, y = np.asarray(zph.x, float), np.asarray(zph.scaled[:, j], float)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    k = int(min(bins, len(x) // min_count))
    if k < 1:
        raise disclosure.DisclosureError(f"fewer than {min_count} events: no residual summary")
    ax = new_axes(ax)
    groups = np.array_split(np.arange(len(x)), k)
    mx = np.array([x[g].mean() for g in groups])
    my = np.array([y[g].mean() for g in groups])
    se = np.array([y[g].std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else np.nan for g in groups])
    ax.errorbar(mx, my, yerr=1.96 * se, label=_label("binned_residuals", lang),
                elinewidth=0.9, **series_style(1, line=False))
    # it=0: a local mean; robustness iterations would chase one mode of a binary covariate
    sm = lowess(y, x, frac=frac, it=0, return_sorted=True)
    ax.plot(sm[:, 0], sm[:, 1], label="lowess", **series_style(0, marker=False))
    coef = float(zph.coef[j])
    ax.axhline(coef, linestyle=":", color="0.3", linewidth=0.9, label=_label("cox_coefficient", lang))
    p = float(zph.table.loc[term, "p"])
    xlabel = "1 − KM(t−)" if zph.transform == "km" else _label("months_since_index", lang)
    finish(ax, lang=lang,
           title=(f"{_label('schoenfeld_title', lang)}: {term_label(term, lang)} "
                  f"(p = {format_number(p, lang)})" if title else None),
           xlabel=xlabel, ylabel=f"β(t): {term_label(term, lang)}", legend_loc="below")
    return ax
