"""Parse one register column (Arrow array, any delivered type) into its schema type.

Every parser is vectorised. Columns with few distinct values (codes, dates, grades) are
dictionary-encoded by Arrow and only the distinct values are parsed, then gathered back by
index, so a 20-million-row column costs one hash pass plus a parse of a few thousand strings.

Each parser returns the typed values and a per-row reason array (``0`` = fine, otherwise
``1 + position`` in :data:`~ips_study.registers.report.REASONS`), plus counts of repairs.

Rules (documented in ``docs/registers.md``):

* empty strings and nulls are missing; missing is ``missing_value`` unless the column is
  nullable;
* dates: ISO ``YYYY-MM-DD`` (an ISO timestamp at midnight is accepted) or FD-Trygd ``YYYYMM``
  (first day of the month; last day in a spell's end column), as strings, integers or typed
  date/timestamp columns; a year outside 1880-2100 is ``out_of_range``;
* numbers: typed numbers or text; a decimal comma is accepted in semicolon- or tab-delimited
  CSV files; text that is no number is ``unparseable_number``;
* codes are matched case-insensitively against the allowed values and aliases (SSB sex
  ``2``/``1`` -> ``F``/``M``);
* municipality codes must be four digits with a valid county number; a three-digit number is
  a lost leading zero and is padded (``301`` -> ``0301``) and counted as a repair.

Example
-------
>>> import pyarrow as pa
>>> from ips_study.registers.schema import TABLES
>>> p = parse_column(pa.chunked_array([["201301", "2013-02-15", "x"]]), TABLES["benefits"].column("end_date"), end=True)
>>> from_days_str(p.values), p.reason.tolist()
(['2013-01-31', '2013-02-15', 'NaT'], [0, 0, 3])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .blocks import BLOCK_ROWS, counts
from .dates import parse_date_strings
from .report import REASONS
from .schema import DATE_BOUNDS, Column
from .spells import _NAT

R = {name: i + 1 for i, name in enumerate(REASONS)}  # reason code -> small int
_BLOCK = BLOCK_ROWS  # rows per step in table-sized loops (see .blocks)
#: integer type of text codes (``Coded.codes``): half the memory of int64
CODE = np.int32
MIN_DAY = int(np.datetime64(DATE_BOUNDS[0], "D").astype(np.int64))
MAX_DAY = int(np.datetime64(DATE_BOUNDS[1], "D").astype(np.int64))
#: largest integer a float64 holds exactly: an integer column beyond it cannot be read back
#: (``99999999999999999999`` would wrap to -9223372036854775808 as int64)
MAX_EXACT_INT = 2.0**53
#: control characters that have no place in an id or text value (a tab, line break, NUL ...)
_CONTROL = "[\\x00-\\x1f\\x7f]"

#: County numbers (fylkesnummer) that have existed, incl. Svalbard/Jan Mayen and the reforms
#: of 2018, 2020 and 2024; the first two digits of a municipality code must be one of them.
COUNTIES = frozenset([f"{i:02d}" for i in range(1, 13)] + [f"{i:02d}" for i in range(14, 24)]
                     + ["30", "31", "32", "33", "34", "38", "39", "40", "42", "46", "50", "54", "55", "56"])


@dataclass
class Parsed:
    """Typed values of one column, the per-row reason codes and repair counts."""

    values: object  # Coded for text kinds, int64 day numbers for dates, float64 for numbers
    reason: np.ndarray
    notes: dict[str, int] = field(default_factory=dict)
    n_present: int = 0  # non-empty values
    n_bad: int = 0  # non-empty values that failed to parse or are not allowed


def from_days_str(days: np.ndarray) -> list[str]:
    return [str(d) for d in np.asarray(days, np.int64).view("datetime64[D]")]


@dataclass
class Coded:
    """A text column as integer codes into its distinct values (``-1`` = missing).

    Keeping text as codes lets grouping, membership tests and output work on integers;
    only the distinct values are Python strings.
    """

    codes: np.ndarray  # CODE (int32)
    uniques: np.ndarray  # object array of str (None for a value that failed validation)
    #: the same distinct values as an Arrow array, when known (saves a conversion for lookups)
    arrow: pa.Array | None = field(default=None, repr=False, compare=False)

    def take(self, rows: np.ndarray) -> np.ndarray:
        """Object array of the values at ``rows`` (None where missing)."""
        # index -1 picks the appended None: missing stays missing without a mask
        lut = np.append(self.uniques, None)
        out = np.empty(len(rows), dtype=object)
        for a in range(0, len(rows), _BLOCK):  # no table-sized array of codes on the way
            out[a:a + _BLOCK] = lut[self.codes[rows[a:a + _BLOCK]]]
        return out

    def recode(self, new_uniques) -> Coded:
        """Replace the distinct values (None = missing), merging values that now coincide."""
        new = np.empty(len(new_uniques), dtype=object)
        new[:] = list(new_uniques)
        remap, uniq = pd.factorize(new, use_na_sentinel=True)
        if len(uniq) == len(remap) and (remap == np.arange(len(remap))).all():  # same codes: no gather
            return Coded(self.codes, np.asarray(uniq, dtype=object))
        return Coded(np.append(remap.astype(CODE), -1)[self.codes], np.asarray(uniq, dtype=object))


def _dictionary_of_strings(t: pa.DataType) -> bool:
    return pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type))


def _text(arr) -> Coded:
    """Any delivered type -> codes into trimmed distinct strings (empty = missing)."""
    t = arr.type
    if _dictionary_of_strings(t):
        return _from_dictionaries(arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr])
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_floating(t):
        vals = arr.to_numpy(zero_copy_only=False)
        finite = vals[~np.isnan(vals)]
        if np.all(finite == np.round(finite)) and (np.abs(finite) < 2**62).all():
            # SAS and Stata store numeric ids and codes as doubles: 301.0 means "301"
            arr = pc.cast(arr, pa.int64(), safe=False)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    enc = pc.dictionary_encode(arr)
    return _trimmed(pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(CODE, copy=False),
                    enc.dictionary)


def _from_dictionaries(chunks) -> Coded:
    """Codes from dictionary chunks (Parquet row groups each bring their own dictionary).

    Unifying the dictionaries in Arrow hashes every row; stacking the distinct dictionaries
    and de-duplicating the (much shorter) stacked dictionary gives the same values for far
    less work (:func:`_stack`). Each chunk's indices then go through a lookup table from its
    dictionary into the de-duplicated values -- one gather per row. The codes are finally put
    in order of first appearance, as ``dictionary_encode`` of the plain column would give, so
    that output order does not depend on how a file was encoded.
    """
    if not chunks:
        return Coded(np.empty(0, CODE), np.empty(0, dtype=object))
    slot, luts, uniques, arrow = _stack(chunks)
    codes = np.empty(sum(len(ch) for ch in chunks), CODE)
    pos = 0
    for ch, k, idx in zip(chunks, slot, _indices(chunks, slot, luts)):
        np.take(luts[k], idx, out=codes[pos:pos + len(ch)])
        pos += len(ch)
    return _first_appearance(Coded(codes, uniques, arrow))


def _stack(chunks):
    """Stack the chunks' distinct dictionaries and de-duplicate them (:func:`_dedupe`).

    Returns ``(slot, luts, uniques, arrow)``: the dictionary of each chunk, per dictionary a
    lookup table from its indices into the distinct trimmed values (``-1``: empty) with a last
    slot for a null index, and the distinct values as Python strings and as Arrow.
    """
    dicts, slot, seen = [], [], {}
    for ch in chunks:
        d = ch.dictionary
        # the batches of one Parquet row group share one dictionary: stack it once
        key = (d.offset, len(d), *(b.address if b is not None else 0 for b in d.buffers()))
        if key not in seen:
            seen[key] = len(dicts)
            dicts.append(d.cast(pa.string()))
        slot.append(seen[key])
    remap, uniques, arrow = _dedupe(pa.concat_arrays(dicts), stacked=len(dicts) > 1)
    bounds = np.cumsum([0] + [len(d) for d in dicts])
    luts = [np.append(remap[a:b], CODE(-1)) for a, b in zip(bounds[:-1], bounds[1:])]
    return slot, luts, uniques, arrow


def _indices(chunks, slot, luts):
    """Each chunk's dictionary indices as NumPy, a null pointing at its lookup's last slot."""
    for ch, k in zip(chunks, slot):
        idx = ch.indices
        if ch.null_count:
            idx = pc.fill_null(idx, len(luts[k]) - 1)
        yield idx.to_numpy(zero_copy_only=False)


def _dictionary_date(chunks, col: Column, end: bool) -> Parsed:
    """:func:`_string_date` for dictionary chunks, straight from each chunk's indices to day
    numbers and reasons (no table-sized array of codes in between)."""
    slot, luts, uniques, _ = _stack(chunks)
    days_u, reason_u, ym = _date_verdicts(uniques, col, end)
    n = sum(len(ch) for ch in chunks)
    days, reason = np.empty(n, np.int64), np.empty(n, np.int8)
    per_value = np.zeros(len(uniques), np.int64)  # rows per distinct value
    pos = 0
    for ch, k, idx in zip(chunks, slot, _indices(chunks, slot, luts)):
        c = luts[k][idx]  # codes of this chunk (-1: missing, the verdicts' last slot)
        days[pos:pos + len(c)] = days_u[c]
        reason[pos:pos + len(c)] = reason_u[c]
        per_value += counts(c, len(uniques))
        pos += len(c)
    return _date_parsed(days, reason, per_value, days_u, ym)


def _dedupe(raw: pa.Array, stacked: bool) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Trimmed distinct values of ``raw`` and the position of each entry among them.

    Returns ``(remap, uniques, arrow)``: ``remap[i]`` is the code of ``raw[i]`` (``-1`` for an
    empty value), ``uniques`` the distinct trimmed values as Python strings and ``arrow`` the
    same as an Arrow array. ``stacked``: ``raw`` is several dictionaries one after another, so
    values may repeat.

    A file sorted by the column (person ids in a delivery sorted by person) stacks into an
    ascending sequence in which repeats are neighbours; then comparing each value with the
    one before finds the distinct values without hashing, which for two million ids is about
    fifty times cheaper. Any other order takes Arrow's hash encoding. The two paths number the
    values differently; :func:`_first_appearance` renumbers either way, so the result is the
    same.
    """
    trimmed = pc.utf8_trim_whitespace(raw)
    empty = pc.equal(pc.utf8_length(trimmed), 0).to_numpy(zero_copy_only=False)
    if not stacked and not empty.any() and pc.all(pc.equal(raw, trimmed)).as_py() is not False:
        return np.arange(len(raw), dtype=CODE), raw.to_numpy(zero_copy_only=False).astype(object), raw
    present = np.flatnonzero(~empty)
    values = trimmed.take(pa.array(present)) if len(present) < len(raw) else trimmed
    if len(values) > 1 and pc.all(pc.greater_equal(values.slice(1), values.slice(0, len(values) - 1))).as_py():
        new = np.empty(len(values), bool)
        new[0] = True
        new[1:] = pc.not_equal(values.slice(1), values.slice(0, len(values) - 1)).to_numpy(zero_copy_only=False)
        remap = np.full(len(raw), -1, CODE)
        remap[present] = np.cumsum(new) - 1
        arrow = values.filter(pa.array(new))
    else:
        # Arrow's hash encoding, like pandas.factorize: first-appearance order, empty -> missing
        enc = pc.dictionary_encode(pc.if_else(pa.array(empty), pa.scalar(None, trimmed.type), trimmed))
        remap = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(CODE)
        arrow = enc.dictionary
    return remap, arrow.to_numpy(zero_copy_only=False).astype(object), arrow


