"""What a figure drew, recorded inside its file, so that ``check-outputs`` can check its content.

A PNG is pixels and a PDF draws glyphs of a font subset: a count printed at a bar, a bar whose
length is a number of persons or a number-at-risk table cannot be read back from either. So
every figure the package saves (:func:`ips_study.figures.save`,
:func:`ips_study.disclosure.save_figure`) carries a record of what it drew: in a PNG text
chunk (:data:`KEY`), in a PDF an entry of the document information dictionary
(:data:`PDF_KEY`, base64 of the same JSON). The checker applies the table rules to it
(:func:`ips_study.disclosure.check_file`): a count ``0 < n < min_count`` drawn anywhere is a
``small_count`` violation, a person identifier in any drawn text an ``identifier_value``.

The record is taken from the artists themselves, for every axes of the figure, so a new
figure is recorded without doing anything (it holds aggregates only, exactly what the figure
shows):

* ``texts``: every visible text artist of the figure: titles, axis labels, legends,
  annotations, table cells, figure texts, and category tick labels. Numeric tick labels
  (``0``, ``1,000``, ``−0.5``, ``20 %``) are the axis scale and left out.
* ``counts``: each whole number printed on its own in any of those texts (a count at a bar,
  a number at risk), and the length of every bar of every bar chart and histogram
  (``bar``, ``barh``, ``hist``, ``stairs``). A bar is a count of persons unless its axes
  (or the bar container) is declared to show something else with :func:`mark_measures`.
* ``counts`` also holds what every other data artist draws on its value axis (y, or x when
  y shows categories): lines (``plot``, ``step``, ``errorbar``, ``stem``), patches
  (``hist(histtype="step")`` polygons, rectangles added by hand, in either orientation),
  collections (``fill_between``, ``vlines``, error bars, ``scatter`` positions and colours,
  ``hexbin``, ``hist2d``/``pcolormesh``) and images (``imshow``). Undeclared, such an
  artist's values are counts when they are all whole numbers (a count series); fractions
  (shares, estimates, survival curves, densities) are not, and neither is a line or marks
  with values 0 and 1 only (a share reaching 1, a diagonal). :func:`mark_counts` on the artist
  or its axes makes every value a count; :func:`mark_measures` takes it out of the check.
  Reference lines and spans (``axhline``, ``axvspan``: one coordinate on the axes, not the
  data) are positions on the scale and not recorded.
* ``measures``: bar lengths declared as measures (weights, NOK, estimates, placebo draws),
  each with its declared unit, and the other artists so declared; listed, not checked as
  counts.
* ``unverified``: artists whose numbers cannot be read back (a pie's wedges); the checker
  reports the figure as ``unverified_figure`` unless they are declared as measures.

So a bar of 3 persons cannot pass unnoticed: it is a count unless someone wrote down that
it is not, and the record says who it is (its unit) for the reviewer. What still passes: a
count drawn undeclared after scaling into fractions (counts per 1,000, a density), which
cannot be told from a share; declare such artists with :func:`mark_counts`.

A file without a record was not made by the package, or its record was removed: its content
cannot be checked, which the checker reports (``unverified_figure``) rather than pass it.

Example
-------
>>> import matplotlib; matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> fig, (ax, ax2) = plt.subplots(1, 2)
>>> _ = ax.barh([0, 1], [240, 3])
>>> _ = ax.text(240, 0, "240")
>>> _ = ax2.bar([0, 1], [0.25, 0.75]); mark_measures(ax2, "weight")
>>> rec = drawn_record(fig)
>>> sorted(c["value"] for c in rec["counts"])
[3.0, 240.0, 240.0]
>>> [m["unit"] for m in rec["measures"]]
['weight', 'weight']
>>> plt.close(fig)
"""

from __future__ import annotations

import base64
import json
import re
import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

#: The PNG text chunk (keyword) holding the record, as JSON.
KEY = "ips_study drawn"

