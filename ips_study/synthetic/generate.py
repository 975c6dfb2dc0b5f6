"""Generate synthetic registers with known true IPS effects: :func:`generate`, :func:`write_synthetic`.

People are simulated in chunks (default 60,000 persons, the size of the embedded dataset);
each chunk runs its own copy of every IPS municipality's programme, so a larger population
is a set of replicas of the default programme scale and the Bodø programme metrics of the
first chunk are those of the embedded data. Random streams are derived from
``(seed, chunk, stream)`` with :class:`numpy.random.SeedSequence`, so the same seed gives
the same data whatever else runs, and each chunk is independent of the chunk size of the
others.

Example
-------
>>> data = generate(2000, seed=7)                     # doctest: +SKIP
>>> sorted(data.registers.tables)[:3]                 # doctest: +SKIP
['benefits', 'diagnoses', 'employment']
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from ..registers import RegisterSet
from .effects import Effects
from .geography import draw_municipality_effects, municipality_table
from .health import simulate_health
from .messiness import MessSpec
from .population import Calendar, simulate_population
from .programme import N_SPECIALISTS, specialist_weeks
from .spells import (benefits_table, caseload_table, diagnoses_table, employment_table,
                     persons_table, residence_table)
from .states import MunicipalityContext, simulate_states

DEFAULT_SEED = 20130101
DEFAULT_N_PERSONS = 60_000
CHUNK_SIZE = DEFAULT_N_PERSONS
BODO = "1804"
_GEOGRAPHY_STREAM, _PROGRAMME_STREAM = 10**6, 10**6 + 1


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=tuple(key)))


def person_ids(index: np.ndarray) -> np.ndarray:
    """Pseudonymous 10-digit person ids (løpenummer): a bijection of the running index.

    >>> person_ids(np.arange(2)).tolist()
    ['0000012345', '2654448106']
    """
    x = (np.asarray(index, dtype=np.int64) * 2654435761 + 12345) % 10**10
    return np.char.zfill(x.astype(str), 10).astype(object)


@dataclass
class Chunk:
    """Tables of one chunk in both worlds plus the monthly paths behind them."""

    factual: dict[str, pd.DataFrame]
    counterfactual: dict[str, pd.DataFrame]
    direct: dict[str, Any]


@dataclass
class SimulationSetup:
    """What every chunk of one seed shares: calendar, municipalities and their effects.

    ``cal`` is the month calendar, ``geo`` the municipality table (kommune, with IPS start
    and population weight), ``ctx`` the per-municipality context of the state simulation and
    ``muni_effects`` the drawn municipality levels and trends (one row per municipality).
    """

    cal: Calendar
    geo: pd.DataFrame
    ctx: MunicipalityContext
    muni_effects: pd.DataFrame


@functools.lru_cache(maxsize=4)
def simulation_setup(seed: int, start: str, end: str) -> SimulationSetup:
    """The shared set-up of a simulation: calendar, municipalities and their drawn effects.

    Depends only on ``seed`` (its geography stream) and the window, not on the number of
    persons, so every chunk and every population size of one seed sees the same
    municipalities. Cached (four set-ups): call ``simulation_setup.cache_clear()`` after
    changing module-level draws, e.g. in a sensitivity check.

    Parameters
    ----------
    seed : int
        Generator seed.
    start, end : str
        First and last month of the simulated window, ``"YYYY-MM"``.

    Returns
    -------
    SimulationSetup

    Examples
    --------
    >>> s = simulation_setup(7, "2006-01", "2020-12")
    >>> BODO in set(s.geo["municipality"]), len(s.muni_effects) == len(s.geo)
    (True, True)
    """
    cal = Calendar.from_months(start, end)
    geo = municipality_table()
    eff = draw_municipality_effects(_rng(seed, _GEOGRAPHY_STREAM), len(geo))
    mstart = geo["ips_start"].to_numpy().astype("datetime64[M]")
    first = cal.month_start[0].astype("datetime64[M]")
    ips_t = np.where(pd.isna(geo["ips_start"]).to_numpy(), 10**9,
                     (mstart - first).astype(np.int64))
    ctx = MunicipalityContext(
        health_level=eff.health_level, work_level=eff.work_level, health_trend=eff.health_trend,
        weight=geo["weight"].to_numpy(),
        ips_start_t=ips_t, bodo_index=int(np.nonzero(geo["municipality"].to_numpy() == BODO)[0][0]))
    return SimulationSetup(cal, geo, ctx, eff.as_frame(list(geo["municipality"])))


def _chunk(setup: SimulationSetup, seed: int, c: int, n: int, offset: int, effects: Effects,
           counterfactual: bool = True) -> Chunk:
    from .truth import direct_truth_parts

    cal, ctx = setup.cal, setup.ctx
    pop = simulate_population(n, cal, ctx.weight, _rng(seed, c, 0))
    health = simulate_health(pop, cal, _rng(seed, c, 1))
    paths = simulate_states(pop, health, cal, ctx, effects, _rng(seed, c, 2), scale=n / DEFAULT_N_PERSONS)
    ids = person_ids(np.arange(offset, offset + n))
    codes = setup.geo["municipality"].to_numpy().astype(object)
    common = {
        "persons": persons_table(pop, cal, ids),
        "residence": residence_table(pop, cal, ids, codes),
        "diagnoses": diagnoses_table(health.rows, cal, ids),
    }
    factual = dict(common)
    factual["benefits"] = benefits_table(paths.state, paths.shared_u, pop, cal, ids)
    factual["employment"] = employment_table(paths.job, paths.shared_u, pop, cal, ids, offset,
                                             paths.programme.ips_job_t)
    factual["ips_caseload"] = caseload_table(
        paths.programme, pop, cal, ids, ctx.bodo_index, _rng(seed, c, 3), _specialists(c, n))
    cf = dict(common)
    if counterfactual:
        cf["benefits"] = benefits_table(paths.state_cf, paths.shared_u, pop, cal, ids)
        cf["employment"] = employment_table(paths.job_cf, paths.shared_u, pop, cal, ids, offset)
    direct = direct_truth_parts(pop, health, paths, cal, ctx, setup.geo)
    return Chunk(factual, cf, direct)


def _specialists(c: int, n: int) -> list[str]:
    """Job specialist ids of chunk ``c`` (four per default-sized chunk, numbered across chunks)."""
    k = max(1, round(N_SPECIALISTS * n / DEFAULT_N_PERSONS))
    return [f"JS{N_SPECIALISTS * c + s + 1:02d}" for s in range(k)]


def _chunk_job(args: tuple) -> Chunk:
    """One chunk in a worker process (arguments picklable; setup cached per process)."""
    seed, start, end, c, n, offset, effects, counterfactual = args
    return _chunk(simulation_setup(seed, start, end), seed, c, n, offset, effects, counterfactual)


def _chunk_sizes(n: int) -> list[int]:
    sizes = [CHUNK_SIZE] * (n // CHUNK_SIZE)
    if n % CHUNK_SIZE:
        sizes.append(n % CHUNK_SIZE)
    return sizes


def iter_chunks(n_persons: int, *, seed: int = DEFAULT_SEED, effects: Effects | None = None,
                start: str = "2006-01", end: str = "2020-12", progress: bool = False,
                counterfactual: bool = True, workers: int = 1) -> Iterator[Chunk]:
    """Yield the simulated chunks of a population of ``n_persons`` one at a time.

    ``counterfactual=False`` skips building the counterfactual tables (the monthly
    potential outcomes still give the direct truth); ``workers > 1`` simulates chunks in
    that many processes (same output: chunks depend only on the seed and their index).
    """
    effects = Effects() if effects is None else effects
    sizes = _chunk_sizes(n_persons)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    jobs = [(seed, start, end, c, n, int(o), effects, counterfactual)
            for c, (n, o) in enumerate(zip(sizes, offsets))]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        pool = mp.get_context("spawn").Pool(min(workers, len(jobs)))
        it = pool.imap(_chunk_job, jobs)   # in order, so the output is the same as serial
    else:
        pool = None
        it = map(_chunk_job, jobs)
    if progress:
        from tqdm import tqdm
        it = tqdm(it, total=len(jobs), desc="synthetic registers", unit="chunk")
    try:
        yield from it
    finally:
        if pool is not None:
            pool.close()
            pool.join()


def _static_tables(setup: SimulationSetup, seed: int, n_persons: int) -> dict[str, pd.DataFrame]:
    geo = setup.geo.drop(columns="weight")
    ids = [sid for c, n in enumerate(_chunk_sizes(n_persons)) for sid in _specialists(c, n)]
    n_spec = len(ids)
    weeks = specialist_weeks("2013-01-07", str(setup.cal.month_start[-1].astype("datetime64[M]") + 1
                                                 - np.timedelta64(1, "D")),
                             n_spec, _rng(seed, _PROGRAMME_STREAM))
    weeks["specialist_id"] = np.asarray(ids, dtype=object)[weeks["specialist_id"].str[2:].astype(int) - 1]
    return {"municipalities": geo, "specialist_weeks": weeks}


@dataclass
class SyntheticData:
    """Synthetic registers in both worlds and the truth about the IPS effect.

    ``registers`` is the factual :class:`~ips_study.registers.RegisterSet` (clean, typed:
    ids and codes ``str``, dates ``datetime64[ns]`` with ``NaT`` for open ends, numbers
    float64); ``counterfactual`` holds the same population's registers had no municipality
    introduced IPS (common random numbers; no programme tables); ``truth`` is the dict
    written to ``truth.json``.
    """

    registers: RegisterSet
    counterfactual: RegisterSet
    seed: int
    effects: Effects
    n_persons: int
    direct: dict[str, Any] = field(repr=False)
    municipality_effects: pd.DataFrame = field(repr=False)

    @functools.cached_property
    def truth(self) -> dict[str, Any]:
        from .truth import compute_truth
        return compute_truth(self)

    def write(self, out_dir: str | Path, format: str = "parquet", messy: bool | MessSpec = True) -> Path:
        """Write every data-contract table and ``truth.json`` into ``out_dir``; returns the directory."""
        from .writer import write_tables
        spec = MessSpec() if messy is True else (MessSpec.none() if messy is False else messy)
        out = Path(out_dir)
        write_tables(self.registers.tables, out, format=format, spec=spec, seed=self.seed)
        write_truth(self.truth, out)
        return out


def write_truth(truth: dict[str, Any], out_dir: Path) -> Path:
    path = Path(out_dir) / "truth.json"
    path.write_text(json.dumps(truth, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path


def _text_as_objects(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as ``str`` objects and ``None`` (the RegisterSet contract, what the loader
    returns); pandas 3 infers its own str dtype (missing = NaN). A no-op on pandas 2."""
    text = [c for c in df.columns
            if isinstance(df[c].dtype, pd.StringDtype) and df[c].dtype.na_value is not pd.NA]
    if not text:
        return df
    df = df.copy()
    for c in text:
        df[c] = pd.Series(np.where(df[c].isna(), None, df[c].to_numpy(dtype=object)),
                          index=df.index, dtype=object)
    return df


