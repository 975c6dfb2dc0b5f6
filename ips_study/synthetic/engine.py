"""The simulation engine of the synthetic registers: set-up, chunks of people, static tables.

People are simulated in chunks; each chunk's random streams come from ``(seed, chunk,
stream)`` through :class:`numpy.random.SeedSequence`. :mod:`ips_study.synthetic.generate`
(in-memory data), :mod:`ips_study.synthetic.writer` (streaming to disk) and
:mod:`ips_study.synthetic.hazard_truth` all draw from here, so none of them imports another.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from .effects import Effects
from .geography import GeographySpec, draw_municipality_effects, draw_year_shocks
from .health import simulate_health
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
#: its own stream, so that switching the shocks on changes no other draw
_SHOCK_STREAM = 10**6 + 3


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
    geography: GeographySpec = field(default_factory=GeographySpec)

    def programme_scale(self, n: int) -> float:
        """The share of one programme that a chunk of ``n`` persons runs (see GeographySpec)."""
        total = self.geography.programme_persons
        return n / (DEFAULT_N_PERSONS if total is None else total)


@functools.lru_cache(maxsize=4)
def simulation_setup(seed: int, start: str, end: str,
                     geography: GeographySpec | None = None) -> SimulationSetup:
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
    geography : GeographySpec, optional
        Municipalities, their sizes and year shocks (default: the embedded data's).

    Returns
    -------
    SimulationSetup

    Examples
    --------
    >>> s = simulation_setup(7, "2006-01", "2020-12")
    >>> BODO in set(s.geo["municipality"]), len(s.muni_effects) == len(s.geo)
    (True, True)
    """
    geography = GeographySpec() if geography is None else geography
    cal = Calendar.from_months(start, end)
    geo = geography.table()
    eff = draw_municipality_effects(_rng(seed, _GEOGRAPHY_STREAM), len(geo), **geography.effect_sds())
    year0 = int(cal.year[0])
    shocks = draw_year_shocks(_rng(seed, _SHOCK_STREAM), len(geo), int(cal.year[-1]) - year0 + 1,
                              geography.work_year_sd)
    mstart = geo["ips_start"].to_numpy().astype("datetime64[M]")
    first = cal.month_start[0].astype("datetime64[M]")
    ips_t = np.where(pd.isna(geo["ips_start"]).to_numpy(), 10**9,
                     (mstart - first).astype(np.int64))
    ctx = MunicipalityContext(
        health_level=eff.health_level, work_level=eff.work_level, health_trend=eff.health_trend,
        weight=geo["weight"].to_numpy(),
        ips_start_t=ips_t, bodo_index=int(np.nonzero(geo["municipality"].to_numpy() == BODO)[0][0]),
        work_shock=shocks if geography.work_year_sd > 0 else None, shock_year0=year0,
        aap_entry_hr=float(geography.aap_entry_hr))
    return SimulationSetup(cal, geo, ctx, eff.as_frame(list(geo["municipality"])), geography)


def _chunk(setup: SimulationSetup, seed: int, c: int, n: int, offset: int, effects: Effects,
           counterfactual: bool = True, direct: bool = True) -> Chunk:
    from .direct import direct_truth_parts, year_truth_parts

    cal, ctx = setup.cal, setup.ctx
    pop = simulate_population(n, cal, ctx.weight, _rng(seed, c, 0))
    health = simulate_health(pop, cal, _rng(seed, c, 1))
    paths = simulate_states(pop, health, cal, ctx, effects, _rng(seed, c, 2), scale=setup.programme_scale(n))
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
    if not direct:   # a caller that computes the truth from the panels skips the sums
        return Chunk(factual, cf, {})
    sums = direct_truth_parts(pop, health, paths, cal, ctx, setup.geo)
    if setup.geography.truth_target == "work_assessment":
        # the published design's target group (year panel, AAP in the index month)
        for code, rec in year_truth_parts(pop, paths, cal, ctx, setup.geo).items():
            sums.setdefault(code, {}).update(rec)
    return Chunk(factual, cf, sums)


def _specialists(c: int, n: int) -> list[str]:
    """Job specialist ids of chunk ``c`` (four per default-sized chunk, numbered across chunks)."""
    k = max(1, round(N_SPECIALISTS * n / DEFAULT_N_PERSONS))
    return [f"JS{N_SPECIALISTS * c + s + 1:02d}" for s in range(k)]


def _chunk_job(args: tuple) -> Chunk:
    """One chunk in a worker process (arguments picklable; setup cached per process)."""
    seed, start, end, c, n, offset, effects, counterfactual, geography, direct = args
    return _chunk(simulation_setup(seed, start, end, geography), seed, c, n, offset, effects, counterfactual,
                  direct)


def _chunk_sizes(n: int) -> list[int]:
    sizes = [CHUNK_SIZE] * (n // CHUNK_SIZE)
    if n % CHUNK_SIZE:
        sizes.append(n % CHUNK_SIZE)
    return sizes


def iter_chunks(n_persons: int, *, seed: int = DEFAULT_SEED, effects: Effects | None = None,
                start: str = "2006-01", end: str = "2020-12", progress: bool = False,
                counterfactual: bool = True, workers: int = 1,
                geography: GeographySpec | None = None, direct: bool = True) -> Iterator[Chunk]:
    """Yield the simulated chunks of a population of ``n_persons`` one at a time.

    ``counterfactual=False`` skips building the counterfactual tables (the monthly
    potential outcomes still give the direct truth); ``workers > 1`` simulates chunks in
    that many processes (same output: chunks depend only on the seed and their index);
    ``geography`` picks the municipalities and their sizes (:class:`GeographySpec`);
    ``direct=False`` skips the direct-truth sums (``Chunk.direct`` is then empty).
    """
    effects = Effects() if effects is None else effects
    sizes = _chunk_sizes(n_persons)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    jobs = [(seed, start, end, c, n, int(o), effects, counterfactual, geography, direct)
            for c, (n, o) in enumerate(zip(sizes, offsets))]
    if workers > 1 and len(jobs) > 1:
        import multiprocessing as mp
        pool = mp.get_context("spawn").Pool(min(workers, len(jobs)))
        it = pool.imap(_chunk_job, jobs)   # in order, so the output is the same as serial
    else:
        pool = None
        it = map(_chunk_job, jobs)
    if progress:
        from ..progress import bar
        it = bar(it, "synthetic registers", total=len(jobs), unit="chunk", enabled_=True)
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
