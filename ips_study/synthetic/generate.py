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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..registers import RegisterSet
from .effects import Effects
from .geography import GeographySpec
from .engine import (BODO, CHUNK_SIZE, DEFAULT_N_PERSONS, DEFAULT_SEED, SimulationSetup,  # noqa: F401
                     _static_tables, iter_chunks, simulation_setup)
from .messiness import MessSpec
from .writer import stream_synthetic, write_tables, write_truth

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
        spec = MessSpec() if messy is True else (MessSpec.none() if messy is False else messy)
        out = Path(out_dir)
        write_tables(self.registers.tables, out, format=format, spec=spec, seed=self.seed)
        write_truth(self.truth, out)
        return out


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
             start: str = "2006-01", end: str = "2020-12", progress: bool = False,
             geography: GeographySpec | None = None, direct: bool = True) -> SyntheticData:
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
    geography : GeographySpec, optional
        Which municipalities, their sizes and year shocks (default: the embedded data's 28;
        :func:`ips_study.synthetic.real_scale.published_geography` for the published design).
    direct : bool
        Compute the direct-truth sums (``SyntheticData.direct``); ``False`` saves their cost
        in a simulation that takes its truth from the panels (``truth`` then needs them).

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
    setup = simulation_setup(seed, start, end, geography)
    chunks = list(iter_chunks(n, seed=seed, effects=effects, start=start, end=end, progress=progress,
                              geography=geography, direct=direct))
    static = _static_tables(setup, seed, n)

    def cat(world: str, name: str) -> pd.DataFrame:
        return pd.concat([getattr(ch, world)[name] for ch in chunks], ignore_index=True)

    fact = {name: cat("factual", name) for name in chunks[0].factual}
    fact.update(static)
    cf = {name: cat("counterfactual", name) for name in chunks[0].counterfactual}
    cf["municipalities"] = static["municipalities"]
    fact, cf = ({k: _text_as_objects(v) for k, v in w.items()} for w in (fact, cf))
    from .direct import merge_direct
    meta = {"seed": seed, "effects": effects.to_dict(), "generator": "ips_study.synthetic"}
    return SyntheticData(RegisterSet(fact, source="synthetic", meta=meta),
                         RegisterSet(cf, source="synthetic-counterfactual", meta=meta),
                         seed=seed, effects=effects, n_persons=n,
                         direct=merge_direct([ch.direct for ch in chunks]),
                         municipality_effects=setup.muni_effects)


def write_synthetic(out_dir: str | Path, *, persons: int | None = None, seed: int | None = DEFAULT_SEED,
                    format: str = "parquet", effects: Effects | None = None,
                    messy: bool | MessSpec = True, progress: bool = False,
                    geography: GeographySpec | None = None, stream: bool | None = None) -> Path:
    """Write synthetic registers (every data-contract table) and ``truth.json`` to ``out_dir``.

    Populations up to four chunks are generated in memory and their truth is computed with
    the package's own panel code (:func:`ips_study.synthetic.truth.compute_truth`); larger
    ones are streamed chunk by chunk to disk and their truth comes from the simulated
    monthly potential outcomes (:func:`ips_study.synthetic.direct.direct_truth`).
    ``stream=True`` streams whatever the size; ``geography`` as in :func:`generate`
    (``published_geography()`` with ``persons=real_scale_persons()``: the published design's
    municipalities at real scale).

    >>> write_synthetic("/tmp/ips_synth_doctest", persons=2000, seed=3)  # doctest: +SKIP
    PosixPath('/tmp/ips_synth_doctest')
    """
    n = DEFAULT_N_PERSONS if persons is None else int(persons)
    seed = DEFAULT_SEED if seed is None else int(seed)
    if not stream and (stream is False or n <= 4 * CHUNK_SIZE):
        return generate(n, seed=seed, effects=effects, progress=progress, geography=geography).write(
            out_dir, format=format, messy=messy)
    return stream_synthetic(out_dir, n_persons=n, seed=seed, format=format, effects=effects,
                            messy=messy, progress=progress, geography=geography)
