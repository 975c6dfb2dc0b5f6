"""One table model, four renderings: plain text, Markdown, LaTeX (booktabs) and HTML.

A :class:`Table` holds already formatted cells (strings), a caption, notes and a label; the
numbers are formatted once by :func:`format_number` so the four renderings can never disagree.
Writing goes through :meth:`Table.save`, which runs the disclosure checker
(:func:`ips_study.disclosure.check_file`) on every file it wrote and removes the files of a
table that fails.

Example
-------
>>> t = Table(["", "(1)"], [["Treated × post", "1.23"], ["", "(0.45)"]], caption="DiD",
...           notes=("Standard errors in parentheses.",), rules=(2,))
>>> print(t.to_markdown())
**DiD**
<BLANKLINE>
|  | (1) |
|:---|---:|
| Treated × post | 1.23 |
|  | (0.45) |
<BLANKLINE>
*Note:* Standard errors in parentheses.
"""

from __future__ import annotations

import html
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ips_study.results import display_width, pad

#: thousands separator and decimal mark by language (Norwegian: non-breaking space, comma)
SEPARATORS = {"en": (",", "."), "no": ("\u00a0", ",")}
MINUS = "\u2212"


def format_number(value: Any, decimals: int = 2, lang: str = "en", *, integer: bool = False,
                  p_value: bool = False) -> str:
    """A number with fixed decimals and thousands separators, never scientific notation.

    ``integer`` formats a count (no decimals); ``p_value`` prints values below 0.001 as
    ``<0.001``. Missing values print as empty cells, infinities as ``−∞`` / ``∞``, strings
    (e.g. the suppression marker ``:``) unchanged. Negative numbers carry a true minus sign.

    >>> format_number(-28812345.2, 0), format_number(0.000002, p_value=True)
    ('−28,812,345', '<0.001')
    >>> format_number(1234.5, 1, "no")
    '1\\xa0234,5'
    """
    if value is None or isinstance(value, str):
        return "" if value is None else value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return ""
    if math.isinf(x):
        return "∞" if x > 0 else MINUS + "∞"
    thousands, point = SEPARATORS.get(lang, SEPARATORS["en"])
    if p_value and x < 0.001:
        return "<0" + point + "001"
    d = 0 if integer else (3 if p_value else decimals)
    text = f"{abs(x):,.{d}f}"
    if float(text.replace(",", "")) == 0:
        x = 0.0  # no "−0.00"
    text = text.replace(",", "\x00").replace(".", point).replace("\x00", thousands)
    return (MINUS if x < 0 else "") + text


def auto_decimals(values: Sequence[float], digits: int = 3, max_decimals: int = 4) -> int:
    """Decimals that show ``digits`` significant digits of the largest finite value.

    Used to fix the decimals of one model column or one table row, so shares (0.012) and
    workdays (5.23) each print readably but all numbers of a row share the same decimals.

    >>> auto_decimals([5.23, 4.1]), auto_decimals([0.0123, 0.004]), auto_decimals([-512345.0])
    (2, 4, 0)
    """
    arr = np.abs(np.asarray([v for v in values if v is not None], dtype=float))
    arr = arr[np.isfinite(arr) & (arr > 0)]
    if arr.size == 0:
        return min(2, max_decimals)
    top = math.floor(math.log10(arr.max()))
    return int(min(max_decimals, max(0, digits - 1 - top)))


def _latex_escape(text: str) -> str:
    out = re.sub(r"([&%#_{}$])", r"\\\1", str(text))
    out = out.replace("∞", r"$\infty$").replace(MINUS, r"$-$").replace("×", r"$\times$")
    return out.replace("<", "$<$").replace(">", "$>$")


