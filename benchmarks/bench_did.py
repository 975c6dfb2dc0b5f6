"""TWFE DiD and placebo-in-space on 20-million-row person-month panels: ips_study vs pyfixest.

Run (the peer in its own virtual environment; see docs/benchmarks.md)::

    PYTHONPATH=. .venv/bin/python benchmarks/bench_did.py \
        --pyfixest-python /work/peers/did/bin/python [--rows 20000000] \
        [--panels holes enter_exit] [--placebo] [--pyfixest-default]

Every timing goes through ``benchmarks/_harness.py`` (contenders alternate, at least 3 runs
each, min and median of wall and user+sys CPU, answers checked at a stated tolerance, peer
version and settings and the load average recorded in ``benchmarks/results/*.json``).

* **TWFE** (issue 22 item 2): ``y ~ treated_post | person + month`` with CRV1 errors clustered
  by municipality (pyfixest's default small-sample convention, ips_study
  ``small_sample="fixest"``). pyfixest runs warm (JIT compiled on a small panel first) in a
  child process that built the same panel from the same seed, and times itself; ips_study
  runs in this process. The equality check is against pyfixest at ``fixef_tol=1e-12``
  (relative difference of estimate and SE, tolerance 1e-8); ``--pyfixest-default`` adds a
  separate record against pyfixest's default tolerance (answers then differ by about 1e-5 on
  the enter/exit panel, so its tolerance is 1e-4).
* **Placebo-in-space** (item 1): ``res.with_inference("placebo")`` over all 299 control
  municipalities on the fitted object (ips_study only; goal at most 15 s). Before timing,
  three placebo estimates (the largest, the median and the smallest control) are recomputed
  the previous way, one placebo column demeaned by alternating projections
  (``Demeaner(fast=False)``), and must agree to 1e-10.

Panels (:func:`make_panel`): ``balanced``, ``holes`` (1/6 of person-months missing at
random) and ``enter_exit`` (contiguous spells: persons enter late and leave early).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd

MONTHS = 120
N_MUNI = 300
FORMULA = "y ~ treated_post | person_id + period"


def make_panel(rows: int, balanced: bool, seed: int = 1, kind: str | None = None) -> pd.DataFrame:
    """Person-month panel with 300 municipalities of unequal size; municipality 1804 treated.

    ``kind``: ``"balanced"`` (every person all 120 months), ``"holes"`` (about 1/6 of the
    person-months missing at random) or ``"enter_exit"`` (each person observed in one
    contiguous spell: 40 % enter after the first month, 40 % leave before the last, so the
    person-by-month graph is sparser and alternating projections need many more sweeps).
    Default: ``"balanced"`` if ``balanced`` else ``"holes"``.
    """
    kind = kind or ("balanced" if balanced else "holes")
    rng = np.random.default_rng(seed)
    if kind == "enter_exit":
        persons = rows // (MONTHS // 3) + 1  # more than enough: spells average > MONTHS / 2
        # spells of at least 2 months: no singleton person (pyfixest would drop it)
        start = np.where(rng.random(persons) < 0.4, rng.integers(1, MONTHS - 1, persons), 0)
        stop = np.where(rng.random(persons) < 0.4,
                        start + 2 + (rng.random(persons) * (MONTHS - 2 - start)).astype(int),
                        MONTHS)
        length = stop - start
        persons = int(np.searchsorted(np.cumsum(length), rows)) + 1
        start, length = start[:persons], length[:persons]
        length[-1] -= length.sum() - rows  # exactly ``rows`` rows
        if length[-1] < 2:
            length[-1] += 2
    else:
        keep_share = 1.0 if kind == "balanced" else 5 / 6
        persons = int(round(rows / MONTHS / keep_share))
    sizes = rng.lognormal(0, 1, N_MUNI)
    muni_of_person = rng.choice(N_MUNI, size=persons, p=sizes / sizes.sum()).astype(np.int16)
    muni_of_person[:600] = 0  # the treated municipality (code 1804) has at least 600 persons
    if kind == "enter_exit":
        pid = np.repeat(np.arange(persons, dtype=np.int32), length)
        first = np.repeat(np.cumsum(length) - length, length)
        month = (np.arange(len(pid)) - first + np.repeat(start, length)).astype(np.int16)
    else:
        pid = np.repeat(np.arange(persons, dtype=np.int32), MONTHS)
        month = np.tile(np.arange(MONTHS, dtype=np.int16), persons)
    if kind == "holes":
        keep = rng.random(len(pid)) < keep_share
        pid, month = pid[keep], month[keep]
    muni = muni_of_person[pid]
    codes = np.array([f"{1804 + k:04d}" for k in range(N_MUNI)])
    labels = pd.period_range("2008-01", periods=MONTHS, freq="M").astype(str)
    post = (month >= 60).astype(np.int8)
    treated = (muni == 0).astype(np.int8)
    alpha = rng.normal(0, 1, persons)
    shock = rng.normal(0, 0.05, (N_MUNI, MONTHS))
    y = (alpha[pid] + 0.01 * month + shock[muni, month] + 0.03 * treated * post
         + rng.normal(0, 1, len(pid)))
    return pd.DataFrame({
        "person_id": pid,
        "municipality": pd.Categorical.from_codes(muni, categories=codes),
        "period": pd.Categorical.from_codes(month, categories=labels),
        "post": post,
        "treated_post": (treated * post).astype(float),
        "y": y,
    })


def _serve_pyfixest(rows: int, panel: str) -> None:
    """Child process: build the panel, warm pyfixest up, then fit on each ``fit <tol>`` line."""
    import warnings

    import pyfixest as pf
    from _harness import self_time

    warnings.simplefilter("ignore")  # fixef_tol's deprecation notice, singleton notes
    df = make_panel(rows, False, kind=panel)
    small = make_panel(200_000, False, seed=2, kind=panel)
    pf.feols(FORMULA, data=small, vcov={"CRV1": "municipality"})  # JIT warm-up
    print(json.dumps({"ready": pf.__version__, "rows": len(df)}), flush=True)
    for line in sys.stdin:
        tol = line.split()[1]
        kw = {} if tol == "default" else {"fixef_tol": float(tol)}

        def fit():
            m = pf.feols(FORMULA, data=df, vcov={"CRV1": "municipality"}, **kw)
            return [float(m.coef()["treated_post"]), float(m.se()["treated_post"])]

        print(json.dumps(self_time(fit)), flush=True)


class Peer:
    """A persistent pyfixest child process (its own venv), driven line by line."""

    def __init__(self, python: str, rows: int, panel: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.abspath(__file__))}
        self.proc = subprocess.Popen([python, os.path.abspath(__file__), "--serve", panel,
                                      "--rows", str(rows)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)
        self.version = json.loads(self.proc.stdout.readline())["ready"]

    def fit(self, tol: str):
        from _harness import SelfTimed

        self.proc.stdin.write(f"fit {tol}\n")
        self.proc.stdin.flush()
        r = json.loads(self.proc.stdout.readline())
        return SelfTimed(r["answer"], r["usage"])

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def _rel(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def _old_placebo(fit, units) -> np.ndarray:
    """Placebo estimates of ``units`` the previous way: each column demeaned by MAP."""
    from ips_study.inference.placebo_fit import _controls_piece, _solve
    from ips_study.within import Demeaner

    rows, dm, _, _ = _controls_piece(fit)
    slow = Demeaner(dm.fe, dm.weights, fast=False)
    yt = slow(fit.y[rows])
    out = []
    for u in units:
        Dt = slow((fit.unit[rows] == u)[:, None] * fit.B[rows])
        out.append(_solve(Dt.T @ Dt, Dt.T @ yt, np.zeros((fit.p, 0)), np.zeros((0, 0)),
                          np.zeros(0))[0])
    return np.array(out)


def bench_panel(panel: str, args) -> None:
    import warnings

    from _harness import Contender, compare

    import ips_study
    from ips_study.config import StudyConfig
    from ips_study.designs.did import fit_panel

    warnings.simplefilter("ignore", UserWarning)
    warnings.simplefilter("ignore", RuntimeWarning)  # RMSPE of units without pre-periods
    cfg = StudyConfig(freq="month")
    df = make_panel(args.rows, False, kind=panel)
    label = {"holes": "1/6 holes", "enter_exit": "persons entering and leaving",
             "balanced": "balanced"}[panel]
    n = f"{len(df) / 1e6:g}M rows"

    def ours():
        res = fit_panel(df, outcome="y", config=cfg, inference="cluster")
        ours.res = res
        return [res.estimate, res.std_error]

    ours()  # untimed: imports and first-touch of the code paths
    dm = ours.res.fit.demeaner
    path = ("closed form" if ours.res.fit.closed_form else
            "direct two-way solve, streamed in person blocks" if ours.res.fit.streamed else
            "direct two-way solve" if dm.schur() is not None else "MAP")
    me = Contender("ips_study", ours, ips_study.__version__ if hasattr(ips_study, "__version__")
                   else "worktree", f"fit_panel(inference='cluster'), {path}")
    if args.pyfixest_python:
        peer = Peer(args.pyfixest_python, args.rows, panel)
        try:
            tight = Contender("pyfixest", lambda: peer.fit("1e-12"), peer.version,
                              f"feols('{FORMULA}', vcov={{'CRV1': 'municipality'}}, "
                              "fixef_tol=1e-12), warm, own process")
            compare(f"TWFE, {n}, {label}", f"did_twfe_{panel}", [me, tight],
                    equal=lambda a, b: _rel(a, b), tolerance=1e-8, repeats=args.repeats,
                    target=10.0, notes=f"{len(df)} rows; estimate and CRV1 SE, relative "
                    "difference; pyfixest demeaner tolerance 1e-12")
            if args.pyfixest_default:
                loose = Contender("pyfixest", lambda: peer.fit("default"), peer.version,
                                  "feols defaults (fixef_tol=1e-6), warm, own process")
                compare(f"TWFE, {n}, {label}, pyfixest defaults", f"did_twfe_{panel}_default",
                        [me, loose], equal=lambda a, b: _rel(a, b), tolerance=1e-4,
                        repeats=args.repeats, notes="pyfixest at its default demeaner "
                        "tolerance: faster, answers about 1e-5 apart on enter/exit")
        finally:
            peer.close()
    if args.placebo:
        res = ours.res
        from ips_study.inference.randomization import placebo_estimates

        batch, codes = placebo_estimates(res.fit)
        sizes = np.bincount(res.fit.unit, minlength=res.fit.n_units)[codes]
        ok = np.flatnonzero(np.isfinite(batch[:, 0]))  # identified placebos
        order = ok[np.argsort(sizes[ok])]
        pick = [order[-1], order[len(order) // 2], order[0]]
        t0 = time.perf_counter()
        old = _old_placebo(res.fit, codes[pick])
        old_s = time.perf_counter() - t0
        diff = float(np.max(np.abs(batch[pick, 0] - old)))
        pl = Contender("ips_study", lambda: np.array(list(
            res.with_inference("placebo").extras["placebo_estimates"].values())),
                       "worktree", "res.with_inference('placebo'), all controls at once")
        compare(f"Placebo-in-space, {n}, {label}, {len(codes)} placebos",
                f"did_placebo_{panel}", [pl], equal=lambda a, b: 0.0, tolerance=0.0,
                repeats=args.repeats, notes=(
                    f"goal <= 15 s wall; {len(ok)} of {len(codes)} placebos identified. "
                    "Check against the previous one-column-at-a-time MAP "
                    f"path on 3 placebos (largest, median, smallest control): max abs "
                    f"difference {diff:.1e} (tolerance 1e-10); those 3 took {old_s:.1f} s "
                    "the previous way"))
        print(f"placebo check vs one-at-a-time MAP: {diff:.2e}", flush=True)
        if diff > 1e-10:
            raise SystemExit("placebo estimates differ from the previous path")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--panels", nargs="+", default=["holes", "enter_exit"],
                    choices=["balanced", "holes", "enter_exit"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pyfixest-python", help="python of a venv with pyfixest installed")
    ap.add_argument("--pyfixest-default", action="store_true",
                    help="also compare with pyfixest at its default tolerance")
    ap.add_argument("--placebo", action="store_true", help="time placebo-in-space too")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        _serve_pyfixest(args.rows, args.serve)
        return
    for panel in args.panels:
        bench_panel(panel, args)


if __name__ == "__main__":
    main()
