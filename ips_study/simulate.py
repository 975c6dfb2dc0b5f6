"""Size and coverage of the inference methods by simulation.

This harness sits above both ``designs`` and ``inference`` (it fits designs and applies
inference methods), so it lives at the top of the package rather than inside ``inference``.

One treated municipality of Bodø's size among 20+ controls of unequal sizes, many
replications under a known effect (zero: a true null). For each method the table reports
the rejection rate of ``H0: effect = 0`` at 5% and the coverage of the true effect by the
95% interval. The data-generating process is a parameter; the default,
:func:`municipality_dgp`, draws municipality-year means directly:

``ybar_jt = a_j + g_t + nu_jt + e_jt``, ``nu_jt`` an AR(1) municipality-year shock (common to
all sizes, the reason cluster-robust errors fail with one treated unit) and ``e_jt`` the mean
of ``M_j`` person errors, ``N(0, sigma^2 / M_j)`` (the heteroskedasticity from unequal sizes
that Ferman & Pinto correct for). Person counts: Bodø 600, controls log-uniform 50-2000.

Any other DGP can be passed (``benchmarks/sim_inference.py`` runs the register generator).
:func:`evaluate` fits one replication once and applies every method to that fit;
:func:`summarise` turns replications into the table (rejection rate with its binomial Monte
Carlo SE, coverage, mean interval width); :func:`simulate` loops, optionally appending each
replication to a JSON-lines checkpoint so that a long run resumes.

Examples
--------
>>> table = simulate(reps=3, methods=("cluster", "placebo"), seed=1)
>>> list(table.columns)
['method', 'reps', 'rejection_rate', 'rejection_se', 'coverage', 'coverage_se', 'mean_ci_width', 'n_unbounded', 'bias', 'sd_estimate']
"""

from __future__ import annotations

import time
import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ips_study.config import StudyConfig
from ips_study.designs.did import did, fit_panel
from ips_study.inference import DEFAULT_SEED
from ips_study.parallel import replicate

ALL_METHODS = ("cluster", "wild", "placebo", "rmspe", "placebo-t", "conley-taber",
               "ferman-pinto")


def municipality_dgp(rng: np.random.Generator, *, n_controls: int = 25, treated_size: int = 600,
                     size_range=(50, 2000), years=range(2008, 2020), sigma: float = 60.0,
                     tau: float = 2.0, rho: float = 0.5, effect: float = 0.0
                     ) -> tuple[pd.DataFrame, float]:
    """One draw of a municipality-year aggregate panel and its true effect.

    Returns the panel (``municipality``, ``period``, ``period_start``, ``treated``, ``post``,
    ``event_time``, ``n_persons``, ``workdays``) and the true effect on the treated.
    """
    years = np.asarray(list(years))
    T = len(years)
    lo, hi = np.log(size_range[0]), np.log(size_range[1])
    sizes = np.r_[treated_size, np.round(np.exp(rng.uniform(lo, hi, n_controls)))].astype(int)
    U = len(sizes)
    nu = np.empty((U, T))
    nu[:, 0] = rng.normal(0, tau, U)
    for t in range(1, T):
        nu[:, t] = rho * nu[:, t - 1] + np.sqrt(1 - rho ** 2) * rng.normal(0, tau, U)
    a = rng.normal(60, 10, U)
    g = 2.0 * np.arange(T)
    e = rng.normal(0, 1, (U, T)) * sigma / np.sqrt(sizes)[:, None]
    post = years >= 2013
    y = a[:, None] + g[None, :] + nu + e
    y[0] += effect * post
    codes = ["1804"] + [f"{1900 + j:04d}" for j in range(n_controls)]
    df = pd.DataFrame({
        "municipality": np.repeat(codes, T),
        "period": np.tile(years.astype(str), U),
        "n_persons": np.repeat(sizes, T).astype(float),
        "workdays": y.ravel(),
    })
    df["period_start"] = pd.to_datetime(df["period"] + "-01-01")
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = np.tile(post, U).astype(np.int8)
    df["event_time"] = df["period"].astype(int) - 2013
    return df, float(effect)