def _first_appearance(coded: Coded) -> Coded:
    """Renumber codes in order of first appearance, dropping values no row uses."""
    codes, k = coded.codes, len(coded.uniques)
    if not len(codes):
        return Coded(codes, coded.uniques[:0])
    if _in_order(codes, k):
        return coded
    seen = pd.unique(codes)
    seen = seen[seen >= 0]
    lut = np.full(k + 1, -1, CODE)  # last slot: missing stays missing
    lut[seen] = np.arange(len(seen))
    arrow = coded.arrow.take(pa.array(seen)) if coded.arrow is not None else None
    return Coded(lut[codes], coded.uniques[seen], arrow)


def _in_order(codes: np.ndarray, k: int, block: int = 1 << 19) -> bool:
    """Whether codes ``0..k-1`` first appear in increasing order (``-1`` = missing, ignored).

    True iff the running maximum only ever steps up by one and reaches ``k - 1``; computed in
    blocks that stay in cache.
    """
    top = -1
    for a in range(0, len(codes), block):
        run = np.maximum.accumulate(codes[a:a + block])
        np.maximum(run, top, out=run)
        if run[0] > top + 1 or (np.diff(run) > 1).any():
            return False
        top = int(run[-1])
    return top == k - 1


def _trimmed(codes: np.ndarray, raw: pa.Array) -> Coded:
    """Trim the distinct values; empty becomes missing; values equal once trimmed share a code."""
    remap, uniques, arrow = _dedupe(raw, stacked=False)
    if arrow is raw:  # nothing to trim, nothing empty
        return Coded(codes, uniques, arrow)
    # distinct raw values may coincide once trimmed (" p1" and "p1"): re-code them
    return _first_appearance(Coded(np.append(remap, -1).astype(CODE)[codes], uniques, arrow))