#: The PDF document-information entry holding the record, as base64 of the same JSON (ASCII
#: only, so it needs no PDF string escapes and reads back from the raw file).
PDF_KEY = "IpsStudyDrawn"

#: The attribute a declaration of :func:`mark_measures` / :func:`mark_counts` is kept in, on
#: the Axes or the bar container it was made for.
_UNIT_ATTR = "_ips_study_bar_unit"

#: Units that are numbers of persons (bars in these units are checked as counts).
PERSONS = "persons"

#: A whole number printed on its own: 3, 2,667, 2 667 (thin or no-break space), 12.
_WHOLE = re.compile(r"^\s*\d{1,3}(?:[,\u2009\u202f\u00a0 ]\d{3})*\s*$|^\s*\d+\s*$")

#: A tick label that is a number on the axis scale: 0, -0.5, 1,000, 2 000, 20 %, 1e6, $10^{3}$.
_SCALE = re.compile(r"^\s*\$?[-+\u2212]?[\d.,\u2009\u202f\u00a0 ]*\d(?:[eE][-+\u2212]?\d+)?"
                    r"(?:\s*%)?\$?\s*$|^\s*\$?\d+\^\{[-+\u2212]?\d+\}\$?\s*$")


def mark_measures(target, unit: str) -> None:
    """Declare that the bars of ``target`` (an Axes, one bar container, or any other artist:
    a line, a patch, a collection, an image) are not person counts but values in ``unit``
    (``"weight"``, ``"NOK"``, ``"estimate"``, ...).

    Without a declaration every bar is recorded as a count of persons and checked as one, and
    so is every other artist whose values are all whole numbers.

    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> mark_measures(ax.bar([0], [0.4]), "weight")
    >>> drawn_record(fig)["measures"][0]["unit"]
    'weight'
    >>> plt.close(fig)
    """
    if not unit or not isinstance(unit, str):
        raise ValueError("mark_measures: unit must be a non-empty string such as 'weight'")
    setattr(target, _UNIT_ATTR, unit)


def mark_counts(target) -> None:
    """Declare that the bars of ``target`` (an Axes, a bar container or any other artist)
    are person counts.

    This is the default for every bar; the call documents it, and undoes an earlier
    :func:`mark_measures` on the same target. On a line or another artist it makes every
    value a count, fractions too (averaged or smoothed counts).
    """
    setattr(target, _UNIT_ATTR, PERSONS)


def _whole(text: str) -> float | None:
    if not _WHOLE.match(text or ""):
        return None
    return float(re.sub(r"\D", "", text))


def _tick_texts(ax) -> tuple[list, set[int]]:
    """The tick labels ``ax`` shows (visible, both sides), and the ids of all its tick texts."""
    shown: list = []
    every: set[int] = set()
    for axis in [getattr(ax, n) for n in ("xaxis", "yaxis", "zaxis") if hasattr(ax, n)]:
        shown += axis.get_ticklabels(which="both") + [axis.offsetText]
        for tick in axis.majorTicks + axis.minorTicks:
            every.update({id(tick.label1), id(tick.label2)})
        every.add(id(axis.offsetText))
    return shown, every


def _bar_unit(ax, container) -> str:
    return getattr(container, _UNIT_ATTR, None) or getattr(ax, _UNIT_ATTR, None) or PERSONS


