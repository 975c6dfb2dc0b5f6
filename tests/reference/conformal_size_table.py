"""Size and coverage of the conformal test (docs/inference.md, "Conformal inference").

Run from the repository root:
    PYTHONPATH=$PWD python tests/reference/conformal_size_table.py
Data-generating process: tests/test_conformal.py::_dgp (two random-walk factors, J = 10
controls, T0 = 35, T1 = 5; the treated unit is the mean of 3 controls, or of all 10 when DiD
is to be correctly specified), errors i.i.d. normal, AR(1) with rho = 0.4, or Student-t(5).
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from test_conformal import _dgp  # noqa: E402

from ips_study.inference.conformal import conformal_interval, conformal_test  # noqa: E402


def run(method, permutation, errors, reps=4000, seed=2026):
    rng = np.random.default_rng(seed)
    rej, t = 0, time.perf_counter()
    for _ in range(reps):
        Y, T0 = _dgp(rng, rho=0.4 if errors == "ar1" else 0.0,
                     df=5 if errors == "t5" else None, mix=10 if method == "did" else 3)
        p = conformal_test(Y, treated=Y.shape[0] - 1, first_post=T0, method=method,
                           permutation=permutation, n_perm=199,
                           seed=int(rng.integers(1 << 31))).p_value
        rej += p <= 0.05
    r = rej / reps
    return r, np.sqrt(r * (1 - r) / reps), (time.perf_counter() - t) / reps


def coverage(method, reps=400, seed=7):
    rng = np.random.default_rng(seed)
    cov = excl = 0
    t = time.perf_counter()
    for _ in range(reps):
        Y, T0 = _dgp(rng, effect=2.0, mix=10 if method == "did" else 3)
        ci = conformal_interval(Y, treated=Y.shape[0] - 1, first_post=T0, method=method,
                                permutation="iid", n_perm=199, alpha=0.1, grid_points=41)
        lo, hi = ci.loc[0, ["lower", "upper"]]
        cov += lo <= 2 <= hi
        excl += not lo <= 0 <= hi
    return cov / reps, excl / reps, (time.perf_counter() - t) / reps


if __name__ == "__main__":
    for method in ("did", "sc"):
        for permutation in ("mb", "iid"):
            for errors in ("iid", "ar1", "t5"):
                r, se, sec = run(method, permutation, errors)
                print(f"size {method:3s} {permutation:3s} {errors:4s} {100 * r:5.1f} % "
                      f"(SE {100 * se:.1f})  {1000 * sec:.1f} ms/rep")
    for method in ("did", "sc"):
        c, e, sec = coverage(method)
        print(f"coverage {method} 90% CI: {100 * c:.1f} %, excludes 0: {100 * e:.1f} %, "
              f"{1000 * sec:.0f} ms/rep")