def generate(n_persons: int | None = None, *, seed: int | None = DEFAULT_SEED, effects: Effects | None = None,
             start: str = "2006-01", end: str = "2020-12", progress: bool = False) -> SyntheticData:
    """Simulate the synthetic registers of ``n_persons`` people (default 60,000) in memory.

    Parameters
    ----------
    n_persons : int, optional
        People ever in the 18-40 population of a study municipality in the window.
    seed : int
        The one seed of everything random.
    effects : Effects, optional
        IPS effect sizes (default :class:`Effects`); ``Effects.null()`` for no effect.
    start, end : str
        First and last month of the register window (``YYYY-MM``); two burn-in years are
        simulated before ``start``.

    Examples
    --------
    >>> data = generate(3000, seed=1)
    >>> set(data.registers["persons"].columns) >= {"person_id", "birth_date"}
    True
    """
    n = DEFAULT_N_PERSONS if n_persons is None else int(n_persons)
    seed = DEFAULT_SEED if seed is None else int(seed)
    if n < 1:
        raise ValueError("n_persons must be positive")
    effects = Effects() if effects is None else effects
    setup = simulation_setup(seed, start, end)
    chunks = list(iter_chunks(n, seed=seed, effects=effects, start=start, end=end, progress=progress))
    static = _static_tables(setup, seed, n)

    def cat(world: str, name: str) -> pd.DataFrame:
        return pd.concat([getattr(ch, world)[name] for ch in chunks], ignore_index=True)

    fact = {name: cat("factual", name) for name in chunks[0].factual}
    fact.update(static)
    cf = {name: cat("counterfactual", name) for name in chunks[0].counterfactual}
    cf["municipalities"] = static["municipalities"]
    fact, cf = ({k: _text_as_objects(v) for k, v in w.items()} for w in (fact, cf))
    from .truth import merge_direct
    meta = {"seed": seed, "effects": effects.to_dict(), "generator": "ips_study.synthetic"}
    return SyntheticData(RegisterSet(fact, source="synthetic", meta=meta),
                         RegisterSet(cf, source="synthetic-counterfactual", meta=meta),
                         seed=seed, effects=effects, n_persons=n,
                         direct=merge_direct([ch.direct for ch in chunks]),
                         municipality_effects=setup.muni_effects)


