"""A tiny data-generating process for the survival tests: a closed-cohort person-month panel.

Month ``k`` (0 = baseline 2012-01) of person ``i`` ends in onset of long-term benefit
dependence with hazard ``h1 * frailty[m] * exp(beta * exposed_ik)`` and in sustained work with
hazard ``h2``; ``exposed`` switches on when the current municipality starts IPS (1804 in
2013-01, 1806 in 2015-01) and changes at moves. Onset is written into the panel either as a
disability pension start in month k or as the 12th month of an unbroken health-benefit run;
sustained work as the 6th month of an employment run without health benefit. Short spells
(< 12 / < 6 months) that must *not* count as events are sprinkled in before.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MUNIS = ["1804", "1805", "1806", "1807", "1808", "1809", "1810", "1811"]
IPS = {"1804": pd.Timestamp("2013-01-01"), "1806": pd.Timestamp("2015-01-01")}


def simulate_panel(n=600, *, beta=-0.5, h1=0.02, h2=0.01, months=72, seed=1, frailty_sd=0.0):
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2012-01-01", periods=months, freq="MS")
    ips_k = {m: (starts.get_loc(IPS[m]) if m in IPS else 10**6) for m in MUNIS}
    frail = dict(zip(MUNIS, np.exp(rng.normal(0, frailty_sd, len(MUNIS)))))
    rows = []
    for i in range(n):
        base = MUNIS[0] if rng.random() < 0.35 else MUNIS[rng.integers(1, len(MUNIS))]
        move_k = rng.integers(1, months) if rng.random() < 0.2 else 10**6
        dest = MUNIS[rng.integers(0, len(MUNIS))]
        last = months - 1 if rng.random() < 0.7 else rng.integers(5, months)
        age0 = rng.integers(18, 38)
        sex = "F" if rng.random() < 0.5 else "M"
        hb = np.zeros(months)
        dis = np.zeros(months)
        emp = np.zeros(months)
        # decoy spells that are too short to be events
        if rng.random() < 0.3:
            s = rng.integers(0, months - 12)
            hb[s:s + rng.integers(1, 11)] = 1
        if rng.random() < 0.3:
            s = rng.integers(0, months - 6)
            emp[s:s + rng.integers(1, 5)] = 1
        cur = []
        for k in range(last + 1):
            m = base if k < move_k else dest
            cur.append(m)
            ex = k >= ips_k[m]
            u = rng.random()
            p1 = 1 - np.exp(-h1 * frail[m] * np.exp(beta * ex))
            p2 = 1 - np.exp(-h2)
            if u < p1:
                if k >= 11 and rng.random() < 0.5:
                    hb[k - 11:k + 1] = 1
                    emp[k - 11:k + 1] = 0
                else:
                    dis[k:] = 1
                    hb[k:] = 1
                hb[k + 1:] = 1
                break
            if u < p1 + p2:
                lo = max(0, k - 5)
                if k >= 5:
                    emp[lo:k + 1] = 1
                    hb[lo:k + 1] = 0
                    emp[k + 1:] = 1
                    break
        last_k = last
        for k in range(len(cur), last_k + 1):
            cur.append(cur[-1])
        for k in range(last_k + 1):
            rows.append((f"p{i:05d}", base, cur[k], k, age0 + k // 12, sex,
                         dis[k], hb[k], emp[k]))
    df = pd.DataFrame(rows, columns=["person_id", "municipality", "current_municipality", "k",
                                     "age", "sex", "disability", "health_benefit", "employed"])
    df["period_start"] = starts[df["k"].to_numpy()]
    df["period"] = df["period_start"].dt.strftime("%Y-%m")
    df["ips_start"] = pd.to_datetime(df["municipality"].map(IPS))
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = (df["period_start"] >= pd.Timestamp("2013-01-01")).astype(np.int8)
    df["exposed"] = (df["ips_start"].notna() & (df["ips_start"] <= df["period_start"])).astype(np.int8)
    df["event_time"] = df["period_start"].dt.year - 2013
    df["months_observed"] = 1
    return df.drop(columns="k")