def size_dgp(rng: np.random.Generator, *, treated_sizes: Sequence[float] = (200,),
             starts: Sequence[int] = (5,), n_controls: int = 25,
             size_range: tuple[float, float] = (200, 20000), n_years: int = 12,
             shocks: str = "ar1-t5", rho: float = 0.4, tau: float = 1.0, sigma: float = 30.0,
             effect: float = 0.0) -> tuple[pd.DataFrame, float]:
    """A unit-year panel whose treated units sit anywhere in the controls' size range (issue 19).

    ``y_jt = a_j + 0.3 t + nu_jt + e_jt``: ``a_j ~ N(0, 5^2)``; ``nu_jt`` a municipality-year
    shock of SD ``tau``, either AR(1) with ``rho`` and Student-t(5) innovations scaled to unit
    variance (``shocks="ar1-t5"``, serially correlated and heavy-tailed) or i.i.d. normal
    (``"iid-normal"``); ``e_jt ~ N(0, sigma^2 / M_j)`` the sampling noise of a mean over
    ``M_j`` persons. Controls: ``n_controls`` sizes log-uniform on ``size_range``. Treated
    units: one per entry of ``treated_sizes``, treated from year index ``starts[l]`` on (one
    start for all, or one each: staggered adoption). ``effect`` is added to treated
    unit-years. Columns ``unit``, ``year``, ``n`` (persons, the weights and sizes), ``y``,
    ``treat``; fit with ``ips.did(panel, y="y", unit="unit", time="year", treat="treat",
    weights="n")``.

    Examples
    --------
    >>> panel, truth = size_dgp(np.random.default_rng(1), treated_sizes=(20000,))
    >>> panel.shape, truth, int(panel["treat"].sum())
    ((312, 5), 0.0, 7)
    """
    k = len(treated_sizes)
    starts = list(starts) * k if len(starts) == 1 else list(starts)
    if len(starts) != k:
        raise ValueError(f"starts has {len(starts)} entries for {k} treated_sizes")
    lo, hi = np.log(size_range[0]), np.log(size_range[1])
    sizes = np.r_[np.asarray(treated_sizes, dtype=float),
                  np.round(np.exp(rng.uniform(lo, hi, n_controls)))]
    U, T = len(sizes), int(n_years)
    if shocks == "ar1-t5":
        innov = rng.standard_t(5.0, (U, T)) * np.sqrt(3.0 / 5.0)  # unit variance
        nu = np.empty((U, T))
        nu[:, 0] = innov[:, 0]
        for t in range(1, T):
            nu[:, t] = rho * nu[:, t - 1] + np.sqrt(1 - rho ** 2) * innov[:, t]
        nu *= tau
    elif shocks == "iid-normal":
        nu = rng.normal(0.0, tau, (U, T))
    else:
        raise ValueError(f"shocks must be 'ar1-t5' or 'iid-normal', got {shocks!r}")
    e = rng.normal(0.0, 1.0, (U, T)) * sigma / np.sqrt(sizes)[:, None]
    y = rng.normal(0.0, 5.0, U)[:, None] + 0.3 * np.arange(T)[None, :] + nu + e
    treat = np.zeros((U, T))
    for l, s in enumerate(starts):
        treat[l, int(s):] = 1.0
    y += effect * treat
    panel = pd.DataFrame({"unit": np.repeat([f"u{j:02d}" for j in range(U)], T),
                          "year": np.tile(np.arange(T), U), "n": np.repeat(sizes, T),
                          "y": y.ravel(), "treat": treat.ravel().astype(np.int8)})
    return panel, float(effect)


def size_replication(rng: np.random.Generator, methods: Sequence[str] = ("placebo-t",),
                     **dgp_options) -> dict:
    """One replication of :func:`size_dgp`: every method on one fit (:func:`summarise` record).

    A method spec ``"name[opt=value]"`` passes one option (``"placebo-t[reference=rank]"``).
    """
    t0 = time.process_time()
    panel, truth = size_dgp(rng, **dgp_options)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = did(panel, y="y", unit="unit", time="year", treat="treat", weights="n",
                   inference="cluster")
        for m in methods:
            name, opts = _method_call(m, {})
            r = base if m == "cluster" else base.with_inference(name, **opts)
            lo, hi = r.conf_int().loc[r.main_term]
            out[m] = [float(r.p_value <= 0.05), float(lo <= truth <= hi), float(hi - lo),
                      float(r.p_value)]
    # CPU seconds of this replication wherever it ran (the cost in docs/inference.md)
    return {"error": float(base.estimate - truth), "methods": out,
            "cpu_s": time.process_time() - t0}