@dataclass(frozen=True)
class Table:
    """A formatted table: header row(s), body rows of strings, caption, notes and label.

    Parameters
    ----------
    header : list of str, or list of lists for several header rows
    rows : list of lists of str
    caption, label : str, optional
        The caption (title) and the LaTeX ``\\label``.
    notes : tuple of str
        Printed under the table.
    rules : tuple of int
        Body row indices before which a horizontal rule is drawn (``\\midrule``).
    align : str, optional
        One letter per column (``l``, ``r``, ``c``); default first column left, others right.
    """

    header: list
    rows: list[list[str]]
    caption: str | None = None
    notes: tuple[str, ...] = ()
    label: str | None = None
    rules: tuple[int, ...] = ()
    align: str | None = None
    lang: str = "en"

    @property
    def note_word(self) -> str:
        return "Note:" if self.lang == "en" else "Merknad:"

    @property
    def headers(self) -> list[list[str]]:
        h = self.header
        return [list(map(str, r)) for r in h] if h and isinstance(h[0], (list, tuple)) else [list(map(str, h))]

    @property
    def alignment(self) -> str:
        n = len(self.headers[-1])
        return self.align or "l" + "r" * (n - 1)

    # -- renderings ---------------------------------------------------------------------------
    def to_text(self) -> str:
        """Fixed-width plain text (for the console and log files)."""
        grid = self.headers + self.rows
        # display columns, not code points: a decomposed "å" or a wide character in a
        # variable name would otherwise shift every cell to its right
        widths = [max(display_width(r[j]) for r in grid) for j in range(len(grid[0]))]

        def line(r):
            return "  ".join(pad(c, w, "l" if a == "l" else "r")
                             for c, w, a in zip(r, widths, self.alignment)).rstrip()

        total = sum(widths) + 2 * (len(widths) - 1)
        out = [self.caption, ""] if self.caption else []
        out.append("=" * total)
        out += [line(r) for r in self.headers]
        out.append("-" * total)
        for i, r in enumerate(self.rows):
            if i in self.rules and i:
                out.append("-" * total)
            out.append(line(r))
        out.append("=" * total)
        if self.notes:
            out.append(" ".join([self.note_word, *self.notes]))
        return "\n".join(out)

    def to_markdown(self) -> str:
        """Pipe table with the caption in bold above and the notes below."""
        def line(r):
            return "| " + " | ".join(c.replace("|", "/") for c in r) + " |"

        out = [f"**{self.caption}**", ""] if self.caption else []
        heads = self.headers
        # Markdown has one header row: stack several header rows into one cell each
        top = [" ".join(x for x in col if x).strip() for col in zip(*heads)]
        out.append(line(top))
        out.append("|" + "|".join(":---" if a == "l" else "---:" if a == "r" else ":---:"
                                  for a in self.alignment) + "|")
        out += [line(r) for r in self.rows]
        if self.notes:
            out += ["", " ".join([f"*{self.note_word}*", *self.notes])]
        return "\n".join(out)

    def to_latex(self) -> str:
        """A ``table`` float with booktabs rules, caption, label and notes (threeparttable-free:
        the notes sit in a ``minipage`` so only ``booktabs`` is required)."""
        out = ["\\begin{table}[htbp]", "\\centering"]
        if self.caption:
            out.append(f"\\caption{{{_latex_escape(self.caption)}}}")
        if self.label:
            out.append(f"\\label{{{self.label}}}")
        out.append(f"\\begin{{tabular}}{{{self.alignment}}}")
        out.append("\\toprule")
        for r in self.headers:
            out.append(" & ".join(_latex_escape(c) for c in r) + " \\\\")
        out.append("\\midrule")
        for i, r in enumerate(self.rows):
            if i in self.rules and i:
                out.append("\\midrule")
            out.append(" & ".join(_latex_escape(c) for c in r) + " \\\\")
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        if self.notes:
            out.append("\\par\\smallskip")
            out.append("\\begin{minipage}{0.95\\linewidth}\\footnotesize")
            out.append(f"\\emph{{{self.note_word}}} " + " ".join(_latex_escape(n) for n in self.notes))
            out.append("\\end{minipage}")
        out.append("\\end{table}")
        return "\n".join(out)

    def to_html(self) -> str:
        """A ``<table>`` with ``<caption>``, header, body and the notes in ``<tfoot>``."""
        css = {"l": "left", "r": "right", "c": "center"}
        al = self.alignment

        def cells(r, tag):
            return "".join(f'<{tag} style="text-align:{css[a]}">{html.escape(c)}</{tag}>'
                           for c, a in zip(r, al))

        out = ['<table class="ips-table">']
        if self.caption:
            out.append(f"<caption>{html.escape(self.caption)}</caption>")
        out.append("<thead>" + "".join(f"<tr>{cells(r, 'th')}</tr>" for r in self.headers) + "</thead>")
        body = []
        for i, r in enumerate(self.rows):
            style = ' style="border-top:1px solid"' if i in self.rules and i else ""
            body.append(f"<tr{style}>{cells(r, 'td')}</tr>")
        out.append("<tbody>" + "".join(body) + "</tbody>")
        if self.notes:
            out.append(f'<tfoot><tr><td colspan="{len(al)}"><em>{self.note_word}</em> '
                       f"{html.escape(' '.join(self.notes))}</td></tr></tfoot>")
        out.append("</table>")
        return "\n".join(out)

    def render(self, fmt: str) -> str:
        """The table as ``"text"``, ``"md"``, ``"tex"`` or ``"html"``."""
        try:
            return {"text": self.to_text, "txt": self.to_text, "md": self.to_markdown,
                    "tex": self.to_latex, "html": self.to_html}[fmt]()
        except KeyError:
            raise ValueError(f"unknown table format {fmt!r}; use text, md, tex or html") from None

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def save(self, path_stem: str | Path, formats: Sequence[str] = ("md", "tex"), *,
             min_count: int | None = None) -> list[Path]:
        """Write the table in ``formats`` and check each file for disclosure.

        Every file goes through :func:`ips_study.disclosure.check_file` (small counts in
        count columns, identifiers); a failing table is removed again and
        :class:`~ips_study.disclosure.DisclosureError` raised.
        """
        from ips_study import disclosure

        minimum = disclosure.MIN_COUNT if min_count is None else min_count
        stem = Path(path_stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        paths = []
        for f in formats:
            suffix = "txt" if f == "text" else f
            p = stem.with_name(stem.name + "." + suffix)
            p.write_text(self.render(f) + "\n", encoding="utf-8")
            paths.append(p)
        problems = [v for p in paths if p.suffix in disclosure.CHECKED_SUFFIXES
                    for v in disclosure.check_file(p, minimum)]
        if problems:
            for p in paths:
                p.unlink(missing_ok=True)
            raise disclosure.DisclosureError("; ".join(str(v) for v in problems))
        return paths