def drawn_record(fig) -> dict[str, Any]:
    """The texts, counts and measures ``fig`` draws (see the module docstring).

    The figure is laid out first (without rendering), so tick labels and legends are those
    that will be saved.
    """
    from matplotlib.container import BarContainer
    from matplotlib.patches import StepPatch
    from matplotlib.text import Text

    fig.draw_without_rendering()
    texts: list[str] = []
    counts: list[dict[str, Any]] = []
    measures: list[dict[str, Any]] = []
    unverified: list[dict[str, Any]] = []
    seen: set[int] = set()

    def printed(t, where: str) -> None:
        seen.add(id(t))
        s = t.get_text()
        if not s or not t.get_visible():
            return
        texts.append(s)
        v = _whole(s)
        if v is not None:
            counts.append({"where": where, "value": v})

    for t in fig.texts:
        printed(t, "figure text")
    for i, ax in enumerate(fig.axes, 1):
        where = f"axes {i}"
        for t in ax.texts:  # texts and annotations in the plotting area, in drawing order
            printed(t, f"{where} text")
        for table in ax.tables:
            for key in sorted(table.get_celld()):
                printed(table.get_celld()[key].get_text(), f"{where} table")
        shown, every = _tick_texts(ax)
        for t in shown:
            s = t.get_text()
            if s and t.get_visible() and not _SCALE.match(s):  # category labels, not the scale
                texts.append(s)
        seen |= every
        for c in ax.containers:
            if isinstance(c, BarContainer):
                unit = _bar_unit(ax, c)
                bars = [float(v) for v in c.datavalues if v == v]  # NaN: a hidden bar, not drawn
                if unit == PERSONS:
                    counts += [{"where": f"{where} bar", "value": v} for v in bars]
                else:
                    measures += [{"where": f"{where} bar", "value": v, "unit": unit} for v in bars]
        for p in ax.patches:
            if isinstance(p, StepPatch):  # ax.stairs: a histogram's bin heights
                unit = _bar_unit(ax, p)
                values = [float(v) for v in p.get_data().values if v == v]
                if unit == PERSONS:
                    counts += [{"where": f"{where} stairs", "value": v} for v in values]
                else:
                    measures += [{"where": f"{where} stairs", "value": v, "unit": unit} for v in values]
        _other_artists(ax, where, counts, measures, unverified)
    # every other text artist: titles, axis labels, legends, suptitle, texts of artists added
    # by hand; a bare whole number there is a count as well
    for t in fig.findobj(Text):
        if id(t) not in seen:
            printed(t, "axes text" if getattr(t, "axes", None) is not None else "figure text")
    record = {"texts": texts, "counts": counts, "measures": measures}
    if unverified:
        record["unverified"] = unverified
    return record


#: How many of an artist's values are recorded (its smallest distinct ones: only small
#: values can break the minimum, and the record stays small for long lines).
_KEEP = 50


def _other_artists(ax, where: str, counts: list, measures: list, unverified: list) -> None:
    """Every data artist of ``ax`` other than text, bars and stairs (see the module
    docstring): lines, polygons, hand-added patches, collections and images."""
    from matplotlib.collections import QuadMesh
    from matplotlib.container import BarContainer
    from matplotlib.image import AxesImage
    from matplotlib.patches import Patch, StepPatch, Wedge

    owner = {}  # artist -> the container it belongs to (errorbar, stem, bar)
    for c in ax.containers:
        for a in _flatten(c):
            owner[id(a)] = c
    bars = {id(p) for c in ax.containers if isinstance(c, BarContainer) for p in c.patches}
    cat_x, cat_y = _categorical(ax.xaxis), _categorical(ax.yaxis)
    groups = (("line", ax.lines), ("patch", ax.patches), ("collection", ax.collections),
              ("image", ax.images), ("artist", ax.artists))
    for kind, artists in groups:
        for k, a in enumerate(artists, 1):
            if id(a) in bars or isinstance(a, StepPatch) or not a.get_visible():
                continue
            label = f"{where} {kind} {k} ({type(a).__name__})"
            unit = (getattr(a, _UNIT_ATTR, None) or getattr(owner.get(id(a)), _UNIT_ATTR, None)
                    or getattr(ax, _UNIT_ATTR, None))
            if unit is not None and unit != PERSONS:
                measures.append({"where": label, "unit": unit})
                continue
            if isinstance(a, Wedge):  # a pie: angles are shares of an unknown total
                unverified.append({"where": label, "why": "a pie wedge's count cannot be read back"})
                continue
            groups_of_values = _values(a, ax, cat_x, cat_y)
            if groups_of_values is None:
                continue  # a reference line or span (axhline, axvspan): a position on the scale
            chosen: set[float] = set()
            whole = [bool(v) and all(x == int(x) for x in v) for v in groups_of_values]
            if not isinstance(a, (Patch, AxesImage, QuadMesh)):
                # a line or marks between 0 and 1 only (a share reaching 1, a diagonal) read
                # as a share, not as a count series of single persons
                whole = [w and not set(v) <= {0.0, 1.0} for w, v in zip(whole, groups_of_values)]
            for g, values in enumerate(groups_of_values):  # value axis, (other axis), colours
                # declared counts: every value is one; undeclared: a series of whole numbers
                # is a count series, fractions (shares, estimates, survival) are not counts.
                # A patch's other axis counts only when its value axis does not.
                if g == 1 and isinstance(a, Patch) and (whole[0] or unit == PERSONS):
                    continue
                if unit == PERSONS or whole[g]:
                    chosen |= {v for v in values if v > 0}
            for v in sorted(chosen)[:_KEEP]:
                counts.append({"where": label, "value": v})