def _method_call(name: str, wild_options: dict) -> tuple[str, dict]:
    """Inference name and options of a method spec (``"placebo-t[size]"`` -> variance="size")."""
    if name.endswith("]") and "[" in name:
        base, arg = name[:-1].split("[", 1)
        key, _, value = arg.rpartition("=")
        return base, {key or "variance": value}
    return name, (wild_options if name == "wild" else {})


def evaluate(panel: pd.DataFrame, truth: float, methods: Sequence[str] = ALL_METHODS, *,
             config: StudyConfig | None = None, fit_options: dict | None = None,
             wild_options: dict | None = None, outcome: str = "workdays") -> dict:
    """Fit one replication once and apply every inference method to the same fit.

    Returns ``{"error": estimate - truth, "methods": {name: [reject, covers, ci_width, p]}}``:
    ``reject`` is ``p <= 0.05`` for H0: effect = 0 (a false rejection only under a true
    null), ``covers`` whether the 95% interval contains ``truth``. The regression (and its
    within transformation) is computed once; each method reuses it via ``with_inference``.
    """
    config = config or StudyConfig()
    fit_options = {"level": "municipality"} if fit_options is None else fit_options
    wild_options = {"reps": 999} if wild_options is None else wild_options
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = fit_panel(panel, outcome=outcome, config=config, inference="cluster",
                         **fit_options)
        for m in methods:
            if m == "rmspe":
                p = base.with_inference("placebo").extras["rmspe_p_value"]
                out[m] = [float(p <= 0.05), np.nan, np.nan, float(p)]
                continue
            name, opts = _method_call(m, wild_options)
            r = base if m == "cluster" else base.with_inference(name, **opts)
            lo, hi = r.conf_int().loc[r.main_term]
            out[m] = [float(r.p_value <= 0.05), float(lo <= truth <= hi), float(hi - lo),
                      float(r.p_value)]
    return {"error": float(base.estimate - truth), "methods": out}


def summarise(records: Sequence[dict], methods: Sequence[str]) -> pd.DataFrame:
    """Rejection rate (with its binomial Monte Carlo SE), coverage and mean CI width per method.

    ``coverage_se`` is the binomial SE of the coverage; ``mean_ci_width`` averages finite
    widths only (``n_unbounded`` counts the infinite ones). ``bias``/``sd_estimate`` describe
    the estimate around the truth: an over-rejection with a clearly non-zero bias is a failure
    of identification in the DGP, not of the inference method.
    """
    reps = len(records)
    if not reps:
        raise ValueError("no replications to summarise")
    errors = np.array([r["error"] for r in records], dtype=float)
    bias = float(errors.mean()) if reps else np.nan
    sd = float(errors.std(ddof=1)) if reps > 1 else np.nan
    table = []
    for m in methods:
        a = np.array([r["methods"][m][:3] for r in records], dtype=float).reshape(reps, 3)
        rate = float(a[:, 0].mean())
        cov = a[:, 1][np.isfinite(a[:, 1])]
        width = a[:, 2][np.isfinite(a[:, 2])]
        covr = float(cov.mean()) if len(cov) else np.nan
        table.append({"method": m, "reps": reps, "rejection_rate": rate,
                      "rejection_se": float(np.sqrt(rate * (1 - rate) / reps)),
                      "coverage": covr,
                      "coverage_se": float(np.sqrt(covr * (1 - covr) / len(cov))) if len(cov)
                      else np.nan,
                      "mean_ci_width": float(width.mean()) if len(width) else np.nan,
                      "n_unbounded": int(np.sum(np.isinf(a[:, 2]))),
                      "bias": bias, "sd_estimate": sd})
    return pd.DataFrame(table)


def _read_checkpoint(path) -> dict[int, dict]:
    import json
    from pathlib import Path

    path = Path(path)
    done = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                done[int(rec["rep"])] = rec
    return done


def replication_index(rng: np.random.Generator) -> int:
    """Index ``r`` of a :func:`ips_study.parallel.replicate` replication, from its stream.

    Replication ``r`` draws from child ``r`` of ``SeedSequence(seed)``, whose spawn key ends
    in ``r``; a replication that needs its own number (a checkpoint, the register
    generator's integer seed) reads it here, so it does not depend on the worker either.
    """
    return int(rng.bit_generator.seed_seq.spawn_key[-1])


