"""Person-period panels and municipality aggregates (data contract, sections 4 and 5).

:func:`build_panel` turns a :class:`~ips_study.registers.RegisterSet` into a person-month or
person-year panel with every data-contract outcome; :func:`write_panel` streams the same panel to
Parquet in person partitions so that memory stays bounded on populations larger than RAM;
:func:`aggregate_panel` gives the municipality x period panel used by synthetic control and
the figures.

Rules (documented in ``docs/panel.md``):

* a person-month belongs to the municipality of residence on its first day; people leave
  the panel after the month they die or emigrate (no residence on a month's first day);
* a person-year belongs to the municipality of its *index month* (the first observed month
  of the year); indicator outcomes are the share of observed months, ``workdays`` and
  ``benefit_months`` are sums over observed months, ``ltbd`` = ``benefit_months >=
  config.ltbd_months``; in month panels ``ltbd`` repeats the person's calendar-year value;
* open population: a month is in the panel when the target rule holds on its first day; a
  year when the rule holds in its index month. Closed cohort: every window month the person is
  alive and resident in Norway, by baseline municipality (intention to treat).

>>> from ips_study.synthetic import generate   # doctest: +SKIP
>>> panel = build_panel(generate(2_000, seed=1).registers, freq="year")  # doctest: +SKIP
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd

from .cohort import PersonArrays, PersonMonths, person_months, study_municipalities
from .config import StudyConfig
from .municipalities import harmonise_residence
from .outcomes import MonthGrid, month_id, month_start
from .registers.schema import BENEFITS, HEALTH_BENEFITS

OUTCOMES = [
    "disability", "work_assessment", "sickness", "unemployment", "social_assistance",
    "qualification", "health_benefit", "any_benefit", "employed", "workdays",
    "benefit_months", "ltbd",
]
_BENEFIT_OUTCOME = {"disability_pension": "disability"}
KEY_COLUMNS = ["person_id", "municipality", "period", "period_start", "treated", "post",
               "ips_start", "exposed", "event_time", "age", "sex", "months_observed"]


_HEALTH_KINDS = [BENEFITS.index(b) for b in HEALTH_BENEFITS]

#: 0/1 outcomes of a month (shares of months in a year panel)
INDICATORS = ["disability", "work_assessment", "sickness", "unemployment", "social_assistance",
              "qualification", "health_benefit", "any_benefit", "employed"]
_COMMON_DTYPES = {"treated": "int8", "post": "int8", "exposed": "int8", "event_time": "int16",
                  "age": "int16", "months_observed": "int8", "workdays": "float64",
                  "benefit_months": "int8", "ltbd": "int8"}
#: NumPy types of the numeric columns of a month panel (docs/panel.md, "Column types"):
#: 0/1 outcomes are int8 (arithmetic and differences work; bool would not subtract),
#: ``event_time`` and ``age`` int16, ``workdays`` float64. Text columns are ``str``
#: (dictionary-encoded in Parquet).
MONTH_DTYPES = _COMMON_DTYPES | dict.fromkeys(INDICATORS, "int8")
#: the same for a year panel: indicator outcomes are shares of the observed months (float64);
#: ``benefit_months`` counts months (0-12) and ``ltbd`` is 0/1, int8 as in month panels
YEAR_DTYPES = _COMMON_DTYPES | dict.fromkeys(INDICATORS, "float64")


def _check_short(values: np.ndarray, what: str) -> None:
    """Refuse values an int16 column cannot hold (a store would wrap silently)."""
    if len(values) and (values.min() < -(1 << 15) or values.max() >= (1 << 15)):
        raise ValueError(f"{what} is outside the int16 range of the panel's column")


def _month_outcomes(pm: PersonMonths) -> dict[str, np.ndarray]:
    """Month grids of every outcome (year panels sum them over months)."""
    out = {}
    for b in BENEFITS:
        out[_BENEFIT_OUTCOME.get(b, b)] = pm.benefit[b]
    health = np.zeros_like(pm.employed)
    anyb = np.zeros_like(pm.employed)
    for b in BENEFITS:
        anyb |= pm.benefit[b]
        if b in HEALTH_BENEFITS:
            health |= pm.benefit[b]
    out["health_benefit"] = health
    out["any_benefit"] = anyb
    out["employed"] = pm.employed
    out["workdays"] = pm.workdays
    out["benefit_months"] = health
    return out


def _health_grid(pm: PersonMonths) -> np.ndarray:
    cells, kind = pm.benefit_cells
    out = np.zeros((pm.grid.n_persons, pm.grid.n_months), dtype=bool)
    out.reshape(-1)[cells[np.isin(kind, _HEALTH_KINDS)]] = True
    return out


def _year_blocks(grid: MonthGrid) -> tuple[np.ndarray, np.ndarray]:
    years = grid.month_ids // 12 + 1970
    uniq, first = np.unique(years, return_index=True)
    return uniq, first


@dataclass(frozen=True)
class _Keys:
    """Dictionaries and per-code values shared by the month and year rows of a partition."""

    codes: np.ndarray      # municipality dictionary (object)
    sex: np.ndarray        # sex dictionary (object)
    sex_codes: np.ndarray  # int32 code of each person's sex
    ips: np.ndarray        # IPS start of each municipality code (datetime64[ns], NaT: none)
    treated: int           # code of the treated municipality (-2: absent)


def _partition_panel(arrays: PersonArrays, munis: pd.DataFrame, config: StudyConfig, freq: str,
                     restrict_to_target: bool, scope: str, codes_all: list[str]) -> dict:
    study = study_municipalities(munis, config, scope)
    grid = MonthGrid.from_range(config.window_start, config.window_end, len(arrays))
    pm = person_months(arrays, grid, codes_all, config)
    ips = munis.set_index(munis["municipality"].astype(str))["ips_start"]
    ips_by_code = pd.to_datetime(ips.reindex(codes_all)).to_numpy(dtype="datetime64[ns]")

    base_muni = None
    if config.design == "closed":
        base = MonthGrid.from_range(config.baseline_date, config.baseline_date, grid.n_persons)
        pm0 = person_months(arrays, base, codes_all, config)
        in_cohort = pm0.target(config, study)[:, 0] if restrict_to_target else pm0.resident_in(study)[:, 0]
        observed = in_cohort[:, None] & pm.alive & (pm.muni >= 0)
        base_muni = pm0.muni[:, 0]
        include = observed
    else:
        observed = pm.resident_in(study)
        include = pm.target(config, study) if restrict_to_target else observed

    # Text columns stay as (codes, dictionary) pairs: materialising hundreds of millions of
    # Python strings is what makes a naive panel slow. pandas gets objects, Parquet gets
    # dictionary-encoded arrays (see _to_frame / _to_arrow).
    # Dictionaries hold distinct values (a dictionary with repeats encodes nondeterministically).
    sex_values, sex_codes = np.unique(pm.sex.astype(str), return_inverse=True)
    keys = _Keys(codes=np.asarray(codes_all, dtype=object), sex=sex_values.astype(object),
                 sex_codes=sex_codes.astype(np.int32), ips=ips_by_code,
                 treated=(codes_all.index(config.treated_municipality)
                          if config.treated_municipality in codes_all else -2))
    if freq == "month":
        return _month_data(pm, include, observed, base_muni, config, keys)
    return _year_data(pm, include, observed, base_muni, config, keys)


def _output_block(k: int, n: int, dtype) -> np.ndarray:
    """A new ``(k, n)`` array for the kernel's output, its pages mapped in one system call.

    The output is kept, so every byte lands in new memory. NumPy's large arrays ask for 2 MiB
    transparent huge pages, whose faults cost 0.1 s of system time for a 40,000-person
    build when the kernel has huge pages ready but 0.4-1.4 s when it has to find them (measured
    alternating on the shared machine, docs/benchmarks.md, Panels, session 7); 4 KiB pages
    mapped at once (``MAP_POPULATE``, Linux) took 0.2 s in both states. Elsewhere, and for
    small blocks, a NumPy array. (``mmap`` holds the GIL while it maps the pages; mapping them
    by ``madvise(MADV_POPULATE_WRITE)`` through ctypes, without the GIL, measured the same at
    57 bytes a row: session 8, docs/benchmarks.md.)
    """
    import mmap

    nbytes = k * n * np.dtype(dtype).itemsize
    populate = getattr(mmap, "MAP_POPULATE", None)
    if populate is None or nbytes < (1 << 20):
        return np.empty((k, n), dtype)
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | populate)
    return np.frombuffer(m, dtype=dtype).reshape(k, n)


def _month_data(pm: PersonMonths, include: np.ndarray, observed: np.ndarray,
                base_muni: np.ndarray | None, config: StudyConfig, keys: _Keys) -> dict:
    """Month rows of one partition, every column written by the compiled kernel in one pass.

    The outputs are five NumPy blocks (int32 codes, int64 dates, int16 event time and age,
    int8 flags and 0/1 outcomes, float64 ``workdays``; column types: :data:`MONTH_DTYPES`);
    each column is a contiguous row of a block, which Arrow wraps without copying.
    """
    from . import panel_kernel as K

    grid, arrays = pm.grid, pm.arrays
    b, w = arrays.benefits, arrays.work
    ben_lo, ben_hi = grid._range(b.start, b.end, first_day=False)
    w_rows, w_s, w_e, w_f, w_lo, w_hi = grid.work_spans(w.rows, w.start, w.end, w.values["fte"])
    _, first = _year_blocks(grid)
    n_m = grid.n_months
    starts = grid.starts.astype("datetime64[ns]")
    row_start = K.count_rows(include)
    n = int(row_start[-1])
    closed = base_muni is not None
    codes = _output_block(len(K.CODE_ROWS) - (not closed), n, np.int32)
    ints = _output_block(len(K.INT_ROWS), n, np.int64)
    shorts = _output_block(len(K.SHORT_ROWS), n, np.int16)
    flags = _output_block(len(K.FLAG_ROWS), n, np.int8)
    floats = _output_block(len(K.FLOAT_ROWS), n, np.float64)
    event_m = grid.month_ids - month_id([config.ips_start])[0]
    # int16 holds any age and event time in months of the datetime64[ns] range (1677-2262:
    # at most 585 years, 7,020 months); checked, as the kernel's int16 store would wrap
    _check_short(event_m, "event_time (months from the study's ips_start)")
    K.fill_month_rows(
        include, observed, pm.muni, base_muni if closed else np.empty(0, np.int32), row_start,
        b.rows, ben_lo, ben_hi, b.values["kind"], sum(1 << k for k in _HEALTH_KINDS),
        w_rows, w_lo, w_hi, w_s.astype(np.int64), w_e.astype(np.int64), w_f,
        month_start(np.arange(grid.first, grid.first + n_m + 1)).astype(np.int64), grid.weekdays,
        first.astype(np.int64), np.searchsorted(first, np.arange(n_m), side="right") - 1,
        config.ltbd_months, pm.age_offset, keys.sex_codes, starts.view(np.int64),
        (starts >= np.datetime64(config.ips_start)).astype(np.int8),
        event_m, keys.ips.view(np.int64), keys.treated,
        codes, ints, shorts, flags, floats)
    col = (dict(zip(K.INT_ROWS, ints)) | dict(zip(K.SHORT_ROWS, shorts)) | dict(zip(K.FLAG_ROWS, flags))
           | dict(zip(K.FLOAT_ROWS, floats)))
    # one month: benefit_months is health_benefit (the same buffer)
    col["benefit_months"] = col["health_benefit"]
    period_dict = np.array([f"{mid // 12 + 1970}-{mid % 12 + 1:02d}" for mid in grid.month_ids], dtype=object)
    data = {
        "person_id": (codes[0], pm.person_ids),
        "municipality": (codes[2], keys.codes),
        "period": (codes[1], period_dict),
        "period_start": col["period_start"].view("datetime64[ns]"),
        "treated": col["treated"],
        "post": col["post"],
        "ips_start": col["ips_start"].view("datetime64[ns]"),
        "exposed": col["exposed"],
        "event_time": col["event_time"],
        "age": col["age"],
        "sex": (codes[3], keys.sex),
        # all ones: a read-only broadcast, materialised by the converters (Arrow: one shared
        # buffer, no new pages per partition)
        "months_observed": np.broadcast_to(np.int8(1), n),
    }
    if closed:
        data["current_municipality"] = (codes[4], keys.codes)
    for k in OUTCOMES:
        data[k] = col[k]
    return data


def _year_data(pm: PersonMonths, include: np.ndarray, observed: np.ndarray,
               base_muni: np.ndarray | None, config: StudyConfig, keys: _Keys) -> dict:
    """Year rows of one partition (NumPy): each person-year at its index month, outcomes
    summed or averaged over the observed months of the year."""
    grid = pm.grid
    n_m = grid.n_months
    years, first = _year_blocks(grid)
    # calendar-year ltbd from months observed; small-integer counts: exact, and an eighth of
    # the memory traffic of float grids
    ltbd_year = np.add.reduceat(_health_grid(pm) & observed, first, axis=1, dtype=np.int16) >= config.ltbd_months
    # index month: first observed month of each person-year
    n_y = len(years)
    counts = np.add.reduceat(observed.astype(np.float64), first, axis=1)
    idx_month = np.full((grid.n_persons, n_y), -1, dtype=np.int64)
    for j in range(n_y):  # loop over years (12), not persons
        lo = first[j]
        hi = first[j + 1] if j + 1 < n_y else grid.n_months
        block = observed[:, lo:hi]
        has = block.any(axis=1)
        idx_month[has, j] = lo + block[has].argmax(axis=1)
    pp, jj = np.nonzero(idx_month >= 0)
    mm = idx_month[pp, jj]
    keep = include[pp, mm]
    p, j, m = pp[keep], jj[keep], mm[keep]
    flat_y = p * n_y + j
    n_obs = np.take(counts.reshape(-1), flat_y)
    cols = {}
    obs = observed.astype(np.float64)
    for k, v in _month_outcomes(pm).items():
        s = np.take(np.add.reduceat(v * obs, first, axis=1).reshape(-1), flat_y)
        cols[k] = s if k in ("workdays", "benefit_months") else s / n_obs
    cols["ltbd"] = np.take(ltbd_year.reshape(-1), flat_y)
    muni_flat = pm.muni.reshape(-1)
    muni_idx = base_muni[p] if base_muni is not None else np.take(muni_flat, p * n_m + m)
    period_starts = pd.to_datetime(years.astype(str), format="%Y").to_numpy()
    period_start = period_starts[j]
    ips_row = keys.ips[muni_idx]
    # 0/1 columns are booleans viewed as int8 (no conversion pass); NaT compares False
    data = {
        "person_id": (p, pm.person_ids),
        "municipality": (muni_idx, keys.codes),
        "period": (j, years.astype(str).astype(object)),
        "period_start": period_start,
        "treated": (muni_idx == keys.treated).view(np.int8),
        "post": (period_starts >= np.datetime64(config.ips_start)).view(np.int8)[j],
        "ips_start": ips_row,
        "exposed": (ips_row <= period_start).view(np.int8),
        "event_time": _short(years - config.ips_start.year, "event_time (years from the study's ips_start)")[j],
        "age": _short(pm.age_at(p, m), "age"),
        "sex": (keys.sex_codes[p], keys.sex),
        "months_observed": n_obs.astype(np.int8),
    }
    if base_muni is not None:
        data["current_municipality"] = (np.take(muni_flat, p * n_m + m), keys.codes)
    for k in OUTCOMES:
        # benefit_months (0-12 months) and ltbd (0/1) are exact small integers
        data[k] = cols[k].astype(YEAR_DTYPES[k], copy=False)
    return data


def _short(values: np.ndarray, what: str) -> np.ndarray:
    _check_short(values, what)
    return values.astype(np.int16)


def _to_frame(data: dict) -> pd.DataFrame:
    return pd.DataFrame({k: (v[1][v[0]] if isinstance(v, tuple) else np.ascontiguousarray(v))
                         for k, v in data.items()})


def _to_arrow(data: dict):
    import pyarrow as pa

    cols = {}
    for k, v in data.items():
        if isinstance(v, tuple):
            codes, values = v
            # codes index their dictionary by construction: no bounds check (safe=False)
            cols[k] = pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32, copy=False)),
                                                     pa.array(values, pa.string()), safe=False)
        elif v.dtype == np.dtype("datetime64[ns]"):
            cols[k] = _timestamps(v)
        elif v.ndim == 1 and v.strides == (0,) and len(v) > 1:
            cols[k] = _constant(v[0], len(v))
        else:
            cols[k] = pa.array(v)
    return pa.table(cols)


_CONSTANT_BUFFERS: dict = {}


def _constant(value, n: int):
    """An Arrow array of ``n`` copies of ``value`` on a shared buffer (Arrow arrays are
    immutable, so every partition can point at the same memory)."""
    import pyarrow as pa

    key = (np.asarray(value).dtype.str, np.asarray(value).item())
    buf = _CONSTANT_BUFFERS.get(key)
    if buf is None or len(buf) < n:
        # grown to the largest partition seen (not thread-safe to share a half-built one,
        # so each call builds a complete array before publishing it)
        buf = np.full(max(n, 1 << 20), value)
        buf.flags.writeable = False
        _CONSTANT_BUFFERS[key] = buf
    return pa.array(buf[:n])


def _timestamps(v: np.ndarray):
    """Arrow timestamps sharing the NumPy buffer (``pa.array`` copies datetime64 values,
    17 ns a row); NaT becomes null through a validity bitmap."""
    import pyarrow as pa

    v = np.ascontiguousarray(v)
    nat = np.isnat(v)
    valid = pa.py_buffer(np.packbits(~nat, bitorder="little")) if nat.any() else None
    return pa.Array.from_buffers(pa.timestamp("ns"), len(v), [valid, pa.py_buffer(v.view(np.int64))],
                                 null_count=int(nat.sum()))


def _all_codes(tables) -> list[str]:
    # distinct values first, then text: converting every residence row to str cost more than
    # the rest of the set-up
    def distinct(col):
        return set(pd.Series(pd.unique(col.to_numpy())).astype(str))

    return sorted(distinct(tables["residence"]["municipality"]) | distinct(tables["municipalities"]["municipality"]))


def iter_panel(registers, config: StudyConfig | None = None, *, freq: str | None = None,
               restrict_to_target: bool = True, scope: str = "study",
               partition_size: int = 5_000, progress: bool = False,
               arrow: bool = False, workers: int = 1) -> Iterator[pd.DataFrame]:
    """Yield the panel one person partition at a time (bounded memory).

    With ``arrow=True`` each partition is a ``pyarrow.Table`` with dictionary-encoded text
    columns (no Python strings are created: the fast path for writing Parquet).
    ``workers > 1`` builds that many partitions at once in threads (NumPy releases the GIL
    in the array work); partitions still arrive in person order and at most ``workers + 1``
    are held, so memory stays bounded.
    """
    return _iter_parts(registers, config, freq, restrict_to_target, scope, partition_size, progress,
                       workers, _to_arrow if arrow else _to_frame)


def _iter_parts(registers, config, freq, restrict_to_target, scope, partition_size, progress,
                workers, convert) -> Iterator:
    config = config or StudyConfig()
    freq = freq or config.freq
    if freq not in ("month", "year"):
        raise ValueError("freq must be 'month' or 'year'")
    tables = dict(registers.tables if hasattr(registers, "tables") else registers)
    config.check_data(tables)
    changes = tables.get("municipality_changes")
    if changes is not None and len(changes):
        tables["residence"], _ = harmonise_residence(tables["residence"], changes)
    codes_all = _all_codes(tables)
    # registers become arrays once; partitions are then slices of them
    arrays = PersonArrays.from_tables(
        tables, codes_all, contacts=restrict_to_target and config.target_rule == "mental_health")
    munis = tables["municipalities"]
    bounds = range(0, len(arrays), max(int(partition_size), 1))
    if progress:
        from .progress import bar
        bounds = bar(bounds, "panel", unit="partition", enabled_=True)

    def build(lo: int):
        part = arrays.slice(lo, lo + partition_size)
        return convert(_partition_panel(part, munis, config, freq, restrict_to_target, scope, codes_all))

    yield from _ordered_map(build, bounds, workers)


def _ordered_map(fn, items, workers: int) -> Iterator:
    """``map(fn, items)`` on ``workers`` threads, results in input order, few in flight."""
    if workers <= 1:
        yield from map(fn, items)
        return
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def build_panel(registers, config: StudyConfig | None = None, *, freq: str | None = None,
                restrict_to_target: bool = True, scope: str = "study",
                partition_size: int = 5_000, progress: bool = False, workers: int = 1) -> pd.DataFrame:
    """Person-period panel with every outcome of data contract, section 4.

    Parameters
    ----------
    registers : RegisterSet or dict of DataFrames
        Typed, validated register tables.
    config : StudyConfig, optional
        Study settings (defaults: data contract, section 3).
    freq : {"month", "year"}, optional
        Period length; defaults to ``config.freq``.
    restrict_to_target : bool
        Keep only person-periods in the target group (default). ``False`` keeps every
        person-period resident in a sample municipality (used for truth and checks).
    scope : {"study", "all"}
        ``"study"``: the treated municipality and its controls; ``"all"``: every municipality
        in the ``municipalities`` table (for staggered adoption).

    Returns
    -------
    DataFrame
        :data:`KEY_COLUMNS` + :data:`OUTCOMES`, one row per person-period, ordered
        by person (in the order of the ``persons`` table) and period.
    """
    parts = list(iter_panel(registers, config, freq=freq, restrict_to_target=restrict_to_target,
                            scope=scope, partition_size=partition_size, progress=progress,
                            workers=workers))
    if not parts:
        return pd.DataFrame(columns=KEY_COLUMNS + OUTCOMES)
    # per-partition frames consolidate their blocks while small (in cache); one concat then
    # copies each block once (concatenating columns first and consolidating after copies the
    # whole panel twice: 1.5x slower at 19 million rows)
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


#: keys of a municipality x period cell, and the columns constant within a cell (taken as its
#: first value); shared by :func:`aggregate_panel` and the piece-by-piece cell sums of
#: ``ips_study.reproduce.pieces``, so both give the same frame
CELL_KEYS = ["municipality", "period"]
CELL_CONSTANTS = ["period_start", "treated", "post", "exposed", "ips_start", "event_time"]


def aggregate_panel(panel: pd.DataFrame) -> pd.DataFrame:
    """Municipality x period means of every outcome with the population at risk.

    ``n_persons`` is the number of persons (rows) behind each cell; outcome columns are
    unweighted person means. Cells are the input to synthetic control and to figures, which
    must pass them through :mod:`ips_study.disclosure`.
    """
    outcomes = [c for c in OUTCOMES if c in panel.columns]
    g = panel.groupby(CELL_KEYS, sort=True, observed=True)
    out = g[outcomes].mean()
    out.insert(0, "n_persons", g.size())
    out = g[CELL_CONSTANTS].first().join(out).reset_index()
    return out[CELL_KEYS + CELL_CONSTANTS + ["n_persons"] + outcomes]


class _ParquetSink:
    """Ordered Parquet writer whose encoding runs in a background thread.

    Parquet encoding releases the GIL, so writing partition k overlaps building partition
    k + 1; at most one partition waits (bounded memory) and rows keep their order
    (byte-identical output). Keeps counts for the summary, never identifiers.
    """

    def __init__(self, out: Path):
        from concurrent.futures import ThreadPoolExecutor

        self.out = out
        self.writer = None
        self.pending = None
        self.pool = ThreadPoolExecutor(max_workers=1)
        self.rows = self.persons = 0
        self.munis: set[str] = set()
        self.periods: set[str] = set()

    def write(self, table) -> None:
        import pyarrow.parquet as pq

        if self.pending is not None:
            self.pending.result()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.out, table.schema, compression="zstd")
        self.pending = self.pool.submit(self.writer.write_table, table)
        self.rows += table.num_rows
        self.persons += len(table["person_id"].unique())  # partitions hold disjoint persons
        self.munis.update(table["municipality"].unique().to_pylist())
        self.periods.update(table["period"].unique().to_pylist())

    def close(self) -> None:
        try:
            if self.pending is not None:
                self.pending.result()
        finally:
            self.pool.shutdown()
            if self.writer is not None:
                self.writer.close()

    def summary(self, config: StudyConfig, freq: str | None) -> dict:
        return {"rows": self.rows, "persons": self.persons, "municipalities": len(self.munis),
                "periods": len(self.periods), "freq": freq or config.freq, "design": config.design,
                "target_rule": config.target_rule}


def write_panel(registers, out: str | Path, config: StudyConfig | None = None, *,
                freq: str | None = None, scope: str = "study", partition_size: int = 5_000,
                restrict_to_target: bool = True, progress: bool = False, workers: int = 1) -> dict:
    """Stream the panel to one Parquet file, partition by partition; return a summary.

    The summary (also written beside the file as ``<name>.summary.json``) holds rows, persons,
    municipalities and periods - counts only, never identifiers. ``workers``: threads building
    partitions (see :func:`iter_panel`); the file is the same for any number.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    config = config or StudyConfig()
    sink = _ParquetSink(out)
    try:
        for table in iter_panel(registers, config, freq=freq, scope=scope, restrict_to_target=restrict_to_target,
                                partition_size=partition_size, progress=progress, arrow=True,
                                workers=workers):
            sink.write(table)
    finally:
        sink.close()
    summary = sink.summary(config, freq)
    out.with_suffix(".summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def write_panel_partitioned(src, out: str | Path, config: StudyConfig | None = None, *,
                            n_parts: int, work: str | Path, freq: str | None = None,
                            scope: str = "study", quarantine_dir=None, progress: bool = False) -> dict:
    """:func:`write_panel` for deliveries larger than memory: split by person, then stream.

    The delivery in ``src`` is split into ``n_parts`` person partitions under ``work`` (a
    confidential area: the files hold person ids); each partition is validated and turned into
    panel rows in turn, so at most one partition is in memory. Returns the summary with the
    combined row accounting (``registers``).
    """
    from .registers.partition import combine_reports, iter_partitions, split_by_person

    config = config or StudyConfig()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    # the study file's renames ([columns.<table>]) apply before the person ids are hashed
    parts = split_by_person(src, Path(work) / "partitions", n_parts, columns=config.columns)
    reports = []
    registers = iter_partitions(parts, quarantine_dir=quarantine_dir, columns=config.columns)
    if progress:
        from .progress import bar
        registers = bar(registers, "partitions", total=len(parts), unit="partition", enabled_=True)
    sink = _ParquetSink(out)
    try:
        for rs in registers:
            reports.append(rs.report)
            for table in iter_panel(rs, config, freq=freq, scope=scope, arrow=True):
                sink.write(table)
    finally:
        sink.close()
    summary = {**sink.summary(config, freq), "partitions": n_parts,
               "registers": combine_reports(reports).to_dict()}
    out.with_suffix(".summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    return summary


def read_panel(path: str | Path) -> pd.DataFrame:
    """Read a panel written by :func:`write_panel` (identifiers as ``str``)."""
    df = pd.read_parquet(path)
    for c in ("person_id", "municipality", "period", "sex"):
        if c in df and not pd.api.types.is_object_dtype(df[c]):
            df[c] = df[c].astype(str)
    return df
