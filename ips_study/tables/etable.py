"""Several models side by side: :func:`etable`, like pyfixest's ``etable``, statsmodels'
``summary_col`` or R's ``modelsummary``, for any :class:`~ips_study.results.Results`.

Each column is one model; the coefficient rows read ``Results.tidy()`` (the single source of
truth), the bottom rows name the outcome, the design, the *inference method* behind the
column's intervals, p-values and stars, and the observations and units. Every model passes
:func:`ips_study.disclosure.check_results` first.

Names in any script (``arbeidsdager_ø``, ``alder²``, æøå in factor levels) are laid out by
their display width (:func:`ips_study.results.display_width`: a decomposed "å" is one
column, a wide character two), and a name typed composed or decomposed is one term, one
``labels=`` key and one ``keep=``/``drop=`` pattern (Unicode NFC); ``tidy()`` keeps each
model's own spelling (tests/test_outside_tables.py).

Example
-------
>>> import pandas as pd
>>> from ips_study.results import Results
>>> def fit(est, outcome, inference):
...     tidy = pd.DataFrame({"estimate": [est], "std_error": [1.5]}, index=["treated_post"])
...     return Results(tidy, design="did", outcome=outcome, inference=inference,
...                    n_obs=12_000, n_units=22)
>>> t = etable([fit(5.6, "workdays", "placebo-t"), fit(4.1, "workdays", "cluster")])
>>> print(t.to_text())
==========================================================================
                                            (1)                        (2)
                       Workdays per person-year   Workdays per person-year
--------------------------------------------------------------------------
Treated × post                             5.60                       4.10
                                         (1.50)                     (1.50)
--------------------------------------------------------------------------
Design                Difference-in-differences  Difference-in-differences
Inference         Placebo-in-space, studentized  Clustered by municipality
N (observations)                         12,000                     12,000
N (units)                                    22                         22
==========================================================================
Note: Standard errors in parentheses. The inference row names the method behind each column's intervals and p-values.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Mapping, Sequence

import numpy as np

from ips_study.figures.labels import (canonical_term, design_label, inference_label,
                                      outcome_label, pick, term_label)
from ips_study.figures.style import check_lang

from .render import Table, auto_decimals, format_number

#: p-value thresholds of the stars, largest first
STARS = ((0.10, "*"), (0.05, "**"), (0.01, "***"))

_NOTES = {
    "se": ("Standard errors in parentheses.", "Standardfeil i parentes."),
    "ci": ("{level:.0%} confidence intervals in brackets.",
           "{level:.0%} konfidensintervall i hakeparentes."),
    "p": ("p-values in parentheses.", "p-verdier i parentes."),
    "inference": ("The inference row names the method behind each column's intervals and p-values.",
                  "Raden Inferens angir metoden bak intervallene og p-verdiene i hver kolonne."),
    "stars": ("* p < 0.10, ** p < 0.05, *** p < 0.01 under each column's inference method.",
              "* p < 0,10, ** p < 0,05, *** p < 0,01 under kolonnens inferensmetode."),
    "unbounded": ("An interval of (−∞, ∞) means the method cannot bound it at this level with "
                  "so few control units.",
                  "Et intervall (−∞, ∞) betyr at metoden ikke kan avgrense det på dette nivået "
                  "med så få kontrollenheter."),
}

_ROWS = {
    "outcome": ("Outcome", "Utfall"), "design": ("Design", "Design"),
    "inference": ("Inference", "Inferens"), "n_obs": ("N (observations)", "N (observasjoner)"),
    "n_units": ("N (units)", "N (enheter)"),
}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _stars(p: float) -> str:
    out = ""
    for threshold, mark in STARS:
        if np.isfinite(p) and p < threshold:
            out = mark
    return out


def _nfc(name) -> str:
    """One spelling of a name: "å" typed as one character or as "a" plus a combining ring
    (macOS file names, some CSV exports) is the same term, label key and pattern."""
    return unicodedata.normalize("NFC", str(name))


def _select(terms: list[str], keep: Sequence[str] | None, drop: Sequence[str] | None) -> list[str]:
    """Terms in first-seen order; ``keep`` (regexes) also orders them, ``drop`` removes."""
    if keep:
        ordered = []
        for pattern in keep:
            ordered += [t for t in terms if re.search(pattern, t) and t not in ordered]
        terms = ordered
    if drop:
        terms = [t for t in terms if not any(re.search(p, t) for p in drop)]
    return terms


def etable(
    results: Iterable,
    *,
    stat: str = "se",
    stars: bool = False,
    decimals: int | None = None,
    keep: Sequence[str] | None = None,
    drop: Sequence[str] | None = None,
    labels: Mapping[str, str] | None = None,
    model_names: Sequence[str] | None = None,
    lang: str = "en",
    caption: str | None = None,
    notes: Sequence[str] = (),
    label: str | None = None,
    min_count: int | None = None,
) -> Table:
    """Put several results side by side, one model per column.

    Parameters
    ----------
    results : iterable of Results
        Any of the package's results (DiD family, survival, economics), mixed freely.
    stat : {"se", "ci", "p"}
        What goes under each estimate: standard error in parentheses, the stored confidence
        interval in brackets (the one the column's inference method produced), or the p-value.
    stars : bool
        Significance stars from each column's own p-values (see the ``Inference`` row).
    decimals : int, optional
        Fixed decimals for estimates and their statistics; default per column, enough for
        three significant digits of its largest estimate.
    keep, drop : list of str, optional
        Regular expressions on the canonical term names (``age_band[25-29]``, ``female``);
        ``keep`` also sets the order.
    labels : mapping, optional
        Term -> label overrides (canonical term names); other terms get the house labels of
        :func:`ips_study.figures.labels.term_label`.
    model_names : list of str, optional
        Column titles; default the outcome labels.
    lang : {"en", "no"}
        Language of labels, notes and number format (Norwegian: decimal comma).
    caption, notes, label : optional
        LaTeX/HTML caption, extra notes (after the automatic ones) and LaTeX label.
    min_count : int, optional
        Disclosure minimum (default :data:`ips_study.disclosure.MIN_COUNT`); every model is
        checked by :func:`ips_study.disclosure.check_results` and :meth:`Table.save` checks
        the written files.

    Returns
    -------
    Table
        With ``to_text()``, ``to_markdown()``, ``to_latex()``, ``to_html()`` and ``save()``.
    """
    from ips_study import disclosure

    check_lang(lang)
    if stat not in ("se", "ci", "p"):
        raise ValueError(f"stat must be 'se', 'ci' or 'p', not {stat!r}")
    models = list(results)
    if not models:
        raise ValueError("etable needs at least one results object")
    minimum = disclosure.MIN_COUNT if min_count is None else min_count
    for r in models:
        disclosure.check_results(r, minimum)
    if model_names is not None and len(model_names) != len(models):
        raise ValueError(f"model_names has {len(model_names)} names for {len(models)} models")
    tidies = []
    for r in models:
        t = r.tidy()
        t.index = [canonical_term(_nfc(i)) for i in t.index]
        tidies.append(t)
    seen: list[str] = []
    for t in tidies:
        seen += [i for i in t.index if i not in seen]
    terms = _select(seen, keep and [_nfc(k) for k in keep], drop and [_nfc(d) for d in drop])
    labels = {_nfc(k): v for k, v in (labels or {}).items()}

    body: list[list[str]] = []
    for term in terms:
        est_row, stat_row = [labels.get(term) or term_label(term, lang)], [""]
        for t in tidies:
            if term not in t.index:
                est_row.append("")
                stat_row.append("")
                continue
            row = t.loc[term]
            d = decimals if decimals is not None else auto_decimals(t["estimate"].tolist())
            est_row.append(format_number(row["estimate"], d, lang)
                           + (_stars(float(row["p_value"])) if stars else ""))
            if stat == "se":
                stat_row.append(f"({format_number(row['std_error'], d, lang)})")
            elif stat == "p":
                stat_row.append(f"({format_number(row['p_value'], lang=lang, p_value=True)})")
            else:
                sep = "; " if lang == "no" else ", "
                stat_row.append(f"[{format_number(row['conf_low'], d, lang)}{sep}"
                                f"{format_number(row['conf_high'], d, lang)}]")
        body += [est_row, stat_row]

    bottom = [
        [pick(_ROWS["design"], lang)] + [design_label(r.design, lang) for r in models],
        [pick(_ROWS["inference"], lang)] + [inference_label(r.inference, lang) for r in models],
        [pick(_ROWS["n_obs"], lang)] + [format_number(r.n_obs, lang=lang, integer=True) for r in models],
        [pick(_ROWS["n_units"], lang)] + [format_number(r.n_units, lang=lang, integer=True)
                                           for r in models],
    ]
    names = list(model_names) if model_names is not None else [_capital(outcome_label(r.outcome, lang))
                                                                for r in models]
    header = [[""] + [f"({k + 1})" for k in range(len(models))], [""] + names]

    auto = [pick(_NOTES[stat], lang).format(level=models[0].level), pick(_NOTES["inference"], lang)]
    if stars:
        auto.append(pick(_NOTES["stars"], lang))
    if stat == "ci" and any(np.isinf(t.loc[[x for x in terms if x in t.index],
                                           ["conf_low", "conf_high"]].to_numpy(float)).any()
                            for t in tidies):
        auto.append(pick(_NOTES["unbounded"], lang))
    return Table(header, body + bottom, caption=caption, notes=tuple(auto) + tuple(notes),
                 label=label, rules=(len(body),), lang=lang)