def _resumable(rng: np.random.Generator, fn: Callable, args: tuple, kwargs: dict,
               todo: frozenset) -> dict | None:
    i = replication_index(rng)
    if i not in todo:
        return None
    return {"rep": i, **fn(rng, *args, **kwargs)}


def replicate_resumable(fn: Callable[..., dict], reps: int, *, seed: int, args: tuple = (),
                        kwargs: dict | None = None, checkpoint=None, block: int = 100,
                        is_done: Callable[[dict], bool] | None = None, client=None,
                        progress: bool = False) -> list[dict]:
    """:func:`ips_study.parallel.replicate` with a JSON-lines checkpoint, in blocks.

    ``fn(rng, *args, **kwargs)`` returns a JSON-able dict; the record of replication ``r`` is
    ``{"rep": r, **fn(...)}``. With ``checkpoint`` the replications run in blocks of
    ``block``; each finished block is appended to the file, and records already in it (for
    which ``is_done(record)`` holds, default all) are read back instead of recomputed. As
    every replication has its own stream, the records do not depend on the blocks, on
    interruptions or on the number of workers.
    """
    import json

    done = _read_checkpoint(checkpoint) if checkpoint else {}
    done = {i: r for i, r in done.items() if is_done is None or is_done(r)}
    step = int(block) if checkpoint else max(int(reps), 1)
    for lo in range(0, reps, step):
        hi = min(lo + step, reps)
        todo = frozenset(i for i in range(lo, hi) if i not in done)
        if not todo:
            continue
        # replications below lo (and those done) return None at once: only the spawn is paid
        recs = replicate(_resumable, hi, seed=seed, client=client, progress=progress,
                         args=(fn, tuple(args), dict(kwargs or {}), todo))
        new = [r for r in recs if r is not None]
        done.update({r["rep"]: r for r in new})
        if checkpoint:
            with open(checkpoint, "a") as fh:
                fh.writelines(json.dumps(r) + "\n" for r in new)
    return [done[i] for i in range(reps)]


def _replication(rng: np.random.Generator, dgp: Callable, dgp_options: dict,
                 methods: Sequence[str], config, fit_options, wild_options) -> dict:
    panel, truth = dgp(rng, **dgp_options)
    return evaluate(panel, truth, methods, config=config, fit_options=fit_options,
                    wild_options=wild_options)


def simulate(dgp: Callable = municipality_dgp, *, reps: int = 500, seed: int = DEFAULT_SEED,
             methods: Sequence[str] = ALL_METHODS, config: StudyConfig | None = None,
             fit_options: dict | None = None, wild_options: dict | None = None,
             dgp_options: dict | None = None, progress: bool = False,
             checkpoint=None, client=None, block: int = 100) -> pd.DataFrame:
    """Rejection rate at 5% and 95% coverage per inference method.

    Parameters
    ----------
    dgp : ``dgp(rng, **dgp_options) -> (panel, true_effect)``; default :func:`municipality_dgp`.
        A module-level function (it is sent to the Dask workers).
    reps : replications; seed : replication r draws from its own stream, child r of
        ``SeedSequence(seed)`` (:func:`ips_study.parallel.replicate`), so the numbers do not
        depend on the number of workers, and a checkpointed run resumes exactly.
    methods : names from :data:`ALL_METHODS` (``rmspe`` = placebo RMSPE-ratio p-value; it has
        no interval, so its coverage is NaN; ``"placebo-t[size]"`` passes ``variance="size"``,
        ``"placebo-t[reference=rank]"`` any one option).
        The returned table's ``attrs["records"]`` holds every replication's result.
    fit_options : passed to :func:`ips_study.designs.did.fit_panel` (default
        ``level="municipality"`` for aggregate panels).
    wild_options : passed to the wild bootstrap (default 999 Webb draws).
    checkpoint : path of a JSON-lines file; each finished block of ``block`` replications
        is appended, and replications already in it are not recomputed.
    client : a Dask client (:func:`ips_study.parallel.local_client`, ``slurm_client``);
        default the current one, else in this process.
    """
    config = config or StudyConfig()
    records = replicate_resumable(
        _replication, reps, seed=seed, client=client, progress=progress,
        args=(dgp, dgp_options or {}, tuple(methods), config, fit_options, wild_options),
        checkpoint=checkpoint, block=block,
        is_done=lambda r: all(m in r["methods"] for m in methods))
    table = summarise(records, methods)
    # the per-replication records (p-values included) for finer checks than the 5% rate
    table.attrs["records"] = records
    return table
