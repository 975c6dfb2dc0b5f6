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
    munis = np.array(MUNIS)
    ips_k = np.array([starts.get_loc(IPS[m]) if m in IPS else 10**6 for m in MUNIS])
    frail = np.exp(rng.normal(0, frailty_sd, len(MUNIS)))
    kk = np.arange(months)[None, :]
    base = np.where(rng.random(n) < 0.35, 0, rng.integers(1, len(MUNIS), n))
    move_k = np.where(rng.random(n) < 0.2, rng.integers(1, months, n), 10**6)
    dest = rng.integers(0, len(MUNIS), n)
    last = np.where(rng.random(n) < 0.7, months - 1, rng.integers(5, months, n))
    age0 = rng.integers(18, 38, n)
    sex = np.where(rng.random(n) < 0.5, "F", "M")
    cur = np.where(kk < move_k[:, None], base[:, None], dest[:, None])
    exposed = kk >= ips_k[cur]
    p1 = 1 - np.exp(-h1 * frail[cur] * np.exp(beta * exposed))
    p2 = 1 - np.exp(-h2)
    u = rng.random((n, months))
    ev1 = u < p1
    ev2 = (u >= p1) & (u < p1 + p2) & (kk >= 5)
    any_ev = (ev1 | ev2) & (kk <= last[:, None])
    K = np.where(any_ev.any(1), any_ev.argmax(1), 10**6)
    onset = ev1[np.arange(n), np.minimum(K, months - 1)] & (K < 10**6)
    comp = (K < 10**6) & ~onset
    hb = np.zeros((n, months))
    dis = np.zeros((n, months))
    emp = np.zeros((n, months))
    # decoy spells that are too short to be events
    s1 = rng.integers(0, months - 12, n)
    l1 = rng.integers(1, 11, n)
    hb[(rng.random(n) < 0.3)[:, None] & (kk >= s1[:, None]) & (kk < (s1 + l1)[:, None])] = 1
    s2 = rng.integers(0, months - 6, n)
    l2 = rng.integers(1, 5, n)
    emp[(rng.random(n) < 0.3)[:, None] & (kk >= s2[:, None]) & (kk < (s2 + l2)[:, None])] = 1
    Kc = K[:, None]
    via_run = onset & (K >= 11) & (rng.random(n) < 0.5)
    run = via_run[:, None] & (kk >= Kc - 11) & (kk <= Kc)
    hb[run] = 1
    emp[run] = 0
    dp = (onset & ~via_run)[:, None] & (kk >= Kc)
    dis[dp] = 1
    hb[onset[:, None] & (kk >= Kc)] = 1
    work = comp[:, None] & (kk >= Kc - 5) & (kk <= Kc)
    emp[work] = 1
    hb[work] = 0
    emp[comp[:, None] & (kk > Kc)] = 1
    i, k = np.nonzero(kk <= last[:, None])
    df = pd.DataFrame({
        "person_id": np.array([f"p{j:05d}" for j in range(n)], dtype=object)[i],
        "municipality": munis[base[i]], "current_municipality": munis[cur[i, k]],
        "age": age0[i] + k // 12, "sex": sex[i], "disability": dis[i, k],
        "health_benefit": hb[i, k], "employed": emp[i, k]})
    df["period_start"] = starts.to_numpy()[k]
    df["period"] = np.asarray(starts.strftime("%Y-%m"), dtype=object)[k]
    ips_dates = pd.to_datetime(pd.Series([IPS.get(m) for m in MUNIS])).to_numpy()
    df["ips_start"] = ips_dates[base[i]]
    df["treated"] = (df["municipality"] == "1804").astype(np.int8)
    df["post"] = (df["period_start"] >= pd.Timestamp("2013-01-01")).astype(np.int8)
    df["exposed"] = (df["ips_start"].notna() & (df["ips_start"] <= df["period_start"])).astype(np.int8)
    df["event_time"] = starts.year.to_numpy()[k] - 2013
    df["months_observed"] = 1
    return df
