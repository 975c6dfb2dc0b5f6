"""Time-to-event episodes from month panels, checked against a plain per-person reference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.survival.tte import PanelFrequencyError, build_tte, person_level

from .survival_dgp import simulate_panel

CFG = StudyConfig(design="closed")


def random_panel(n=60, months=40, seed=0):
    """Persistent random benefit/work sequences with gaps, moves and IPS starts."""
    rng = np.random.default_rng(seed)
    starts = pd.date_range("2012-06-01", periods=months, freq="MS")
    ips = {"1804": pd.Timestamp("2013-01-01"), "1806": pd.Timestamp("2013-09-01")}
    rows = []
    for i in range(n):
        base = ["1804", "1805", "1806"][rng.integers(0, 3)]
        move = rng.integers(0, months) if rng.random() < 0.4 else months
        dest = ["1804", "1805", "1806"][rng.integers(0, 3)]
        hb = dis = emp = 0
        for k in range(months):
            hb = hb if rng.random() < 0.9 else 1 - hb
            emp = emp if rng.random() < 0.85 else 1 - emp
            dis = 1 if rng.random() < 0.01 else dis
            if rng.random() < 0.05:      # a gap month (not in the panel)
                continue
            rows.append(dict(person_id=f"q{i:03d}", municipality=base,
                             current_municipality=base if k < move else dest,
                             period_start=starts[k], age=25 + k // 12 + i % 15,
                             sex="F" if i % 2 else "M", disability=float(dis),
                             health_benefit=float(max(hb, dis)), employed=float(emp)))
    df = pd.DataFrame(rows)
    df["period"] = df["period_start"].dt.strftime("%Y-%m")
    df["ips_start"] = pd.to_datetime(df["municipality"].map(ips))
    df["exposed"] = (df["ips_start"] <= df["period_start"]).astype(np.int8)
    return df, ips


def reference_tte(panel, ips, cfg, age_breaks=(18, 25, 30, 35)):
    """Obvious per-person loop over months (the definition, written out)."""
    out = []
    for pid, d in panel.sort_values("period_start").groupby("person_id", sort=True):
        mon = (d.period_start.dt.year * 12 + d.period_start.dt.month - 1).to_numpy()
        if d.disability.iloc[0] > 0:
            continue
        hb_run = work_run = 0
        recs = []
        for j in range(len(d)):
            r = d.iloc[j]
            if j > 0 and mon[j] != mon[j - 1] + 1:
                hb_run = work_run = 0
            hb_run = hb_run + 1 if r.health_benefit > 0 else 0
            w = r.employed > 0 and r.health_benefit == 0
            work_run = work_run + 1 if w else 0
            ev = 1 if (r.disability > 0 or hb_run >= cfg.onset_months) else (
                2 if work_run >= cfg.sustained_work_months else 0)
            cur = r.current_municipality
            exposed = int(cur in ips and ips[cur] <= r.period_start)
            band = sum(r.age >= b for b in age_breaks)
            recs.append((mon[j] - mon[0], ev, exposed, cur, band, r.period_start.year))
            if ev:
                break
        for k, ev, *cov in recs:
            prev = out[-1] if out else None
            if (prev and prev["person_id"] == pid and prev["stop"] == k and prev["cov"] == cov
                    and prev["event"] == 0):
                prev["stop"], prev["event"] = k + 1, ev
            else:
                out.append(dict(person_id=pid, start=k, stop=k + 1, event=ev, cov=cov))
    return pd.DataFrame(out)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_definition(seed):
    panel, ips = random_panel(seed=seed)
    ours = build_tte(panel, CFG)
    ref = reference_tte(panel, ips, CFG)
    assert len(ours) == len(ref)
    np.testing.assert_array_equal(ours["person_id"], ref["person_id"])
    np.testing.assert_array_equal(ours[["start", "stop", "event"]].to_numpy(),
                                  ref[["start", "stop", "event"]].to_numpy())
    np.testing.assert_array_equal(ours["exposed"], [c[0] for c in ref["cov"]])
    np.testing.assert_array_equal(ours["municipality"], [c[1] for c in ref["cov"]])


def test_events_only_on_last_episode_and_both_causes_seen():
    ours = build_tte(random_panel(n=120, seed=4)[0], CFG)
    last = ~ours["person_id"].duplicated(keep="last")
    assert (ours.loc[~last, "event"] == 0).all()
    assert {1, 2} <= set(ours["event"])
    assert (ours["stop"] > ours["start"]).all()


def test_short_spells_are_not_events():
    months = pd.period_range("2012-01", periods=30, freq="M")
    hb = [1.0] * 11 + [0.0] + [1.0] * 11 + [0.0] * 7      # two 11-month runs: no onset
    emp = [0.0] * 23 + [1.0] * 5 + [0.0, 1.0]              # a 5-month work run: no event
    panel = pd.DataFrame({"person_id": "a", "municipality": "1805", "period": months.strftime("%Y-%m"),
                          "period_start": months.to_timestamp(), "exposed": 0, "age": 30,
                          "sex": "M", "disability": 0.0, "health_benefit": hb, "employed": emp})
    tte = build_tte(panel, CFG)
    assert tte["event"].sum() == 0 and tte["stop"].max() == 30
    panel.loc[11, "health_benefit"] = 1.0                  # now one 23-month run
    assert build_tte(panel, CFG).iloc[-1][["stop", "event"]].tolist() == [12, 1]


def test_calendar_time_scale_gives_delayed_entry():
    panel, _ = random_panel(seed=5)
    cfg = StudyConfig(design="open", window_start=pd.Timestamp("2012-01-01"))
    tte = build_tte(panel, cfg)
    first = tte.groupby("person_id")["start"].min()
    # panel starts 2012-06 = month 5 after the window start; gaps can delay entry further
    assert first.min() >= 5
    assert (tte.groupby("person_id")["entry"].first() == first).all()


def test_baseline_exposure_is_itt():
    panel, _ = random_panel(seed=6)
    a = build_tte(panel, CFG, exposure="current")
    b = build_tte(panel, CFG, exposure="baseline")
    movers = panel.loc[panel.municipality != panel.current_municipality, "person_id"].unique()
    assert len(movers) > 0
    stayers_a = a[~a.person_id.isin(movers)].drop(columns=["municipality"])
    stayers_b = b[~b.person_id.isin(movers)].drop(columns=["municipality"])
    pd.testing.assert_frame_equal(stayers_a.reset_index(drop=True), stayers_b.reset_index(drop=True))


def test_prevalent_disability_excluded_or_kept():
    panel, _ = random_panel(seed=7)
    pid = panel.person_id.iloc[0]
    panel.loc[panel.person_id == pid, "disability"] = 1.0
    assert pid not in set(build_tte(panel, CFG)["person_id"])
    kept = build_tte(panel, CFG, exclude_prevalent=False)
    assert kept.loc[kept.person_id == pid, ["start", "stop", "event"]].values.tolist() == [[0, 1, 1]]


def test_year_panel_is_refused():
    panel, _ = random_panel(n=3)
    panel["period"] = panel["period_start"].dt.strftime("%Y")
    with pytest.raises(PanelFrequencyError, match="MONTH panel"):
        build_tte(panel, CFG)
    with pytest.raises(ValueError, match="lacks column"):
        build_tte(panel.drop(columns="employed"), CFG)


def test_person_level_and_dgp_event_rates():
    panel = simulate_panel(300, seed=11)
    tte = build_tte(panel, CFG)
    pl = person_level(tte)
    assert len(pl) == tte["person_id"].nunique()
    assert pl["status"].isin([0, 1, 2]).all()
    assert (pl["time"] > pl["entry"]).all()
