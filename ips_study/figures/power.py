"""Figure 10 in the house style: power by inference method, and the minimum detectable
effect against the number of control municipalities and the years of follow-up.

Every curve here is simulated (:mod:`ips_study.power`), so every point carries its Monte
Carlo error: ±2 binomial standard errors on a power, and on a minimum detectable effect
(MDE) the same error carried through the slope of a normal power curve at 80 % power
(delta method: ``se(MDE) = sqrt(0.8 x 0.2 / reps) x s / phi(z_0.8)`` with
``s = MDE / (z_0.975 + z_0.8)``), an approximation that shows the order of the noise.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import pandas as pd
>>> t = pd.DataFrame({"n_controls": [5, 10, 20], "power": [.3, .5, .7],
...                   "power_se": [.03, .035, .03], "size": [.05] * 3, "mde": [14., 10., 8.]})
>>> ax = plot_mde_by(t, reps=200)
>>> ax.get_xlabel(), [float(v) for v in ax.get_xticks() if v == int(v)] == list(ax.get_xticks())
('Number of control municipalities', True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .labels import inference_label, label, outcome_label
from .style import REFLINE, check_lang, finish, new_axes, series_style


def _unit(outcome: str, lang: str) -> str:
    text = outcome_label(outcome, lang)
    return text[:1].lower() + text[1:]


def _reps(table: pd.DataFrame, reps: int | None) -> int:
    """Replications behind a table: given, its ``reps`` column, or from a binomial SE."""
    if reps:
        return int(reps)
    if "reps" in table:
        return int(table["reps"].iloc[0])
    p, se = table["power"].to_numpy(float), table["power_se"].to_numpy(float)
    ok = (se > 0) & (p > 0) & (p < 1)
    if not ok.any():
        raise ValueError("cannot tell the number of replications: pass reps=")
    return int(round(float(np.median(p[ok] * (1 - p[ok]) / se[ok] ** 2))))


def mde_mc_se(mde, reps: int, power: float = 0.8, alpha: float = 0.05):
    """Approximate Monte Carlo SE of a simulated MDE (see the module docstring).

    >>> round(float(mde_mc_se(17.0, 200)), 2)
    0.61
    """
    z_a, z_b = stats.norm.ppf(1 - alpha / 2), stats.norm.ppf(power)
    s = np.asarray(mde, float) / (z_a + z_b)
    return np.sqrt(power * (1 - power) / reps) * s / stats.norm.pdf(z_b)


def _integer_x(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def plot_power_compare(table: pd.DataFrame, ax=None, *, outcome: str = "workdays",
                       lang: str = "en", title: bool = True):
    """Power curves, one per inference method, with ±2 Monte Carlo SE bars.

    Parameters
    ----------
    table : DataFrame
        :func:`ips_study.power.compare_methods` output (``method``, ``effect``, ``power``,
        ``power_se``, ``reps``, ``mde``).
    outcome : str
        The simulated outcome (gives the effect's unit).

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax)
    for k, (m, t) in enumerate(table.groupby("method", sort=False)):
        st = series_style(k)
        mde = float(t["mde"].iloc[0])
        name = f"{inference_label(m, lang)} ({label('mde_short', lang, mde=_num(mde, lang))})"
        ax.errorbar(t["effect"], t["power"], yerr=2 * t["power_se"], label=name,
                    elinewidth=0.8, **st)
    ax.axhline(0.8, linestyle=":", **REFLINE)
    ax.axhline(0.05, linestyle="--", **REFLINE)
    ax.set_ylim(0, 1.02)
    n = _reps(table, None)
    finish(ax, lang=lang, title=label("power_title", lang) if title else None,
           xlabel=label("true_effect", lang, unit=_unit(outcome, lang)),
           ylabel=label("power", lang), legend_loc="lower right",
           legend_title=label("mc_bars", lang, n=n))
    return ax


def _num(v: float, lang: str) -> str:
    if not np.isfinite(v):
        return "∞"
    text = f"{v:.1f}"
    return text.replace(".", ",") if lang == "no" else text


def plot_mde_by(table: pd.DataFrame, ax=None, *, outcome: str = "workdays", lang: str = "en",
                reps: int | None = None, title: str | None = None):
    """Minimum detectable effect (80 % power) against the varied design parameter.

    Parameters
    ----------
    table : DataFrame
        :func:`ips_study.power.power_by` output; its first column is the parameter
        (``n_controls`` or ``post_years``: counts, drawn with integer ticks).
    reps : int, optional
        Replications per point (default: read from the table's binomial SEs).

    Returns
    -------
    Axes
    """
    check_lang(lang)
    ax = new_axes(ax)
    x = table.columns[0]
    n = _reps(table, reps)
    mde = table["mde"].to_numpy(float)
    xs = table[x].to_numpy()
    # an MDE is infinite where no simulated effect reached 80 % power (a rank test over 5
    # placebos cannot reject at 5 %): it has no Monte Carlo error (inf - inf was the stray
    # "invalid value encountered in add"), and matplotlib silently dropped the point; it is
    # drawn as a triangle on the top edge instead
    ok = np.isfinite(mde)
    ax.errorbar(xs[ok], mde[ok], yerr=2 * mde_mc_se(mde[ok], n), elinewidth=0.8,
                label=label("mc_bars", lang, n=n), **series_style(0))
    ax.set_ylim(bottom=0)
    if not ok.all():
        style = series_style(0, line=False)
        style.update(marker="^", markerfacecolor="white")
        ax.plot(xs[~ok], np.full(int((~ok).sum()), ax.get_ylim()[1]), clip_on=False,
                label=label("mde_beyond", lang), **style)
    _integer_x(ax)
    finish(ax, lang=lang, title=title, xlabel=label(x, lang) if x in ("n_controls", "post_years") else x,
           ylabel=label("mde_axis", lang, unit=_unit(outcome, lang)), legend_loc="lower left")
    return ax


def plot_power_report(report: dict, axes=None, *, outcome: str = "workdays", lang: str = "en"):
    """The three panels of figure 10 from :func:`ips_study.power.power_report`; returns the
    Figure."""
    import matplotlib.pyplot as plt

    from .style import RC

    if axes is None:
        with plt.rc_context(RC):
            _, axes = plt.subplots(1, 3, figsize=(16, 5.0))
    reps = _reps(report["compare"], None)
    plot_power_compare(report["compare"], ax=axes[0], outcome=outcome, lang=lang)
    plot_mde_by(report["by_controls"], ax=axes[1], outcome=outcome, lang=lang, reps=reps)
    plot_mde_by(report["by_followup"], ax=axes[2], outcome=outcome, lang=lang, reps=reps)
    fig = axes[0].figure
    fig.tight_layout()
    return fig