def _flatten(container) -> list:
    out = []
    for a in container:
        if isinstance(a, (list, tuple)):
            out += _flatten(a)
        elif a is not None:
            out.append(a)
    return out


def _categorical(axis) -> bool:
    """Whether an axis shows categories (text tick labels, or matplotlib's category units):
    values along it are positions, not quantities."""
    from matplotlib.category import StrCategoryConverter

    if isinstance(getattr(axis, "get_converter", lambda: axis.converter)(), StrCategoryConverter):
        return True
    labels = [t.get_text() for t in axis.get_ticklabels()]
    return any(s and not _SCALE.match(s) for s in labels)


def _values(a, ax, cat_x: bool, cat_y: bool) -> list[list[float]] | None:
    """The finite values an artist shows on its value axis (y, or x when y shows
    categories) and, apart, the colour values of a mappable (a heat map of counts); ``None``
    for an artist not drawn in data coordinates on both axes."""
    import numpy as np
    from matplotlib.collections import Collection, PathCollection, QuadMesh
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    col = 0 if cat_y and not cat_x else 1
    xy = None
    if isinstance(a, AxesImage):
        xy = np.empty((0, 2))
    elif not a.get_transform().contains_branch(ax.transData) and not isinstance(a, PathCollection):
        return None
    elif isinstance(a, Line2D):
        xy = np.asarray(a.get_xydata(), dtype=float)
    elif isinstance(a, Patch):
        xy = ax.transData.inverted().transform(a.get_verts()) if len(a.get_verts()) else np.empty((0, 2))
    elif isinstance(a, QuadMesh):
        xy = np.empty((0, 2))
    elif isinstance(a, PathCollection):  # scatter: the offsets are the data
        if not a.get_offset_transform().contains_branch(ax.transData):
            return None
        xy = np.asarray(a.get_offsets(), dtype=float).reshape(-1, 2)
    elif isinstance(a, Collection):
        paths = [p.vertices for p in a.get_paths() if len(p.vertices)]
        xy = np.concatenate(paths) if paths else np.empty((0, 2))
    else:
        return None
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    groups = [xy[:, col]]
    if isinstance(a, Patch) and len(xy):
        # a polygon or rectangle may lie either way (hist(histtype="step",
        # orientation="horizontal")): when its value axis holds fractions, its other one
        # may hold the counts
        groups.append(xy[:, 1 - col])
    arr = a.get_array() if hasattr(a, "get_array") else None
    if arr is not None:
        groups.append(np.ma.compressed(np.ma.asarray(arr, dtype=float)))
    out = []
    for g in groups:
        g = g[np.isfinite(g)]
        # a patch's corners come back through the display transform: 3.0000000000004 is 3
        near = np.abs(g - np.round(g)) <= 1e-9 * np.maximum(1.0, np.abs(g))
        out.append([float(v) for v in np.where(near, np.round(g), g)])
    return out


def record_json(fig) -> str:
    """:func:`drawn_record` as the JSON text stored in the file (deterministic)."""
    return json.dumps(drawn_record(fig), ensure_ascii=False, sort_keys=True)