def _counts(coded: Coded) -> np.ndarray:
    """How many rows hold each distinct value."""
    return counts(coded.codes, len(coded.uniques), _BLOCK)


def _missing_reason(n: int, missing: np.ndarray, col: Column) -> np.ndarray:
    reason = np.zeros(n, dtype=np.int8)
    if not col.nullable:
        reason[missing] = R["missing_value"]
    return reason


def parse_column(arr, col: Column, *, end: bool = False, decimal_comma: bool = False) -> Parsed:
    """Parse ``arr`` as the schema column ``col`` (``end``: the spell end column)."""
    kind = col.kind
    if kind == "date" and (pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type)):
        return _typed_date(arr, col)
    if kind in ("float", "int") and (pa.types.is_integer(arr.type) or pa.types.is_floating(arr.type)):
        vals = np.empty(len(arr), np.float64)
        pos = 0
        for ch in (arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]):
            # chunk by chunk into one array: no table-sized intermediate; null -> NaN (missing)
            # unsafe: an int64 beyond 2**53 becomes the nearest double (then out_of_range)
            f = pc.cast(ch, pa.float64(), safe=False)
            if f.null_count:
                f = pc.fill_null(f, float("nan"))
            vals[pos:pos + len(f)] = f.to_numpy(zero_copy_only=False)
            pos += len(f)
        return _check_number(vals, np.zeros(len(vals), bool), col, {})
    chunks = arr.chunks if isinstance(arr, pa.ChunkedArray) else [arr]
    if kind == "date" and _dictionary_of_strings(arr.type) and chunks:
        return _dictionary_date(chunks, col, end)
    text = _text(arr)
    missing = text.codes < 0
    n = len(missing)
    if kind in ("id", "str"):
        return _plain_text(text, missing, col)
    if kind == "code":
        return _code(text, missing, col)
    if kind == "municipality":
        return _municipality(text, missing, col)
    if kind == "date":
        return _string_date(text, missing, col, end)
    if kind in ("float", "int"):
        return _string_number(text, missing, col, decimal_comma)
    raise ValueError(f"unknown column kind {kind!r}")


