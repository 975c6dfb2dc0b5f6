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
from .labels import group_label, label, outcome_label
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
            treated_code: str | None = "1804", title: bool = True):
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

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax, _ = _draw(results, ax, lang, min_count, treated_code, cumulative=False)
    event = outcome_label(results.outcome, lang)
    p = results.logrank()["p_value"]
    text = f"{label('kaplan_meier', lang)}: log-rank p = {format_number(p, lang)}"
    finish(ax, lang=lang, title=text if title else None,
           xlabel=label("months_since_index", lang),
           ylabel=f"{label('free_of', lang)} {event}", legend_loc="lower left",
           legend_title=label("ci_pointwise", lang, level=results.level))
    return ax


def plot_cumulative_incidence(results, ax=None, *, lang: str = "en",
                              min_count: int = disclosure.MIN_COUNT,
                              treated_code: str | None = "1804", title: bool = True):
    """Aalen–Johansen cumulative incidence per group, the other event competing.

    Parameters
    ----------
    results : CumincResults
        From ``ips_study.designs.survival.fit_cuminc_panel``.
    ax, lang, min_count, treated_code, title :
        As :func:`plot_km` (title with Gray's test p-value).

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
    finish(ax, lang=lang,
           title=(f"{label('cumulative_incidence', lang)}: Gray p = {format_number(p, lang)}"
                  if title else None),
           xlabel=label("months_since_index", lang),
           ylabel=f"{label('cumulative_incidence', lang)}: {event}", legend_loc="upper left",
           legend_title=label("ci_pointwise", lang, level=results.level))
    return ax


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
           title=(f"{_label('schoenfeld_title', lang)}: {term} (p = {format_number(p, lang)})"
                  if title else None),
           xlabel=xlabel, ylabel=f"β(t): {term}", legend_loc="below")
    return ax