def png_metadata(fig, record: str | None = None) -> dict[str, str]:
    """PNG metadata carrying the record (merge into ``savefig(metadata=...)``)."""
    return {KEY: record if record is not None else record_json(fig)}


def pdf_metadata(fig, record: str | None = None) -> dict[str, str]:
    """PDF document-information entries carrying the record (merge into ``savefig(metadata=...)``)."""
    text = record if record is not None else record_json(fig)
    return {PDF_KEY: base64.b64encode(text.encode("utf-8")).decode("ascii")}


#: The figure formats that carry the record; the package writes no other.
FORMATS = {"png": png_metadata, "pdf": pdf_metadata}
FIGURE_SUFFIXES = tuple(f".{f}" for f in FORMATS)

#: Metadata set to ``None`` so that no time stamp or version string is written (byte-identical
#: reruns).
FIXED_METADATA = {"png": {"Software": None},
                  "pdf": {"Creator": None, "Producer": None, "CreationDate": None, "ModDate": None}}


def savefig(fig, path, fmt: str, *, record: str | None = None, **kwargs) -> None:
    """``fig.savefig(path, format=fmt, ...)`` without time stamps or version strings, and with
    the record of what it draws in its metadata.

    ``record`` is :func:`record_json` of ``fig`` when already taken (one per figure saved in
    several formats). A format that cannot carry the record (SVG, JPEG, EPS ...) is refused
    with ``ValueError``: its content could not be checked.
    """
    if fmt not in FORMATS:
        raise ValueError(f"a figure is saved as {' or '.join(FORMATS)} (which carry the record "
                         f"of what it draws, checked by check-outputs), not {fmt!r}")
    meta = {**FIXED_METADATA[fmt], **FORMATS[fmt](fig, record)}
    with warnings.catch_warnings():
        # the PDF backend warns about any information entry outside the standard ones
        warnings.filterwarnings("ignore", message=f"Unknown infodict keyword: '{PDF_KEY}'")
        fig.savefig(path, format=fmt, metadata=meta, **kwargs)


# -- reading the record back (check-outputs) -------------------------------------------------
def read_record(path: Path) -> tuple[str | None, list[tuple[str, str]]]:
    """The record stored in a PNG or PDF figure (JSON text, ``None`` if it has none) and the
    file's other metadata as ``(key, text)`` pairs (which may hold an identifier too).

    Raises ``ValueError`` (or ``OSError``, ``zlib.error``) when the file is not a readable
    PNG/PDF.
    """
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        entries = pdf_info(path)
        record = next((t for k, t in entries if k == PDF_KEY), None)
        if record is not None:
            try:
                record = base64.b64decode(record.encode("latin-1"), validate=True).decode("utf-8")
            except (ValueError, UnicodeError):
                record = ""  # present but damaged: reported as unreadable, not as missing
        return record, [(k, t) for k, t in entries if k != PDF_KEY]
    chunks = png_chunks(path)
    return (next((t for k, t in chunks if k == KEY), None), [(k, t) for k, t in chunks if k != KEY])


def png_chunks(path: Path) -> list[tuple[str, str]]:
    """``(keyword, text)`` of every text chunk (tEXt, zTXt, iTXt) of a PNG."""
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValueError("not a PNG file")
    pos, out = 8, []
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt":
            key, _, text = body.partition(b"\x00")
            out.append((key.decode("latin-1"), text.decode("latin-1")))
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\x00")
            out.append((key.decode("latin-1"), zlib.decompress(rest[1:]).decode("latin-1")))
        elif kind == b"iTXt":
            key, _, rest = body.partition(b"\x00")
            flag, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\x00")  # language tag
            _, _, text = rest.partition(b"\x00")  # translated keyword
            out.append((key.decode("latin-1"), (zlib.decompress(text) if flag else text).decode("utf-8")))
        pos += 12 + length
    return out


