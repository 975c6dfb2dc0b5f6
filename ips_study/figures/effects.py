"""Effect figures: event study, synthetic control gap and placebos, staggered event time.

Each function reads the design's own results object (:meth:`Results.event_time`,
:attr:`SynthResults.gaps <ips_study.designs.synth.SynthResults.gaps>`, ...) and draws it in
the house style with labels in English or Norwegian. The designs' own ``plot`` methods stay
the quick look for the analyst; these functions add the language, the greyscale style, and
disclosure control: a regression result must rest on at least ``min_count`` persons and
units (:func:`ips_study.disclosure.check_results`), and a synthetic-control point is left
out in any period in which the municipality behind it has fewer than ``min_count`` persons.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> from ips_study.config import StudyConfig
>>> from ips_study.designs.did import example_panel, fit_event_panel
>>> res = fit_event_panel(example_panel(seed=2), outcome="workdays", config=StudyConfig(),
...                       inference="cluster")                    # doctest: +SKIP
>>> ax = plot_event_study(res, lang="no")                          # doctest: +SKIP
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import disclosure
from .labels import inference_label, label, outcome_label, treated_label
from .style import BAND, REFLINE, check_lang, finish, new_axes, series_style

_UNIT_KEYS = {"year": "event_years", "month": "event_months", "period": "event_periods"}


def _as_list(results) -> list:
    return list(results) if isinstance(results, (list, tuple)) else [results]


def plot_event_study(results, ax=None, *, lang: str = "en", labels: Sequence[str] | None = None,
                     unit: str = "year", min_count: int = disclosure.MIN_COUNT,
                     title: str | None = None, band: bool = False):
    """Event-study coefficients with confidence intervals, one or several models.

    Parameters
    ----------
    results : Results or list of Results
        Anything with an :meth:`~ips_study.results.Results.event_time` table (event study,
        staggered dynamic aggregation, ...). Several models are drawn side by side with a
        small horizontal offset (like pyfixest's ``iplot``).
    ax : Axes, optional
    lang : {"en", "no"}
    labels : list of str, optional
        Legend entry per model (default: the outcome for one model, the design for several).
    unit : {"year", "month", "period"}
        What one event-time step is (x-axis label).
    min_count : int
        Disclosure threshold; a result resting on fewer persons/units raises
        :class:`~ips_study.disclosure.DisclosureError`.
    title : str, optional
    band : bool
        Draw the interval as a shaded band instead of error bars (for long monthly paths).

    Returns
    -------
    Axes
    """
    check_lang(lang)
    models = _as_list(results)
    if unit not in _UNIT_KEYS:
        raise ValueError(f"unit must be one of {tuple(_UNIT_KEYS)}")
    ax = new_axes(ax)
    width = 0.12 * (len(models) - 1)
    for k, res in enumerate(models):
        disclosure.check_results(res, min_count)
        et = res.event_time()
        if et is None:
            raise ValueError(f"{res.design} results have no event-time table")
        x = et["event_time"].to_numpy(float) + (k * 0.12 - width / 2 if len(models) > 1 else 0)
        name = (labels[k] if labels is not None else
                outcome_label(res.outcome, lang) if len(models) == 1 else res.design)
        if len({m.inference for m in models}) > 1:
            # several methods: each entry names its own (the legend title cannot)
            name = f"{name} ({inference_label(res.inference, lang)})"
        style = series_style(k)
        if band:
            ax.fill_between(x, et["conf_low"], et["conf_high"], **BAND)
            ax.plot(x, et["estimate"], label=name, **style)
        else:
            lo = et["estimate"] - et["conf_low"]
            hi = et["conf_high"] - et["estimate"]
            ax.errorbar(x, et["estimate"], yerr=[lo.to_numpy(), hi.to_numpy()], label=name,
                        elinewidth=0.9, **style)
        ref = et[(et["std_error"] == 0) & (et["estimate"] == 0)]
        if len(ref):
            ax.plot(ref["event_time"], ref["estimate"], linestyle="none", marker="o",
                    markerfacecolor="white", markeredgecolor="black", zorder=5,
                    label=label("reference", lang) if k == 0 else None)
    ax.axhline(0, **REFLINE)
    ax.axvline(-0.5, linestyle="--", label=label("ips_start", lang), **REFLINE)
    level = models[0].level
    ylabel = f"{label('effect_on', lang)} {outcome_label(models[0].outcome, lang)[0].lower()}" \
             f"{outcome_label(models[0].outcome, lang)[1:]}"
    # the legend title names the inference method behind the intervals (issue 21)
    methods = {m.inference for m in models}
    band_title = (label("ci_method", lang, level=level,
                        method=inference_label(models[0].inference, lang))
                  if len(methods) == 1 else label("ci", lang, level=level))
    finish(ax, lang=lang, title=title, xlabel=label(_UNIT_KEYS[unit], lang), ylabel=ylabel,
           legend_title=band_title, legend_loc="below")
    _integer_ticks(ax)
    return ax


def _integer_ticks(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_staggered(results, ax=None, *, lang: str = "en", unit: str = "year",
                   min_count: int = disclosure.MIN_COUNT, title: str | None = None):
    """Staggered-adoption event-time effects (Callaway–Sant'Anna dynamic aggregation).

    Takes the result of ``ips_study.designs.staggered.fit_panel`` (its event-time rows come
    from the dynamic aggregation) or a dynamic :class:`AggregateResults`; a uniform
    (simultaneous) band is drawn when the bootstrap supplied one.

    Returns
    -------
    Axes
    """
    check_lang(lang)
    disclosure.check_results(results, min_count)
    ax = new_axes(ax)
    tidy = results.tidy()
    if results.extras.get("aggregation") == "dynamic" and "uniform_low" in tidy:
        comp = tidy.iloc[1:]
        if comp["uniform_low"].notna().all() and len(comp):
            ax.fill_between(comp["component"].to_numpy(float), comp["uniform_low"],
                            comp["uniform_high"], label=label("uniform_band_method", lang,
                                                               level=results.level), **BAND)
    plot_event_study(results, ax=ax, lang=lang, unit=unit, min_count=min_count,
                     labels=[label("estimate", lang)],
                     title=title if title is not None else label("staggered", lang))
    return ax


# -- synthetic control ------------------------------------------------------------------------
def _counts(counts: pd.DataFrame, units, times) -> np.ndarray:
    """Persons behind each unit x period cell (0 where the cell is missing)."""
    c = counts.assign(municipality=counts["municipality"].astype(str),
                      period=counts["period"].astype(str))
    wide = c.pivot_table(index="municipality", columns="period", values="n_persons",
                         aggfunc="sum")
    wide = wide.reindex(index=[str(u) for u in units], columns=[str(t) for t in times])
    return wide.fillna(0).to_numpy(float)


def _synth_masks(res, counts: pd.DataFrame, min_count: int):
    """Per period: is the treated gap publishable; per placebo unit: which points are."""
    w = res.weights
    treated = str(res.placebos.index[0])
    times = res.gaps.index
    n_tr = _counts(counts, [treated], times)[0]
    n_donor = _counts(counts, list(w.index), times)
    pos = w.to_numpy() > 1e-6
    # the synthetic path is a mix of the positive-weight donors: it rests on all of them
    ok_tr = (n_tr >= min_count) & (n_donor[pos].sum(axis=0) >= min_count)
    return ok_tr, {str(u): n >= min_count for u, n in zip(w.index, n_donor)}


def _period_axis(ax, res, lang: str, ips_start) -> np.ndarray:
    times = [str(t) for t in res.gaps.index]
    x = np.arange(len(times))
    step = max(1, -(-len(times) // 8))
    ax.set_xticks(x[::step], times[::step])
    ax.set_xlabel(label("year" if len(times[0]) == 4 else "period", lang))
    starts = pd.PeriodIndex(times, freq="M" if len(times[0]) > 4 else "Y").start_time
    n_pre = int((starts < pd.Timestamp(ips_start)).sum())
    ax.axvline(n_pre - 0.5, linestyle="--", label=label("ips_start", lang), **REFLINE)
    return x


def _gap_label(outcome: str, lang: str) -> str:
    return f"{outcome_label(outcome, lang)}\n({label('gap', lang).lower().replace('bodø', 'Bodø')})"


def _treated_path(res, counts: pd.DataFrame) -> np.ndarray:
    """Bodø's outcome by period: from the aggregate panel when it has the outcome column."""
    treated = str(res.placebos.index[0])
    times = [str(t) for t in res.gaps.index]
    if res.outcome in counts:
        c = counts[counts["municipality"].astype(str) == treated]
        return (c.assign(period=c["period"].astype(str)).set_index("period")[res.outcome]
                .reindex(times).to_numpy(float))
    m = res._m  # SynthResults keeps the outcome matrix; treated row is the last
    return m.Y[m.n_control]


def _placebo_gaps(res) -> dict:
    # SynthResults exposes placebo summaries but not the gap paths themselves
    gaps = getattr(res, "placebo_gaps", None)
    return dict(gaps() if callable(gaps) else gaps) if gaps is not None else dict(res._placebo_gaps)


def plot_synth_gap(results, counts: pd.DataFrame, ax=None, *, lang: str = "en",
                   min_count: int = disclosure.MIN_COUNT, treated_code: str | None = "1804",
                   ips_start="2013-01-01", paths: bool = True, title: str | None = None):
    """Synthetic control: Bodø and synthetic Bodø (``paths=True``) or their gap.

    Parameters
    ----------
    results : SynthResults
        From ``ips_study.designs.synth.fit_panel``.
    counts : DataFrame
        Persons behind every municipality x period mean: the
        :func:`ips_study.panel.aggregate_panel` table (``municipality``, ``period``,
        ``n_persons``; with the outcome column it also gives Bodø's path). Periods where
        Bodø, or the positive-weight donors together, have fewer than ``min_count`` persons
        are left out.
    ips_start : date-like
        Drawn as a dashed line before the first post period.
    paths : bool
        Draw both outcome paths; ``False`` draws the gap (treated minus synthetic).

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax)
    ok, _ = _synth_masks(results, counts, min_count)
    x = _period_axis(ax, results, lang, ips_start)
    gap = np.where(ok, results.gaps.to_numpy(float), np.nan)
    if paths:
        y = np.where(ok, _treated_path(results, counts), np.nan)
        ax.plot(x, y, label=treated_label(treated_code, lang), **series_style(0))
        ax.plot(x, y - gap, label=label("synthetic" if treated_code in (None, "1804")
                                        else "synthetic_generic", lang), **series_style(1))
        ylabel = outcome_label(results.outcome, lang)
    else:
        ax.plot(x, gap, label=label("gap", lang), **series_style(0))
        ax.axhline(0, **REFLINE)
        ylabel = _gap_label(results.outcome, lang)
    finish(ax, lang=lang, title=title, ylabel=ylabel)
    return ax


def plot_synth_placebos(results, counts: pd.DataFrame, ax=None, *, lang: str = "en",
                        min_count: int = disclosure.MIN_COUNT,
                        max_pre_rmspe_ratio: float | None = 5.0,
                        treated_code: str | None = "1804", ips_start="2013-01-01",
                        title: bool = True):
    """Placebo-in-space "spaghetti": every donor's placebo gap behind Bodø's gap.

    Placebos whose pre-period fit is poor (pre-RMSPE above ``max_pre_rmspe_ratio`` times
    Bodø's) are left out, as in Abadie, Diamond & Hainmueller (2010), figures 5-7.
    ``counts`` as in :func:`plot_synth_gap`; a placebo point is left out when its
    municipality has fewer than ``min_count`` persons in that period.

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax)
    ok_tr, ok_units = _synth_masks(results, counts, min_count)
    x = _period_axis(ax, results, lang, ips_start)
    tab = results.placebos
    pre_tr = float(tab["pre_rmspe"].iloc[0])
    drawn = 0
    for unit, gap in _placebo_gaps(results).items():
        pre = float(tab.loc[unit, "pre_rmspe"])
        # a perfect treated fit (pre-RMSPE 0) would drop every placebo: keep them then
        if max_pre_rmspe_ratio is not None and pre_tr > 1e-12 and pre > max_pre_rmspe_ratio * pre_tr:
            continue
        y = np.where(ok_units.get(str(unit), np.ones(len(x), bool)), gap, np.nan)
        ax.plot(x, y, color="0.72", linewidth=0.7,
                label=label("placebos", lang) if drawn == 0 else None)
        drawn += 1
    ax.plot(x, np.where(ok_tr, results.gaps.to_numpy(float), np.nan),
            label=treated_label(treated_code, lang), **{**series_style(0), "linewidth": 1.8})
    ax.axhline(0, **REFLINE)
    finish(ax, lang=lang, title=label("placebo_title", lang) if title else None,
           ylabel=_gap_label(results.outcome, lang))
    return ax
