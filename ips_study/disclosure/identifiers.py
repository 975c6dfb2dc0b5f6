"""Identifiers never leave the process; regression outputs carry and respect their n.

>>> redact("person 01019012345 dropped")
'person [id] dropped'
"""

from __future__ import annotations

import logging
import re
from typing import Any, Iterable

import pandas as pd

from .rules import (FNR_RE, MIN_COUNT, DisclosureError, is_birth_name,
                    is_identifier_name)


def check_results(results: Any, min_count: int = MIN_COUNT) -> Any:
    """Refuse a regression result that rests on fewer than ``min_count`` persons or units.

    Checks ``n_obs``, ``n_units`` and ``n_min`` (when set) of a
    :class:`~ips_study.results.Results`, and an ``n`` column of its coefficient table if the
    design supplies one. Returns ``results`` unchanged when it passes.

    >>> from ips_study.results import Results
    >>> r = Results(pd.DataFrame({"estimate": [1.0], "std_error": [0.5]}, index=["att"]),
    ...             design="did", outcome="workdays", inference="cluster", n_obs=400, n_units=3)
    >>> check_results(r)
    Traceback (most recent call last):
    ...
    ips_study.disclosure.DisclosureError: did/workdays refused by disclosure control: n_units = 3 is below the minimum of 5
    """
    problems = []
    for attr in ("n_obs", "n_units", "n_min"):
        val = getattr(results, attr, None)
        if val is not None and val < min_count:
            problems.append(f"{attr} = {val} is below the minimum of {min_count}")
    tidy = results.tidy() if hasattr(results, "tidy") else None
    if tidy is not None and "n" in tidy:
        low = tidy.index[pd.to_numeric(tidy["n"], errors="coerce").fillna(0) < min_count]
        if len(low):
            problems.append(f"terms {', '.join(map(str, low))} rest on fewer than {min_count}")
    if problems:
        name = f"{getattr(results, 'design', '?')}/{getattr(results, 'outcome', '?')}"
        raise DisclosureError(f"{name} refused by disclosure control: " + "; ".join(problems))
    return results


# -- identifiers ----------------------------------------------------------------------------
def redact(text: str, ids: Iterable[str] = ()) -> str:
    """Replace person identifiers in ``text`` by ``[id]``: 10- and 11-digit numbers and known ids.

    >>> redact("row of 01019012345 and P0042 failed", ids=["P0042"])
    'row of [id] and [id] failed'
    """
    out = FNR_RE.sub("[id]", str(text))
    known = sorted({str(i) for i in ids if str(i)}, key=len, reverse=True)
    if known:
        pattern = re.compile(r"(?<![\w])(" + "|".join(map(re.escape, known)) + r")(?![\w])")
        out = pattern.sub("[id]", out)
    return out


class RedactingFilter(logging.Filter):
    """A logging filter that redacts person identifiers from every record it passes.

    >>> import logging
    >>> log = logging.getLogger("ips_study.example")
    >>> log.addFilter(RedactingFilter(ids=["P0042"]))
    """

    def __init__(self, ids: Iterable[str] = ()) -> None:
        super().__init__()
        self.ids = tuple(str(i) for i in ids)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), self.ids)
        record.args = ()
        return True


def install_redaction(ids: Iterable[str] = (), logger: logging.Logger | str | None = None
                      ) -> RedactingFilter:
    """Attach a :class:`RedactingFilter` to every handler of ``logger`` (default: root).

    A filter on a *logger* does not see records propagated from child loggers; a filter on
    the *handlers* sees everything they write, so this is the one call a script makes
    after configuring logging. Returns the filter (remove it with ``handler.removeFilter``).

    >>> import io
    >>> stream = io.StringIO()
    >>> log = logging.getLogger("ips_study.doc_example")
    >>> log.addHandler(logging.StreamHandler(stream))
    >>> _ = install_redaction(["P0042"], log)
    >>> log.warning("dropped row of %s", "P0042")
    >>> stream.getvalue().strip()
    'dropped row of [id]'
    """
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    filt = RedactingFilter(ids)
    for handler in target.handlers:
        handler.addFilter(filt)
    return filt


def assert_no_identifiers(df: pd.DataFrame, ids: Iterable[str] = ()) -> None:
    """Raise :class:`DisclosureError` if a table carries identifier or birth-date columns,
    10- or 11-digit numbers, or any of the known ``ids`` (the message never repeats the value)."""
    problems = [f"column {c!r} looks like a person identifier" for c in df.columns
                if is_identifier_name(c)]
    problems += [f"column {c!r} looks like a date of birth" for c in df.columns
                 if is_birth_name(c)]
    known = {str(i) for i in ids}
    for c in df.columns:
        s = df[c].astype(str)
        if s.str.contains(FNR_RE).any():
            problems.append(f"column {c!r} holds 10- or 11-digit numbers (person identifier-like)")
        if known and s.isin(known).any():
            problems.append(f"column {c!r} holds person identifiers")
    if problems:
        raise DisclosureError("; ".join(problems))
