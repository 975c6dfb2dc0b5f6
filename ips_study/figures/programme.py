"""Programme figures: IPS metrics by quarter and the fidelity item profile.

The quarterly metrics come from the programme's quality register
(:func:`ips_study.caseload.metrics_by_quarter`); before drawing they pass through the same
disclosure control as the published quarterly tables (:func:`ips_study.caseload.protect_metrics`:
a count below ``min_count``, a share resting on fewer persons, or a count recoverable by
subtraction is not drawn). Fidelity reviews (:mod:`ips_study.fidelity`) are scores given by
external reviewers to the service, not data about persons, and are drawn as they are.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import pandas as pd
>>> row = {"review": "2013", **{f"item_{i}": 3 for i in range(1, 26)}}
>>> ax = plot_fidelity_profile(pd.DataFrame([row]), lang="no")
>>> ax.get_yticklabels()[0].get_text()
'1. Antall brukere per jobbspesialist'
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import caseload, disclosure, fidelity
from .labels import FIDELITY_ITEMS_NO, label, metric_label
from .style import BAND, check_lang, finish, new_axes, series_style

#: metric -> (statistic row of metrics_by_quarter, scale, unit family)
_METRIC_ROWS = {
    "ever_offered": ("count", 1.0, "persons"),
    "active": ("count", 1.0, "persons"),
    "in_work": ("count", 1.0, "persons"),
    "share_in_work": ("share", 100.0, "percent"),
    "community_share": ("ratio", 100.0, "percent"),
    "employer_meetings": ("mean", 1.0, "meetings"),
    "days_to_job_search": ("median", 1.0, "days"),
    "days_to_first_meeting": ("median", 1.0, "days"),
    "caseload_per_specialist": ("mean", 1.0, "persons"),
}


def protected_series(metrics: pd.DataFrame, which: Sequence[str],
                     min_count: int = disclosure.MIN_COUNT) -> pd.DataFrame:
    """Overall quarterly values of ``which`` after disclosure control (NaN = hidden).

    Parameters
    ----------
    metrics : DataFrame
        :func:`ips_study.caseload.metrics_by_quarter` output.
    which : list of str
        Metric names (see :data:`_METRIC_ROWS`); shares and ratios are returned in per cent.

    Returns
    -------
    DataFrame
        Index ``quarter``, one column per metric.
    """
    unknown = [w for w in which if w not in _METRIC_ROWS]
    if unknown:
        raise ValueError(f"unknown programme metric(s) {unknown}; choose from {list(_METRIC_ROWS)}")
    sup = caseload.protect_metrics(metrics, min_count)
    m = sup.frame
    m = m[m["group_by"] == "overall"]
    cols = {}
    for w in which:
        stat, scale, _ = _METRIC_ROWS[w]
        rows = m[(m["metric"] == w) & (m["statistic"] == stat)]
        cols[w] = rows.set_index("quarter")["value"].astype(float) * scale
    out = pd.DataFrame(cols)
    out.index.name = "quarter"
    return out


def plot_programme_metrics(metrics: pd.DataFrame, ax=None, *,
                           which: Sequence[str] = ("share_in_work", "community_share"),
                           lang: str = "en", min_count: int = disclosure.MIN_COUNT,
                           target: bool = True, title: bool = True):
    """Programme metrics by quarter, one line per metric, hidden values left as gaps.

    Parameters
    ----------
    metrics : DataFrame
        :func:`ips_study.caseload.metrics_by_quarter` output (overall rows are drawn).
    ax : Axes, optional
    which : list of str
        Metrics on one axis; they must share a unit (per cent, persons, days or meetings),
        e.g. ``("share_in_work", "community_share")`` or ``("ever_offered", "active")``.
    lang : {"en", "no"}
    min_count : int
        Disclosure threshold.
    target : bool
        Shade the specialists' employment target (40-50 % of the active caseload in ordinary
        work, data contract, section 6) when ``share_in_work`` is drawn.
    title : bool

    Returns
    -------
    Axes
    """
    check_lang(lang)
    units = {_METRIC_ROWS[w][2] for w in which if w in _METRIC_ROWS}
    if len(units) > 1:
        raise ValueError(f"metrics {list(which)} mix units {sorted(units)}; draw them on separate axes")
    data = protected_series(metrics, which, min_count)
    ax = new_axes(ax, figsize=(6.4, 3.8))
    x = np.arange(len(data))
    for k, w in enumerate(which):
        ax.plot(x, data[w].to_numpy(float), label=metric_label(w, lang), **series_style(k))
    unit = units.pop()
    if unit == "percent":
        if target and "share_in_work" in which:
            ax.axhspan(40, 50, label=label("target_band", lang), **BAND)
        ax.set_ylim(0, 100)
        ylabel = label("percent", lang)
    elif unit == "persons":
        ax.set_ylim(bottom=0)
        ylabel = label("persons", lang)
    else:
        ax.set_ylim(bottom=0)
        ylabel = metric_label(which[0], lang) if len(which) == 1 else ""
    labels = [str(q) for q in data.index]
    if len(x) > 12:  # long series: label the first quarter of every year (or every few)
        every = 4 * -(-len(x) // 32)
        first = next((i for i, q in enumerate(labels) if q.endswith("Q1")), 0)
        ticks = x[first::every]
    else:
        ticks = x
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=45, ha="right")
    finish(ax, lang=lang, title=label("programme_title", lang) if title else None,
           xlabel=label("quarter", lang), ylabel=ylabel, legend_loc="upper left")
    return ax


def plot_fidelity_profile(reviews: pd.DataFrame, ax=None, *, lang: str = "en",
                          title: bool = True):
    """IPS-25 fidelity item profile: each item's score (1-5) per review.

    Wraps :func:`ips_study.fidelity.plot_item_profile` and restyles it: reviews differ by
    line style and marker, item titles and bands in ``lang``.

    Parameters
    ----------
    reviews : DataFrame
        One row per review (see :func:`ips_study.fidelity.item_scores`).

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax, figsize=(6.4, 7.0))
    before = len(ax.lines)
    fidelity.plot_item_profile(reviews, ax=ax)
    scored = fidelity.score_reviews(reviews)
    for k, line in enumerate(ax.lines[before:]):
        st = series_style(k)
        for key in ("color", "linestyle", "marker", "markerfacecolor", "markeredgecolor"):
            getattr(line, f"set_{key}")(st[key])
        row = scored.iloc[k]
        line.set_label(f"{row['review']}: {int(row['total'])} "
                       f"({label('band_' + row['band'], lang)})")
    titles = {num: (title_en if lang == "en" else FIDELITY_ITEMS_NO[num])
              for num, _, _, title_en in fidelity.ITEMS}
    ax.set_yticks(np.arange(1, 26), [f"{n}. {_short(t)}" for n, t in titles.items()], fontsize=6.5)
    ax.grid(False, axis="y")
    finish(ax, lang=lang, title=label("fidelity_title", lang) if title else None,
           xlabel=label("item_score", lang), legend_loc="lower left")
    return ax


def _short(text: str, width: int = 56) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