def _plain_text(text: Coded, missing: np.ndarray, col: Column) -> Parsed:
    """Ids and free text: any value is fine except one holding a control character.

    A person id with a line break in it (a quoted CSV field spanning two lines) would be kept
    as a different id, and that person's rows elsewhere would all be ``unknown_person``.
    """
    reason = _missing_reason(len(missing), missing, col)
    uniq = text.arrow if text.arrow is not None else pa.array(list(text.uniques), pa.string())
    if len(uniq):
        bad_u = pc.match_substring_regex(uniq, _CONTROL).to_numpy(zero_copy_only=False).astype(bool)
        if bad_u.any():
            bad = np.append(bad_u, False)[text.codes]
            reason[bad & (reason == 0)] = R["control_character"]
    return Parsed(text, reason, n_present=int(len(missing) - missing.sum()))


def _code(text: Coded, missing: np.ndarray, col: Column) -> Parsed:
    canon = {a.lower(): a for a in col.allowed}
    alias = {k.lower(): v for k, v in col.aliases.items()}
    mapped, is_alias = [], []
    for u in text.uniques:
        key = u.lower()
        mapped.append(canon.get(key, alias.get(key)))
        is_alias.append(key not in canon and key in alias or (key in canon and u != canon[key]))
    bad_u = np.array([m is None for m in mapped], bool)
    reason_u = np.zeros(len(mapped) + 1, np.int8)  # decided per value; last slot: missing (-1)
    reason_u[:-1][bad_u] = R["unknown_code"]
    if not col.nullable:
        reason_u[-1] = R["missing_value"]
    counts = _counts(text)
    notes = {}
    n_alias = int(counts[np.array(is_alias, bool)].sum()) if any(is_alias) else 0
    if n_alias:
        notes["sex_code_recoded" if col.name == "sex" else "code_alias"] = n_alias
    values = text.recode(mapped)
    return Parsed(values, reason_u[text.codes], notes, int(counts.sum()), int(counts[bad_u].sum()))


