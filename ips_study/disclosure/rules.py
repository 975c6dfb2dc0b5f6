"""Naming rules shared by every disclosure check: counts, identifiers, dates of birth.

Count columns are recognised by name (:func:`is_count_name`); identifier and birth-date
columns likewise (:func:`is_identifier_name`, :func:`is_birth_name`); an 11-digit number
(fødselsnummer) or a 10-digit one (a delivery's løpenummer) is recognised anywhere by
:data:`FNR_RE`.

>>> is_count_name("n_active"), is_identifier_name("fnr"), is_birth_name("fødselsdato")
(True, True, True)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

SUPPRESSED = ":"

#: Default minimum number of persons behind any published number.
MIN_COUNT = 5

_COUNT_RE = re.compile(
    r"^(n|count|counts|persons|people|cases|freq|frequency|"
    r"n_.+|.+_n|count_.+|.+_count|.+_counts|persons_.+|.+_persons|.+_cases|number_of_.+|num_.+)$"
)
_ID_RE = re.compile(
    r"^(person_?id|pid|personid|person|fnr|f_?nr|fodselsnr|fodselsnummer|fødselsnummer|"
    r"fodselsnr|lopenr|lopenummer|løpenummer|ssn|personnummer|pnr|.+_person_id)$"
)
_BIRTH_RE = re.compile(r"(birth|fodsel|fødsel|fodt|født|^dob$|^dob_|_dob$)")
# 11 digits (fødselsnummer, or "ddmmyy nnnnn") and 10 digits (the pseudonymous løpenummer
# of a register delivery, e.g. the synthetic ids "0000012345"): not inside hashes, words or
# decimal numbers
FNR_RE = re.compile(r"(?<!\w)(?<!\d[.,])(?:\d{6}[ -]?\d{5}|\d{10})(?!\w)(?![.,]\d)")
#: only the 11-digit fødselsnummer form (for amounts that may reach ten digits)
FNR11_RE = re.compile(r"(?<!\w)(?<!\d[.,])\d{6}[ -]?\d{5}(?!\w)(?![.,]\d)")
N_EQUALS_RE = re.compile(r"\b[nN]\s*=\s*(\d[\d,]*)\b")


class DisclosureError(RuntimeError):
    """An output would disclose small counts or identifiers and is refused."""


def canon(name: Any) -> str:
    s = str(name).strip().lower()
    s = re.sub(r"[\s\-\.]+", "_", s)
    return s.strip("_")


def is_count_name(name: Any) -> bool:
    """Whether a column (or JSON key) name marks a count of persons under the convention.

    >>> [is_count_name(c) for c in ("n", "n_active", "ever_offered_n", "share", "persons")]
    [True, True, True, False, True]
    """
    return bool(_COUNT_RE.match(canon(name)))


#: Words that make a column a count of persons or events by its role, in any position of a
#: name (``n_treated``, ``deaths``, ``antall_personer``, ``events_total``); English and
#: Norwegian. A column named with one of them is checked whatever else its name says.
COUNT_WORDS = frozenset({
    "n", "count", "counts", "antall", "total", "totalt", "sum", "events", "deaths",
    "dead", "died", "persons", "person_count", "people", "personer", "individuals", "participants",
    "deltakere", "cases", "freq", "frequency", "observations", "obs", "subjects", "at_risk",
    "hendelser", "dodsfall", "dødsfall", "døde", "dode", "number", "num", "tilfeller",
})
#: Words that make a column a statistic of counts rather than a count (``death_rate``).
NOT_COUNT_WORDS = frozenset({"rate", "rates", "share", "mean", "ratio", "pct", "percent", "prop",
                             "proportion", "andel", "median", "sd", "se", "hazard", "per", "avg",
                             "cost", "costs", "nok", "kr", "amount", "wage", "income", "value", "year", "years",
                             "time", "date", "day", "days", "month", "months", "week", "age", "id", "code"})
#: Names of a long table's unit column, and the units that make its value a count.
UNIT_NAMES = frozenset({"unit", "units", "enhet", "statistic", "measure", "stat"})
COUNT_UNITS = frozenset({"n", "count", "counts", "persons", "person", "people", "personer", "antall",
                         "events", "deaths", "cases", "person_years", "person_months", "individuals"})


def is_count_role(name: Any) -> bool:
    """Whether a column holds counts by its role: :func:`is_count_name`, or a count word
    anywhere in the name.

    >>> [is_count_role(c) for c in ("antall", "total", "events", "deaths", "n_at_risk", "share")]
    [True, True, True, True, True, False]
    """
    c = canon(name)
    if is_count_name(c):
        return True
    words = c.split("_")
    if any(w in NOT_COUNT_WORDS for w in words):
        return False
    return any(w in COUNT_WORDS for w in words) or "at_risk" in c


def is_identifier_name(name: Any) -> bool:
    """Whether a name looks like a person identifier (person_id, fnr, fødselsnummer, ...)."""
    return bool(_ID_RE.match(canon(name)))


def is_birth_name(name: Any) -> bool:
    """Whether a name looks like a date of birth (birth_date, fodselsdato, dob, ...)."""
    return bool(_BIRTH_RE.search(canon(name)))


#: Words that say a count is printed scaled (``persons_1000``, ``antall (tusen)``, a long
#: table's unit ``1000 persons``): the persons are the printed value times the scale.
SCALE_WORDS = {"hundreds": 1e2, "hundre": 1e2, "100s": 1e2, "thousand": 1e3, "thousands": 1e3,
               "tusen": 1e3, "1000": 1e3, "1000s": 1e3, "million": 1e6, "millions": 1e6,
               "mill": 1e6, "mln": 1e6, "millioner": 1e6}


def count_scale(name: Any) -> float:
    """How many persons one printed unit of a count column (or unit) stands for: 1, or the
    scale its name states (:data:`SCALE_WORDS`).

    >>> [count_scale(c) for c in ("n", "persons_1000", "antall (tusen)", "n, millions")]
    [1.0, 1000.0, 1000.0, 1000000.0]
    """
    words = re.findall(r"[a-z0-9æøå]+", str(name).lower())
    return next((SCALE_WORDS[w] for w in words if w in SCALE_WORDS), 1.0)


def is_small(v: float, min_count: int) -> bool:
    return bool(np.isfinite(v) and 0 < v < min_count)


def parse_number(v: Any) -> float | None:
    """A published cell as a number, or ``None``: thousands separators (``5,639``, ``5 639``),
    a decimal comma (``3,0``, ``0,0115``), LaTeX math and minus signs are read.

    >>> [parse_number(v) for v in ("5,639", "3,0", "0,0115", "$12$", "−0.5", "a", True)]
    [5639.0, 3.0, 0.0115, 12.0, -0.5, None, None]
    """
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    s = str(v).strip().replace("\u2009", "").replace("\xa0", "").replace("\u202f", "")
    s = re.sub(r"^\$?\{?|\}?\$?$", "", s).replace("\u2212", "-")
    # a decimal comma ("3,0", "0,0115"), not a thousands group ("5,639")
    if re.fullmatch(r"[-+]?\d+,\d{1,2}", s) or re.fullmatch(r"[-+]?0,\d+", s):
        s = s.replace(",", ".")
    s = s.replace(",", "").replace(" ", "")
    if not re.fullmatch(r"[-+]?\d+(\.\d+)?", s):
        return None
    return float(s)


def rows_text(rows: list[int]) -> str:
    """Row numbers (1-based) for a message: the first five and how many more."""
    shown = ", ".join(str(r + 1) for r in rows[:5])
    return shown + (f" (+{len(rows) - 5} more)" if len(rows) > 5 else "")
