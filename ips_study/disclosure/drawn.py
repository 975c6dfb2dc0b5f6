"""What a figure drew, recorded inside its PNG, so that ``check-outputs`` can check its content.

A PNG is pixels: a count printed at a bar, a bar whose length is a number of persons or a
number-at-risk table cannot be read back from it. So every figure the package saves
(:func:`ips_study.figures.save`, :func:`ips_study.disclosure.save_figure`) carries a record
of the numbers it drew in a PNG text chunk (:data:`KEY`), and the checker applies the
table rules to them (:func:`ips_study.disclosure.check_file`): a count ``0 < n < min_count`` drawn anywhere is a
``small_count`` violation, a person identifier in any drawn text an ``identifier_value``.

The record holds aggregates only, exactly what the figure shows and nothing more:

* ``texts``: every text the figure draws (titles, labels, legends, annotations, table cells;
  tick labels are the axis scale and left out);
* ``counts``: each whole number printed on its own in the plotting area (a count at a bar, a
  number at risk), and the bar lengths of axes marked as person counts (:func:`mark_counts`).

A PNG without a record was not made by the package, or its record was removed: its content
cannot be checked, which the checker reports (``unverified_figure``) rather than pass it.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots()
>>> _ = ax.barh([0, 1], [240, 3]); mark_counts(ax)
>>> _ = ax.text(240, 0, "240")
>>> rec = drawn_record(fig)
>>> sorted(c["value"] for c in rec["counts"])
[3.0, 240.0, 240.0]
>>> plt.close(fig)
"""

from __future__ import annotations

import json
import re
import weakref
from typing import Any


#: The PNG text chunk (keyword) holding the record, as JSON.
KEY = "ips_study drawn"

#: A whole number printed on its own: 3, 2,667, 2 667 (thin or no-break space), 12.
_WHOLE = re.compile(r"^\s*\d{1,3}(?:[,\u2009\u202f\u00a0 ]\d{3})*\s*$|^\s*\d+\s*$")

_COUNT_AXES: "weakref.WeakSet" = weakref.WeakSet()


def mark_counts(ax) -> None:
    """Declare that the bars of ``ax`` have person counts as their lengths (recorded as counts)."""
    _COUNT_AXES.add(ax)


def _whole(text: str) -> float | None:
    if not _WHOLE.match(text or ""):
        return None
    return float(re.sub(r"\D", "", text))


def drawn_record(fig) -> dict[str, Any]:
    """The texts and counts ``fig`` draws (see the module docstring); aggregates only."""
    from matplotlib.container import BarContainer

    texts: list[str] = []
    counts: list[dict[str, Any]] = []

    def printed(t, where: str) -> None:
        s = t.get_text()
        if not s or not t.get_visible():
            return
        texts.append(s)
        v = _whole(s)
        if v is not None:
            counts.append({"where": where, "value": v})

    if fig._suptitle is not None:
        texts.append(fig._suptitle.get_text())
    for t in fig.texts:
        printed(t, "figure text")
    for i, ax in enumerate(fig.axes, 1):
        where = f"axes {i}"
        for t in (ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label):
            if t.get_text():
                texts.append(t.get_text())
        for t in ax.texts:  # texts and annotations in the plotting area
            printed(t, f"{where} text")
        for table in ax.tables:
            for cell in table.get_celld().values():
                printed(cell.get_text(), f"{where} table")
        legend = ax.get_legend()
        if legend is not None:
            texts += [t.get_text() for t in legend.get_texts()]
            if legend.get_title().get_text():
                texts.append(legend.get_title().get_text())
        if ax in _COUNT_AXES:
            for c in ax.containers:
                if isinstance(c, BarContainer):
                    counts += [{"where": f"{where} bar", "value": float(v)} for v in c.datavalues
                               if v == v]  # NaN: a hidden bar, not drawn
    return {"texts": texts, "counts": counts}


def png_metadata(fig) -> dict[str, str]:
    """PNG metadata carrying the record (merge into ``savefig(metadata=...)``)."""
    return {KEY: json.dumps(drawn_record(fig), ensure_ascii=False, sort_keys=True)}
