"""Independent replications (simulations, many fits) on Dask: serial, a local cluster or SLURM.

Size and power simulations repeat one fit on many independent draws. :func:`replicate` runs
them in-process, or on whatever Dask cluster the caller hands over — a local cluster on
this machine (:func:`local_client`) or jobs on a SLURM cluster through dask-jobqueue
(:func:`slurm_client`). Nothing here schedules work itself: Dask does.

Seeds do not depend on the number of workers. Replication ``r`` of a call with seed ``s`` draws
from ``numpy.random.default_rng(SeedSequence(s).spawn(n)[r])``, its own independent stream,
wherever it runs, so the results are identical serially, on 2 local workers or on 200 SLURM
cores (``tests/test_parallel.py`` checks serial against a 2-worker local cluster).

Example
-------
>>> import numpy as np
>>> draws = replicate(_normal_mean, 4, seed=1, args=(10,))
>>> len(draws), draws == replicate(_normal_mean, 4, seed=1, args=(10,))
(4, True)

With a cluster (two worker processes here; on SLURM use :func:`slurm_client`)::

    with local_client(n_workers=2) as client:
        draws = replicate(_normal_mean, 1000, seed=1, args=(10,), client=client)
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from . import progress as _progress

__all__ = ["replicate", "local_client", "slurm_client", "current_client"]


def _normal_mean(rng: np.random.Generator, n: int) -> float:
    """Mean of ``n`` standard normal draws (the doctest's replication)."""
    return float(rng.standard_normal(n).mean())


def current_client():
    """The Dask client the caller made current (``with Client(...)``), or None."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is a declared dependency
        return None
    try:
        return Client.current(allow_global=True)
    except ValueError:
        return None


def _run_chunk(seeds: Sequence[np.random.SeedSequence], fn: Callable, args: tuple,
               kwargs: dict) -> list:
    return [fn(np.random.default_rng(s), *args, **kwargs) for s in seeds]


def replicate(fn: Callable[..., Any], n: int, *, seed: int, args: tuple = (),
              kwargs: dict | None = None, client=None, chunks: int | None = None,
              progress: bool | None = None, desc: str = "replications") -> list:
    """``[fn(rng_0, *args), ..., fn(rng_{n-1}, *args)]`` with one independent stream each.

    Parameters
    ----------
    fn : callable
        ``fn(rng, *args, **kwargs)``; a module-level function (it is pickled to the workers).
    n : int
        Number of replications.
    seed : int
        The simulation's one seed; replication ``r`` uses child ``r`` of
        ``numpy.random.SeedSequence(seed)``.
    client : distributed.Client, optional
        Where to run. Default: the current Dask client if the caller made one current
        (``with Client(...)``), else in this process.
    chunks : int, optional
        How many tasks the replications are cut into on a cluster (default: 4 per worker
        thread, at least 1 replication each). Results do not depend on it.
    progress : bool, optional
        Count the replications (serial) or the finished tasks (cluster) on stderr as
        ``desc``, through :func:`ips_study.progress.bar` like every other loop of the package.
        None (default) follows the run's setting: off in a library call or a notebook unless
        asked, and ``--progress``/``--no-progress`` on the command line (by default on only
        when stderr is a terminal). The bar is plain text on stderr (no notebook widget) and
        is cleared when the loop ends. The results do not depend on it.

    Returns
    -------
    list
        The ``n`` results in replication order.
    """
    kwargs = kwargs or {}
    children = np.random.SeedSequence(seed).spawn(int(n))
    client = client if client is not None else current_client()
    if client is None:
        it = _progress.bar(children, desc, unit="rep", enabled_=progress)
        return [fn(np.random.default_rng(s), *args, **kwargs) for s in it]
    if chunks is None:
        threads = sum(client.nthreads().values()) or 1
        chunks = 4 * threads
    parts = [list(p) for p in np.array_split(np.arange(len(children)), max(1, min(chunks, len(children))))]
    batches = [[children[i] for i in p] for p in parts if len(p)]
    futures = client.map(_run_chunk, batches, fn=fn, args=args, kwargs=kwargs, pure=False)
    if _progress.enabled(progress):
        from distributed import as_completed
        for _ in _progress.bar(as_completed(futures), desc, total=len(futures), unit="task",
                               enabled_=True):
            pass
    return [r for batch in client.gather(futures) for r in batch]


@contextlib.contextmanager
def local_client(n_workers: int | None = None, *, threads_per_worker: int = 1,
                 **cluster_options) -> Iterator[Any]:
    """A Dask ``LocalCluster`` of worker processes on this machine, as a current client.

    ``n_workers`` defaults to the number of CPUs. Each worker runs one replication at a time
    with one BLAS thread (the replications, not the linear algebra, are the parallel part).
    """
    from distributed import Client, LocalCluster

    n_workers = n_workers or os.cpu_count() or 1
    env = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    options = {"processes": True, "dashboard_address": None, "silence_logs": 40, **cluster_options}
    with LocalCluster(n_workers=n_workers, threads_per_worker=threads_per_worker,
                      env=env, **options) as cluster, Client(cluster) as client:
        yield client


@contextlib.contextmanager
def slurm_client(jobs: int, *, cores: int = 1, memory: str = "4GB", walltime: str = "02:00:00",
                 **cluster_options) -> Iterator[Any]:
    """A Dask client on SLURM jobs (dask-jobqueue's ``SLURMCluster``), for HPC clusters.

    ``jobs`` SLURM jobs of ``cores`` cores and ``memory`` each; other keyword arguments
    (``queue``, ``account``, ``job_extra_directives``, ``python``, …) go to
    ``dask_jobqueue.SLURMCluster``. Needs the optional dependency: ``pip install
    "ips-study[slurm]"``. See ``docs/simulations.md`` for a full job.
    """
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError as exc:
        raise ImportError("slurm_client needs dask-jobqueue: pip install 'ips-study[slurm]'") from exc
    from distributed import Client

    with SLURMCluster(cores=cores, processes=cores, memory=memory, walltime=walltime,
                      **cluster_options) as cluster:
        cluster.scale(jobs=jobs)
        with Client(cluster) as client:
            yield client
