"""Descriptive figures: participant flow and outcome trends, Bodø against the controls.

Both draw person counts or means of groups of persons, so both pass through disclosure
control (:mod:`ips_study.disclosure`) before anything is drawn: a count or a mean that rests
on fewer than ``min_count`` persons is left out and marked, never drawn.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import pandas as pd
>>> flow = pd.DataFrame({"step": ["persons in the registers", "aged 18-40"],
...                      "treated": [900, 300], "controls": [5000, 2000], "total": [5900, 2300]})
>>> ax = plot_participant_flow(flow, lang="no")
>>> ax.get_yticklabels()[1].get_text()
'Alder 18–40 år'
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .. import disclosure
from .labels import flow_step_label, label, outcome_label, treated_label
from .style import REFLINE, RC, check_lang, finish, new_axes, series_style

#: Reforms that hit every municipality (data contract, section 6): date, label key.
REFORMS = (("2010-03-01", "reform_aap"), ("2015-01-01", "reform_disability"),
           ("2018-01-01", "reform_aap_2018"))


# -- participant flow -------------------------------------------------------------------------
def protect_flow(flow: pd.DataFrame, min_count: int = disclosure.MIN_COUNT) -> pd.DataFrame:
    """Participant-flow counts fit to publish: NaN where a count could identify persons.

    A cell of the ``treated`` or ``controls`` column is hidden when (a) it is below
    ``min_count`` (and not zero), (b) the number excluded since the last *published* cell
    above it in the same column is below ``min_count`` (a flow publishes its exclusions by
    subtraction), or (c) its partner in the same row is hidden while the row total is
    published and ``treated + controls = total`` (secondary suppression). ``total`` follows
    the same rules (a) and (b).

    Parameters
    ----------
    flow : DataFrame
        :func:`ips_study.cohort.participant_flow` output (``step``, ``treated``, ``controls``,
        ``total``).
    min_count : int
        Smallest publishable number of persons.

    Returns
    -------
    DataFrame
        Same shape, hidden counts set to NaN (float columns).

    Examples
    --------
    >>> f = pd.DataFrame({"step": ["a", "b"], "treated": [50, 48], "controls": [500, 400],
    ...                   "total": [550, 448]})
    >>> protect_flow(f)["treated"].tolist()
    [50.0, nan]
    """
    out = flow.copy()
    cols = [c for c in ("treated", "controls", "total") if c in out]
    hidden = pd.DataFrame(False, index=out.index, columns=cols)
    for c in cols:
        v = pd.to_numeric(out[c], errors="coerce").to_numpy(float)
        last = np.nan
        for i, x in enumerate(v):
            small = 0 < x < min_count
            step = np.isfinite(last) and 0 < last - x < min_count
            if small or step:
                hidden.iloc[i, cols.index(c)] = True
            else:
                last = x
    if {"treated", "controls", "total"} <= set(cols):
        t, c, n = (pd.to_numeric(out[k], errors="coerce") for k in ("treated", "controls", "total"))
        additive = (t + c == n).to_numpy()
        lone = additive & (hidden["treated"] ^ hidden["controls"]).to_numpy() & ~hidden["total"].to_numpy()
        hidden.loc[lone, ["treated", "controls"]] = True
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="coerce").astype(float).mask(hidden[c])
    return out


def plot_participant_flow(flow: pd.DataFrame, ax=None, *, lang: str = "en",
                          min_count: int = disclosure.MIN_COUNT,
                          treated_code: str | None = "1804", title: bool = True):
    """Participant flow: persons left after each selection step, Bodø and the controls.

    Horizontal bars on a linear scale, one panel per group (Bodø's counts are a tenth of
    the controls'; one shared axis would flatten them), the count printed at each bar, so
    the attrition reads as it is; hidden counts (:func:`protect_flow`) are drawn as an empty
    bar marked with the suppression symbol. With ``ax`` given both groups share that axes.

    Parameters
    ----------
    flow : DataFrame
        :func:`ips_study.cohort.participant_flow` output (or its disclosure-controlled,
        rounded version: the figure prints exactly the counts it is given).
    ax : Axes, optional
    lang : {"en", "no"}
    min_count : int
        Disclosure threshold (see :func:`protect_flow`).
    treated_code : str
        Treated municipality code (names the bars).
    title : bool
        Draw the title (turn off when the caption says it).

    Returns
    -------
    Axes
        The first panel (its ``figure`` holds both).
    """
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    check_lang(lang)
    safe = protect_flow(flow, min_count)
    y = np.arange(len(safe))
    groups = [("treated", treated_label(treated_code, lang), {"color": "0.25", "edgecolor": "black"}),
              ("controls", label("controls", lang),
               {"color": "white", "edgecolor": "black", "hatch": "////"})]
    sep = "\u2009" if lang == "no" else ","
    if ax is None:
        import matplotlib.pyplot as plt

        with plt.rc_context(RC):
            fig, axes = plt.subplots(1, 2, figsize=(9.0, 0.45 * len(safe) + 1.5), sharey=True)
        panels = [(axes[0], [groups[0]]), (axes[1], [groups[1]])]
    else:
        panels = [(ax, groups)]
    for a, members in panels:
        h = 0.8 / len(members)
        top = float(np.nanmax(safe[[c for c, _, _ in members]].to_numpy(float)))
        for k, (col, name, style) in enumerate(members):
            v = safe[col].to_numpy(float)
            pos = y - 0.4 + h / 2 + k * h
            a.barh(pos, np.where(np.isfinite(v), v, 0), height=h * 0.95, label=name,
                   linewidth=0.6, **style)
            disclosure.mark_counts(a)  # bar lengths are persons: recorded for check-outputs
            for yy, x in zip(pos, v):
                text = f"{int(x):,}".replace(",", sep) if np.isfinite(x) else disclosure.SUPPRESSED
                a.text((x if np.isfinite(x) else 0) + top * 0.015, yy, text, va="center", fontsize=7)
        a.set_xlim(0, top * 1.18)
        a.grid(False, axis="y")
        a.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
        if len(panels) > 1:
            a.set_title(members[0][1], fontsize=RC["axes.titlesize"])
        finish(a, lang=lang, xlabel=label("persons_axis", lang),
               legend=len(panels) == 1, legend_loc="below")
        if lang == "en":
            a.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{int(v):,}"))
    first = panels[0][0]
    first.set_yticks(y, [flow_step_label(s, lang) for s in safe["step"]])
    first.invert_yaxis()
    if safe[["treated", "controls"]].isna().to_numpy().any():
        note = label("suppressed", lang, n=min_count)
        panels[-1][0].annotate(f"{disclosure.SUPPRESSED} = {note}", xy=(1, 1),
                               xycoords="axes fraction", xytext=(0, 14), textcoords="offset points",
                               ha="right", va="bottom", fontsize=7)
    if title:
        if len(panels) > 1:
            first.figure.suptitle(label("flow_title", lang), fontsize=RC["axes.titlesize"])
        else:
            first.set_title(label("flow_title", lang), fontsize=RC["axes.titlesize"])
    return first


# -- trends -----------------------------------------------------------------------------------
def trend_table(agg: pd.DataFrame, outcome: str, *, treated_code: str = "1804",
                controls: Sequence[str] | None = None,
                min_count: int = disclosure.MIN_COUNT) -> pd.DataFrame:
    """Bodø and pooled-control means of ``outcome`` by period, with their person counts.

    Parameters
    ----------
    agg : DataFrame
        :func:`ips_study.panel.aggregate_panel` output (municipality x period means with
        ``n_persons``).
    outcome : str
        Outcome column.
    treated_code : str
        The treated municipality.
    controls : sequence of str, optional
        Control municipalities; default every municipality never exposed to IPS in ``agg``
        (``ips_start`` empty, or ``exposed`` never 1).
    min_count : int
        Means resting on fewer persons are set to NaN (:func:`ips_study.disclosure.mask_small`).

    Returns
    -------
    DataFrame
        ``period``, ``period_start``, ``treated``, ``treated_n``, ``controls``,
        ``controls_n`` (control means are person-weighted: the mean over all control
        persons, not over municipalities).
    """
    if outcome not in agg:
        raise KeyError(f"outcome {outcome!r} is not a column of the aggregate panel")
    a = agg.copy()
    a["municipality"] = a["municipality"].astype(str)
    if controls is None:
        never = a.groupby("municipality")["exposed"].max() == 0 if "exposed" in a else None
        if never is None and "ips_start" in a:
            never = a.groupby("municipality")["ips_start"].apply(lambda s: s.isna().all())
        pool = set(never.index[never]) if never is not None else set(a["municipality"])
    else:
        pool = {str(c) for c in controls}
    pool.discard(treated_code)
    a["_w"] = a["n_persons"].astype(float) * a[outcome].astype(float)
    keys = ["period", "period_start"]
    tr = a[a["municipality"] == treated_code].groupby(keys, sort=True).agg(
        treated=(outcome, "mean"), treated_n=("n_persons", "sum"))
    co = a[a["municipality"].isin(pool)].groupby(keys, sort=True).agg(
        _w=("_w", "sum"), controls_n=("n_persons", "sum"))
    co["controls"] = co["_w"] / co["controls_n"]
    out = tr.join(co[["controls", "controls_n"]], how="outer").reset_index()
    out = disclosure.mask_small(out, ["treated"], n_col="treated_n", min_count=min_count)
    out = disclosure.mask_small(out, ["controls"], n_col="controls_n", min_count=min_count)
    out["period_start"] = pd.to_datetime(out["period_start"])
    return out[["period", "period_start", "treated", "treated_n", "controls", "controls_n"]]


def _midpoints(t: pd.DataFrame) -> pd.Series:
    """Middle of each period, so that a line at IPS start separates pre from post points."""
    monthly = t["period"].astype(str).str.len().max() > 4
    half = pd.Timedelta(days=14) if monthly else pd.Timedelta(days=182)
    return t["period_start"] + half


def plot_trends(agg: pd.DataFrame, outcome: str, ax=None, *, lang: str = "en",
                treated_code: str = "1804", ips_start="2013-01-01",
                controls: Sequence[str] | None = None, reforms: bool = True,
                min_count: int = disclosure.MIN_COUNT, title: str | None = None):
    """Outcome trend in Bodø against the pooled control municipalities.

    Parameters
    ----------
    agg : DataFrame
        :func:`ips_study.panel.aggregate_panel` output (year or month periods).
    outcome : str
        Outcome column, e.g. ``"ltbd"`` (long-term benefit dependence) or ``"workdays"``.
    ax : Axes, optional
    lang : {"en", "no"}
    treated_code, controls, min_count :
        See :func:`trend_table`; periods resting on fewer than ``min_count`` persons are
        gaps in the line.
    ips_start : date-like
        Drawn as a dashed vertical line.
    reforms : bool
        Mark the national reforms that hit every municipality (data contract, section 6), so that a
        reader does not take their jumps for IPS effects.
    title : str, optional
        Title; default none (the y-axis names the outcome).

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> agg = pd.DataFrame({"municipality": ["1804", "1804", "1833", "1833"],
    ...     "period": ["2012", "2013"] * 2, "period_start": pd.to_datetime(["2012-01-01", "2013-01-01"] * 2),
    ...     "exposed": [0, 1, 0, 0], "n_persons": [40, 42, 3, 90], "ltbd": [.2, .18, .3, .25]})
    >>> ax = plot_trends(agg, "ltbd")
    >>> [round(float(v), 2) for v in ax.lines[1].get_ydata()]   # 3-person control cell hidden
    [nan, 0.25]
    """
    check_lang(lang)
    t = trend_table(agg, outcome, treated_code=treated_code, controls=controls,
                    min_count=min_count)
    ax = new_axes(ax)
    monthly = t["period"].astype(str).str.len().max() > 4
    show_markers = not monthly
    x = _midpoints(t)
    ax.plot(x, t["treated"], label=treated_label(treated_code, lang),
            **series_style(0, marker=show_markers))
    ax.plot(x, t["controls"], label=label("controls", lang),
            **series_style(1, marker=show_markers))
    start = pd.Timestamp(ips_start)
    ax.axvline(start, linestyle="--", label=label("ips_start", lang), **REFLINE)
    if reforms:
        lo, hi = t["period_start"].min(), t["period_start"].max() + pd.DateOffset(years=1)
        for date, key in REFORMS:
            d = pd.Timestamp(date)
            if lo <= d <= hi and d != start:
                ax.axvline(d, color="0.7", linewidth=0.7, linestyle=":")
                ax.annotate(label(key, lang), xy=(d, 1), xycoords=("data", "axes fraction"),
                            xytext=(2, -2), textcoords="offset points", fontsize=6.5,
                            color="0.35", va="top", rotation=90)
    finish(ax, lang=lang, title=title, xlabel=label("year", lang),
           ylabel=outcome_label(outcome, lang), legend_loc="below")
    return ax
