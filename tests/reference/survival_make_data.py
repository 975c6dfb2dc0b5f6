"""Make the small synthetic data sets behind the survival R cross-checks (fixed seeds).

Run from the repository root: ``.venv/bin/python tests/reference/survival_make_data.py``.
Writes ``tests/data/survival_tv.csv`` (cohort with time-varying exposure in counting-process
form, monthly ties, delayed entry, municipality clusters) and ``tests/data/survival_cr.csv``
(competing risks: cause 1, cause 2, censored; three groups; tied times).
"""

import numpy as np
import pandas as pd

rng = np.random.default_rng(20130101)

# -- time-varying exposure cohort -----------------------------------------------------------
n, months, n_mun = 800, 60, 20
mun0 = rng.integers(0, n_mun, n)
ips_start = np.where(np.arange(n_mun) < 6, rng.integers(6, 30, n_mun), 10_000)
female = rng.integers(0, 2, n)
age = rng.normal(0, 1, n).round(2)
frailty = np.exp(rng.normal(0, 0.3, n_mun))
entry = np.where(rng.random(n) < 0.3, rng.integers(1, 13, n), 0)
cens = rng.integers(20, months + 1, n)
move_at = np.where(rng.random(n) < 0.25, rng.integers(3, months, n), 10_000)
mun1 = np.where(move_at < 10_000, rng.integers(0, n_mun, n), mun0)
rows = []
for i in range(n):
    prev = None
    for k in range(entry[i], cens[i]):          # month k covers (k, k+1]
        m = mun0[i] if k < move_at[i] else mun1[i]
        exposed = int(k >= ips_start[m])
        h = 0.02 * frailty[m] * np.exp(-0.5 * exposed + 0.3 * female[i] + 0.2 * age[i])
        ev = rng.random() < 1 - np.exp(-h)
        if prev == (m, exposed):
            rows[-1][4] = k + 1                  # extend the current episode
        else:
            rows.append([i, m, exposed, k, k + 1, 0, female[i], age[i], int(mun0[i] < 6)])
        prev = (m, exposed)
        if ev:
            rows[-1][5] = 1
            break
tv = pd.DataFrame(rows, columns=["id", "municipality", "exposed", "start", "stop", "event",
                                 "female", "age", "treated"])
tv.to_csv("tests/data/survival_tv.csv", index=False)

# -- competing risks -------------------------------------------------------------------------
m = 300
grp = rng.integers(0, 3, m)
x1 = rng.normal(0, 1, m).round(2)
x2 = rng.integers(0, 2, m)
t1 = rng.exponential(1 / (0.10 * np.exp(0.4 * x1 - 0.5 * x2 + 0.3 * (grp == 1))), m)
t2 = rng.exponential(1 / (0.08 * np.exp(-0.3 * x1 + 0.2 * (grp == 2))), m)
c = rng.uniform(2, 15, m)
time = np.minimum(np.minimum(t1, t2), c)
status = np.where(time == c, 0, np.where(t1 < t2, 1, 2))
cr = pd.DataFrame({"time": np.ceil(time * 2) / 2, "status": status, "group": grp,
                   "x1": x1, "x2": x2})
cr.to_csv("tests/data/survival_cr.csv", index=False)
print(len(tv), tv.event.sum(), len(cr), cr.status.value_counts().to_dict())
