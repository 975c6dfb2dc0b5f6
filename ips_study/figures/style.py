"""House style of every figure: greyscale series, language, deterministic saving.

One look for every figure of the analysis, readable when printed in black and white:
series differ by line style *and* marker, never by colour alone (:data:`SERIES`); the
smaller text sizes and the light grid live in :data:`RC`. :func:`save` writes PNG and PDF
with fixed resolution and without time stamps or version strings, so a rerun gives
byte-identical files (the replication check compares output hashes).

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> ax = new_axes()
>>> _ = ax.plot([0, 1], [0, 1], **series_style(1))
>>> paths = save(ax, "/tmp/ips_style_doctest")
>>> [p.suffix for p in paths]
['.png', '.pdf']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..disclosure import drawn

#: Languages of axis labels, legends and titles.
LANGUAGES = ("en", "no")

#: Fixed resolution of PNG output (PDF is vector).
DPI = 200

#: Default figure size in inches (fits one column of a journal page at 10 pt text).
FIGSIZE = (6.4, 4.0)

#: Matplotlib settings applied while a figure is drawn.
RC: dict[str, Any] = {
    "font.family": "DejaVu Sans",   # has æ, ø, å and the minus sign
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.9",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "lines.linewidth": 1.4,
    "lines.markersize": 4.5,
    "errorbar.capsize": 2,
    "savefig.bbox": "tight",
    "pdf.fonttype": 42,             # TrueType in PDF: editable text, stable across runs
    "svg.hashsalt": "ips_study",
}

#: Greyscale series: colour, line style and marker all change, hollow markers alternate.
SERIES: tuple[dict[str, Any], ...] = (
    {"color": "black", "linestyle": "-", "marker": "o", "markerfacecolor": "black"},
    {"color": "0.40", "linestyle": "--", "marker": "s", "markerfacecolor": "white"},
    {"color": "0.20", "linestyle": ":", "marker": "^", "markerfacecolor": "0.20"},
    {"color": "0.55", "linestyle": "-.", "marker": "D", "markerfacecolor": "white"},
    {"color": "0.30", "linestyle": (0, (5, 1, 1, 1, 1, 1)), "marker": "v",
     "markerfacecolor": "white"},
    {"color": "0.65", "linestyle": (0, (1, 1)), "marker": "P", "markerfacecolor": "0.65"},
)

#: Shading for confidence bands and target ranges (light enough to print).
BAND = {"color": "0.85", "alpha": 0.6, "linewidth": 0}

#: Reference lines (zero, treatment start).
REFLINE = {"color": "0.45", "linewidth": 0.8}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a supported language, else raise ``ValueError``."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}")
    return lang


def series_style(i: int, *, line: bool = True, marker: bool = True) -> dict[str, Any]:
    """Keyword arguments for ``ax.plot`` of the ``i``-th series (cycles after six).

    >>> series_style(1)["linestyle"], series_style(1)["marker"]
    ('--', 's')
    """
    s = dict(SERIES[i % len(SERIES)])
    s["markeredgecolor"] = s["color"]
    if not line:
        s["linestyle"] = "none"
    if not marker:
        for k in ("marker", "markerfacecolor", "markeredgecolor"):
            s.pop(k)
    return s


def new_axes(ax=None, figsize: Sequence[float] = FIGSIZE):
    """``ax`` itself, or the Axes of a new figure drawn in the house style."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        _, ax = plt.subplots(figsize=figsize)
    return ax


def finish(ax, *, lang: str = "en", title: str | None = None, xlabel: str | None = None,
           ylabel: str | None = None, legend: bool = True, legend_loc: str = "best",
           legend_title: str | None = None):
    """Apply labels, title and the house look to ``ax`` (also when the caller made it).

    ``legend_loc="below"`` puts the legend in a row under the x-axis label, out of the data.
    """
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(True, color=RC["grid.color"], linewidth=RC["grid.linewidth"])
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=RC["xtick.labelsize"])
    if title is not None:
        ax.set_title(title, fontsize=RC["axes.titlesize"])
    if xlabel is not None:
        ax.set_xlabel(xlabel, fontsize=RC["axes.labelsize"])
    if ylabel is not None:
        ax.set_ylabel(ylabel, fontsize=RC["axes.labelsize"])
    handles = ax.get_legend_handles_labels()[0]
    if legend and handles:
        kw = {"fontsize": RC["legend.fontsize"], "frameon": False, "title": legend_title,
              "title_fontsize": RC["legend.fontsize"]}
        if legend_loc == "below":
            # a fixed distance in inches under the axes clears tick labels and x label
            height = ax.get_position().height * ax.figure.get_figheight()
            kw.update(loc="upper center", bbox_to_anchor=(0.5, -0.5 / max(height, 0.5)),
                      ncol=min(len(handles), 4))
        else:
            kw["loc"] = legend_loc
        ax.legend(**kw)
    if lang == "no":
        _norwegian_numbers(ax)
    return ax


