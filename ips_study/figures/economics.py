"""Figure 9 in the house style: the cost-effectiveness acceptability curve and the tornado.

The economic model (:mod:`ips_study.economics`) draws quick-look versions of both; these are
the published ones: human labels (English or Norwegian) instead of the model's parameter
names, thousands separators, unboxed axes, and the Monte Carlo error of the acceptability
curve shown as a band (the curve is a share of simulated draws).

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> from ips_study import economics
>>> res = economics.evaluate({"workdays": (5.6, 1.4), "work_assessment": (-0.3, 0.1)},
...                          economics.EconomicInputs(), seed=1, draws=400)
>>> ax = plot_ceac(res)
>>> ax.get_xlabel()
'Willingness to pay per additional work year (1,000 NOK)'
"""

from __future__ import annotations

import numpy as np

from ..disclosure.drawn import mark_measures
from .labels import label, term_label
from .style import BAND, REFLINE, check_lang, finish, new_axes, series_style


def thousands(ax, axis: str = "x", lang: str = "en") -> None:
    """Whole numbers with thousands separators (``,``; thin space in Norwegian) and a true
    minus sign on one axis."""
    from matplotlib.ticker import FuncFormatter

    sep = "\u2009" if lang == "no" else ","

    def fmt(v, _pos=None):
        text = f"{abs(v):,.0f}".replace(",", sep)
        return ("\u2212" if v < 0 and text.strip("0" + sep) else "") + text

    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(FuncFormatter(fmt))


def plot_ceac(results, ax=None, *, lang: str = "en", wtp=None, title: bool = True):
    """Share of Monte Carlo draws in which IPS is cost-effective, by willingness to pay.

    The band is ±2 binomial Monte Carlo standard errors of each share,
    ``sqrt(p (1 - p) / draws)``: how far the curve could move with another seed.

    Parameters
    ----------
    results : EconomicResults
        From :func:`ips_study.economics.evaluate`.
    ax : Axes, optional
    lang : {"en", "no"}
    wtp : array, optional
        Willingness-to-pay grid in NOK per work year (default that of ``results.ceac``).
    title : bool

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax)
    c = results.ceac(wtp)
    n = len(results.draws)
    x = c["wtp"].to_numpy(float) / 1000
    p = c["probability"].to_numpy(float)
    mc = 2 * np.sqrt(p * (1 - p) / n)
    sep = "\u2009" if lang == "no" else ","
    ax.fill_between(x, np.clip(p - mc, 0, 1), np.clip(p + mc, 0, 1),
                    label=label("mc_band", lang, n=f"{n:,}".replace(",", sep)), **BAND)
    ax.plot(x, p, **series_style(0, marker=False))
    ax.axhline(0.5, linestyle=":", **REFLINE)
    ax.set_ylim(0, 1)
    ax.set_xlim(x.min(), x.max())
    finish(ax, lang=lang, title=label("ceac_title", lang) if title else None,
           xlabel=label("wtp_axis", lang), ylabel=label("probability_ce", lang),
           legend_loc="upper left")
    thousands(ax, "x", lang)
    return ax


def plot_tornado(results, ax=None, *, lang: str = "en", title: bool = True):
    """One-way sensitivity of the main metric: each input at the ends of its range.

    Parameters
    ----------
    results : EconomicResults
    ax : Axes, optional
    lang : {"en", "no"}
    title : bool

    Returns
    -------
    Axes
    """
    check_lang(lang)
    table = results.tornado()
    ax = new_axes(ax, figsize=(6.4, 0.35 * len(table) + 1.4))
    base = float(results.tidy().at[results.main_term, "estimate"])
    y = np.arange(len(table))[::-1]
    for k, (yi, (_, r)) in enumerate(zip(y, table.iterrows())):
        # light bar for the low end, dark hatched for the high end: readable in greyscale
        ax.barh(yi, r["metric_low"] - base, left=base, color="0.8", edgecolor="0.3",
                linewidth=0.6, label=label("input_low", lang) if k == 0 else None)
        ax.barh(yi, r["metric_high"] - base, left=base, color="0.45", edgecolor="0.2",
                hatch="//", linewidth=0.6, label=label("input_high", lang) if k == 0 else None)
    mark_measures(ax, "economic metric")  # the bars span the metric's range, not persons
    ax.axvline(base, color="black", linewidth=1)
    ax.set_yticks(y, [term_label(p, lang) for p in table["parameter"]])
    ax.grid(False, axis="y")
    year = getattr(getattr(results, "inputs", None), "price_year", "")
    finish(ax, lang=lang, title=label("tornado_title", lang) if title else None,
           xlabel=label("npv_axis", lang, metric=term_label(results.main_term, lang), year=year),
           legend_loc="below")
    thousands(ax, "x", lang)
    return ax
