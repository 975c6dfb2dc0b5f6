"""Paper-ready rendering of a long analysis table (one row per estimate or cell).

:func:`paper_table` turns a machine table (snake_case columns, outcome codes, raw floats)
into a :class:`~ips_study.tables.render.Table`: human column headers, outcome, design,
inference and term labels, fixed decimals per row, thousands separators, no scientific
notation. Count columns keep a header that the disclosure checker still recognises as a
count (``N (persons)``), so the Markdown and LaTeX files stay checkable.

Example
-------
>>> import pandas as pd
>>> df = pd.DataFrame({"outcome": ["workdays", "ltbd"], "estimate": [-5.234, -0.01234],
...                    "std_error": [4.3, 0.0061], "p_value": [0.22, 0.000002], "n_obs": [12345, 12345]})
>>> print(paper_table(df).to_markdown())
| Outcome | Estimate | Std. error | p-value | N (observations) |
|:---|---:|---:|---:|---:|
| Workdays per person-year | −5.23 | 4.30 | 0.220 | 12,345 |
| Share long-term benefit dependent | −0.0123 | 0.0061 | <0.001 | 12,345 |
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from ips_study.disclosure import SUPPRESSED, is_count_name
from ips_study.figures.labels import (column_label, design_label, flow_step_label,
                                      inference_label, outcome_label, term_label)
from ips_study.figures.style import check_lang

from .render import Table, auto_decimals, format_number

#: columns whose values are names to translate, and how
_LABELLERS = {"outcome": outcome_label, "design": design_label, "inference": inference_label,
              "term": term_label, "step": flow_step_label,
              **{c: column_label for c in ("level", "aggregation", "group", "era")}}
#: p-value columns (three decimals, ``<0.001``)
_P_COLUMNS = ("p_value", "p", "pvalue")
#: columns printed with the decimals of the row's estimate (same unit as the estimate)
_SAME_UNIT = ("estimate", "std_error", "conf_low", "conf_high", "truth", "analytic_std_error")


def _is_whole(column: str, values: pd.Series) -> bool:
    if is_count_name(column) or str(column).startswith("rows_"):
        return True
    num = pd.to_numeric(values, errors="coerce").dropna()
    return bool(len(num)) and pd.api.types.is_integer_dtype(values)


def paper_table(df: pd.DataFrame, *, lang: str = "en", caption: str | None = None,
                notes: Sequence[str] = (), label: str | None = None,
                level: float = 0.95) -> Table:
    """A long table in the house format (see the module docstring).

    Parameters
    ----------
    df : DataFrame
        The machine table (already disclosure-controlled: suppressed cells hold ``":"``).
    lang : {"en", "no"}
    caption, notes, label : optional
        Caption, notes and LaTeX label; notes on the suppression marker, on the confidence
        level and on unbounded intervals are added when the table needs them.
    level : float
        Confidence level of ``conf_low``/``conf_high`` (for the column headers' note).
    """
    check_lang(lang)
    frame = df.reset_index() if df.index.name is not None else df.reset_index(drop=True)
    cols = [str(c) for c in frame.columns]
    frame.columns = cols
    same = [c for c in cols if c in _SAME_UNIT]
    # Fixed decimals per outcome (per design when there is no outcome column; per row when
    # rows are different quantities, e.g. cost-benefit metrics): enough for three significant
    # digits of the group's largest estimate, so shares and workdays both read well
    basis = [c for c in ("estimate",) if c in cols] or same
    key = next((c for c in ("outcome", "design") if c in cols), None)
    groups = frame[key] if key else pd.Series(frame.index, index=frame.index)
    decimals = {g: auto_decimals(pd.to_numeric(frame.loc[groups == g, basis].stack(),
                                               errors="coerce").tolist())
                for g in groups.unique()}
    rows = []
    for i, r in frame.iterrows():
        d = decimals[groups[i]]
        cells = []
        for c in cols:
            v = r[c]
            if isinstance(v, str) or v is None:
                cells.append(_LABELLERS[c](v, lang) if c in _LABELLERS and v not in ("", SUPPRESSED)
                             and v is not None else ("" if v is None else v))
            elif c in _P_COLUMNS:
                cells.append(format_number(v, lang=lang, p_value=True))
            elif _is_whole(c, frame[c]):
                cells.append(format_number(v, lang=lang, integer=True))
            elif c in same:
                cells.append(format_number(v, d, lang))
            else:
                col = pd.to_numeric(frame[c], errors="coerce").tolist()
                cells.append(format_number(v, auto_decimals(col), lang))
        rows.append(cells)
    header = [column_label(c, lang) for c in cols]
    align = "".join("l" if frame[c].map(lambda v: isinstance(v, str) and v != SUPPRESSED).any()
                    else "r" for c in cols)
    auto = []
    if "conf_low" in cols:
        auto.append(f"{level:.0%} confidence interval." if lang == "en"
                    else f"{level:.0%} konfidensintervall.")
        ci = frame[["conf_low", "conf_high"]].apply(pd.to_numeric, errors="coerce")
        if ci.abs().eq(float("inf")).to_numpy().any():
            auto.append("∞: the method cannot bound the interval at this level with so few control "
                        "units." if lang == "en" else
                        "∞: metoden kan ikke avgrense intervallet på dette nivået med så få "
                        "kontrollenheter.")
    if "inference" in cols:
        auto.append("The inference column names the method behind each row's interval and p-value."
                    if lang == "en" else
                    "Kolonnen Inferens angir metoden bak intervallet og p-verdien i hver rad.")
    if (frame.astype(str) == SUPPRESSED).to_numpy().any():
        auto.append(f"{SUPPRESSED} not published (too few persons)." if lang == "en"
                    else f"{SUPPRESSED} ikke publisert (for få personer).")
    return Table(header, rows, caption=caption, notes=tuple(auto) + tuple(notes), label=label,
                 align=align, lang=lang)