def pdf_info(path: Path) -> list[tuple[str, str]]:
    """``(key, text)`` of the string entries of a PDF's document information dictionary.

    The dictionary is found through the last ``/Info n g R`` of the file (an incremental
    update appends a new one) and read where it is written as a plain object, as matplotlib
    writes it; a PDF that keeps it inside a compressed object stream yields no entries (so a
    re-saved figure without its record reads as unverified, not as checked).

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "f.pdf"
    >>> _ = p.write_bytes(b"%PDF-1.4\\n1 0 obj\\n<< /Title (a \\\\(b\\\\)) /K <FEFF0078> >>\\nendobj\\n"
    ...                   b"trailer\\n<< /Info 1 0 R >>\\n")
    >>> pdf_info(p)
    [('Title', 'a (b)'), ('K', 'x')]
    """
    data = Path(path).read_bytes()
    if not data.startswith(b"%PDF-"):
        raise ValueError("not a PDF file")
    refs = re.findall(rb"/Info\s+(\d+)\s+(\d+)\s+R", data)
    if not refs:
        return []
    num, gen = refs[-1]
    objs = list(re.finditer(rb"(?<![\d])" + num + rb"\s+" + gen + rb"\s+obj\s*<<", data))
    if not objs:
        return []
    return _pdf_dict(data, objs[-1].end())


_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _pdf_dict(data: bytes, pos: int) -> list[tuple[str, str]]:
    """The ``/Key (string)`` and ``/Key <hex>`` entries of a dictionary starting at ``pos``."""
    out, key = [], None
    while pos < len(data):
        c = data[pos:pos + 1]
        if c.isspace():
            pos += 1
        elif data.startswith(b">>", pos) or data.startswith(b"<<", pos):
            break  # the end (an information dictionary holds no nested dictionary)
        elif c == b"/":
            m = re.compile(rb"/([^\s/<>\[\]()%{}]*)").match(data, pos)
            name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda h: bytes([int(h.group(1), 16)]), m.group(1))
            pos = m.end()
            key = name.decode("latin-1") if key is None else None  # a name value ends the pair
        elif c == b"(":
            raw, pos = _pdf_literal(data, pos + 1)
            if key is not None:
                out.append((key, _pdf_text(raw)))
            key = None
        elif c == b"<":
            end = data.find(b">", pos)
            if end < 0:
                break
            hexdigits = re.sub(rb"\s", b"", data[pos + 1:end])
            if key is not None:
                out.append((key, _pdf_text(bytes.fromhex((hexdigits + b"0" * (len(hexdigits) % 2))
                                                         .decode("ascii")))))
            key, pos = None, end + 1
        else:  # a number, a reference, an array: skip to the next token
            m = re.compile(rb"[^/()<>]*").match(data, pos)
            pos, key = max(m.end(), pos + 1), None
    return out


def _pdf_literal(data: bytes, pos: int) -> tuple[bytes, int]:
    """A literal string's bytes, from just after its ``(`` to its matching ``)``."""
    out, depth = bytearray(), 1
    while pos < len(data):
        c = data[pos:pos + 1]
        if c == b"\\":
            nxt = data[pos + 1:pos + 2]
            octal = re.compile(rb"[0-7]{1,3}").match(data, pos + 1)
            if octal:
                out.append(int(octal.group(0), 8) & 0xFF)
                pos = octal.end()
                continue
            if nxt in (b"\r", b"\n"):  # a line continuation
                pos += 3 if data[pos + 1:pos + 3] == b"\r\n" else 2
                continue
            out += _PDF_ESCAPES.get(nxt, nxt)
            pos += 2
            continue
        if c == b"(":
            depth += 1
        elif c == b")":
            depth -= 1
            if depth == 0:
                return bytes(out), pos + 1
        out += c
        pos += 1
    return bytes(out), pos


def _pdf_text(raw: bytes) -> str:
    if raw.startswith(b"\xfe\xff"):
        return raw[2:].decode("utf-16-be", errors="replace")
    return raw.decode("latin-1")