def write_synthetic(out_dir: str | Path, *, persons: int | None = None, seed: int | None = DEFAULT_SEED,
                    format: str = "parquet", effects: Effects | None = None,
                    messy: bool | MessSpec = True, progress: bool = False) -> Path:
    """Write synthetic registers (every data-contract table) and ``truth.json`` to ``out_dir``.

    Populations up to four chunks are generated in memory and their truth is computed with
    the package's own panel code (:func:`ips_study.synthetic.truth.compute_truth`); larger
    ones are streamed chunk by chunk to disk and their truth comes from the simulated
    monthly potential outcomes (:func:`ips_study.synthetic.truth.direct_truth`).

    >>> write_synthetic("/tmp/ips_synth_doctest", persons=2000, seed=3)  # doctest: +SKIP
    PosixPath('/tmp/ips_synth_doctest')
    """
    n = DEFAULT_N_PERSONS if persons is None else int(persons)
    seed = DEFAULT_SEED if seed is None else int(seed)
    if n <= 4 * CHUNK_SIZE:
        return generate(n, seed=seed, effects=effects, progress=progress).write(out_dir, format=format,
                                                                               messy=messy)
    from .writer import stream_synthetic
    return stream_synthetic(out_dir, n_persons=n, seed=seed, format=format, effects=effects,
                            messy=messy, progress=progress)