def _fix_municipality(code: str) -> tuple[str | None, bool]:
    if code.endswith(".0"):
        code = code[:-2]
    if not code.isdigit() or len(code) not in (3, 4):
        return None, False
    padded = code.zfill(4)
    if padded[:2] not in COUNTIES or padded[2:] == "00":
        return None, False
    return padded, len(code) == 3


def _municipality(text: Coded, missing: np.ndarray, col: Column) -> Parsed:
    fixed = [_fix_municipality(u) for u in text.uniques]
    ok_u = np.array([f is not None for f, _ in fixed] + [True])
    pad_u = np.array([p for _, p in fixed] + [False])
    reason = _missing_reason(len(missing), missing, col)
    bad = ~ok_u[text.codes]
    reason[bad & (reason == 0)] = R["unknown_code"]
    notes = {}
    n_pad = int(pad_u[text.codes].sum())
    if n_pad:
        notes["municipality_zero_padded"] = n_pad
    values = text.recode([f for f, _ in fixed])
    return Parsed(values, reason, notes, int((~missing).sum()), int(bad.sum()))


def _typed_date(arr, col: Column) -> Parsed:
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        arr = pc.local_timestamp(arr)  # the calendar day where the event happened, not in UTC
    d = pc.cast(arr, pa.date32(), safe=False)
    missing = pc.is_null(d).to_numpy(zero_copy_only=False)
    days = pc.fill_null(d.cast(pa.int32()), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    days[missing] = _NAT
    return _check_days(days, missing, np.zeros(len(days), bool), col, {})


def _date_verdicts(uniques: np.ndarray, col: Column, end: bool):
    """Day number and reason of each distinct date string, with a last slot for missing."""
    udays, ym = parse_date_strings(uniques, end=end)
    bad_u = udays == _NAT
    reason_u = np.zeros(len(udays) + 1, np.int8)  # last slot: missing (code -1)
    reason_u[:-1][~bad_u & ((udays < MIN_DAY) | (udays > MAX_DAY))] = R["out_of_range"]
    reason_u[:-1][bad_u] = R["unparseable_date"]
    if not col.nullable:
        reason_u[-1] = R["missing_value"]
    return np.r_[udays, _NAT], reason_u, ym


def _date_parsed(days, reason, per_value, days_u, ym) -> Parsed:
    notes = {"yyyymm_dates": int(per_value[ym].sum())} if ym.any() else {}
    return Parsed(days, reason, notes, int(per_value.sum()), int(per_value[days_u[:-1] == _NAT].sum()))


def _string_date(text: Coded, missing: np.ndarray, col: Column, end: bool) -> Parsed:
    # every verdict depends on the distinct value alone: decide per value, gather once per row
    days_u, reason_u, ym = _date_verdicts(text.uniques, col, end)
    return _date_parsed(days_u[text.codes], reason_u[text.codes], _counts(text), days_u, ym)


def to_day_numbers(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="datetime64[D]").view(np.int64)


def _check_days(days, missing, bad, col, notes) -> Parsed:
    reason = _missing_reason(len(days), missing, col)
    reason[bad & (reason == 0)] = R["unparseable_date"]
    ok = ~missing & ~bad
    out = ok & ((days < MIN_DAY) | (days > MAX_DAY))
    reason[out & (reason == 0)] = R["out_of_range"]
    days = days.copy()
    days[bad] = _NAT
    return Parsed(days, reason, notes, int((~missing).sum()), int(bad.sum()))


def _string_number(text: Coded, missing: np.ndarray, col: Column, decimal_comma: bool) -> Parsed:
    notes: dict[str, int] = {}
    s = pd.Series(text.uniques, dtype=object)
    comma = s.str.fullmatch(r"[-+]?\d*,\d+") if decimal_comma else pd.Series(False, index=s.index)
    s2 = s.where(~comma, s.str.replace(",", ".", regex=False))
    num = pd.to_numeric(s2, errors="coerce").to_numpy(dtype=np.float64) if len(s) else np.empty(0)
    # a finite literal beyond float64 (1e400) is no number: pandas 2 coerces it to NaN, pandas 3
    # to inf; only an infinity literal is infinite (and then out_of_range)
    literal_inf = s2.str.fullmatch(r"\s*[-+]?inf(inity)?\s*", case=False, na=False)
    num = np.where(np.isinf(num) & ~literal_inf.to_numpy(dtype=bool), np.nan, num)
    idx = text.codes
    vals = np.r_[num, np.nan][idx]
    bad = np.r_[np.isnan(num), False][idx]
    if comma.any():
        notes["decimal_comma"] = int(_counts(text)[comma.to_numpy(dtype=bool)].sum())
    return _check_number(vals, bad, col, notes, missing=missing)


def _check_number(vals, bad, col, notes, missing=None) -> Parsed:
    reason = np.zeros(len(vals), np.int8)
    n_missing = n_bad = 0
    for a in range(0, len(vals), _BLOCK):  # block by block: the masks stay small
        v, bd, r = vals[a:a + _BLOCK], bad[a:a + _BLOCK], reason[a:a + _BLOCK]
        m = np.isnan(v) & ~bd if missing is None else missing[a:a + _BLOCK]
        if not col.nullable:
            r[m] = R["missing_value"]
        if col.kind == "int":
            bd = bd | (~m & ~bd & (v != np.round(v)))
        r[bd & (r == 0)] = R["unparseable_number"]
        ok = ~m & ~bd
        out = ok & ~np.isfinite(v)
        if col.kind == "int":
            out |= ok & (np.abs(v) > MAX_EXACT_INT)
        if col.low is not None:
            out |= ok & (v < col.low)
        if col.high is not None:
            out |= ok & (v > col.high)
        r[out & (r == 0)] = R["out_of_range"]
        n_missing += int(m.sum())
        n_bad += int(bd.sum())
    return Parsed(vals, reason, notes, len(vals) - n_missing, n_bad)