def format_number(v: float, lang: str = "en", digits: int = 3) -> str:
    """A number for text on a figure: decimal comma and true minus in Norwegian.

    >>> format_number(0.0412, "no"), format_number(-1.5, "en", 2)
    ('0,041', '-1.50')
    """
    s = f"{v:.{digits}f}"
    return s.replace(".", ",").replace("-", "\u2212") if check_lang(lang) == "no" else s


def _norwegian_numbers(ax) -> None:
    """Decimal comma and thin-space thousands on numeric axes (Norwegian convention)."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    def fmt(v, _pos=None):
        if not np.isfinite(v):
            return ""
        if float(v).is_integer():
            s = f"{int(v):,}".replace(",", "\u2009")
        else:
            s = f"{v:.10g}".replace(".", ",")
        return s.replace("-", "\u2212")

    for axis in (ax.xaxis, ax.yaxis):
        # only plain numeric axes: dates and category labels keep their own formatter
        if type(axis.get_major_formatter()) is ScalarFormatter and axis.get_scale() == "linear":
            axis.set_major_formatter(FuncFormatter(fmt))


def figure_of(fig_or_ax):
    """The Figure of a Figure, an Axes or an array of Axes."""
    if hasattr(fig_or_ax, "savefig"):
        return fig_or_ax
    if hasattr(fig_or_ax, "figure"):
        return fig_or_ax.figure
    first = np.asarray(fig_or_ax, dtype=object).ravel()[0]
    return first.figure


def save(fig_or_ax, path_without_suffix: str | Path, *, formats: Sequence[str] = ("png", "pdf"),
         dpi: int = DPI, close: bool = False) -> list[Path]:
    """Write a figure as PNG and PDF, byte-identical on every rerun.

    Parameters
    ----------
    fig_or_ax : Figure or Axes
        What to save (an Axes saves its whole figure).
    path_without_suffix : str or Path
        Output path without extension, e.g. ``out/figure_2_event_study``; folders are made.
    formats : sequence of {"png", "pdf"}
        File types to write.
    dpi : int
        Resolution of the PNG (fixed, never the screen's).
    close : bool
        Close the figure afterwards (frees memory in long pipelines).

    Returns
    -------
    list of Path
        The written files, in ``formats`` order.

    Notes
    -----
    Determinism: time stamps (``CreationDate``) and producer strings are dropped from the
    metadata, PDF fonts are embedded as TrueType subsets with content-derived names, and the
    resolution is fixed, so the bytes depend only on what is drawn.
    """
    fig = figure_of(fig_or_ax)
    base = Path(path_without_suffix)
    if base.suffix.lower() in (".png", ".pdf"):
        base = base.with_suffix("")
    base.parent.mkdir(parents=True, exist_ok=True)
    out = []
    import matplotlib.pyplot as plt

    for fmt in formats:
        if fmt not in drawn.FORMATS:
            raise ValueError(f"format must be one of {tuple(drawn.FORMATS)}, got {fmt!r}")
    # every file carries the record of what the figure draws, for check-outputs
    # (disclosure.drawn); taken once, so PNG and PDF hold the same record
    record = drawn.record_json(fig)
    for fmt in formats:
        path = base.with_name(base.name + "." + fmt)
        with plt.rc_context({"pdf.fonttype": RC["pdf.fonttype"]}):
            drawn.savefig(fig, path, fmt, record=record, dpi=dpi,
                          bbox_inches="tight", pad_inches=0.05)
        out.append(path)
    if close:
        plt.close(fig)
    return out
