"""Programme metrics on hand-built caseloads with known answers (issue 8)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ips_study import caseload as cl
from ips_study import disclosure

D = "2014-09-30"
NAT = None


def _ep(pid, spec, service, ref, start=NAT, contact=NAT, job=NAT, end=NAT, reason=NAT):
    return {"person_id": pid, "specialist_id": spec, "service": service, "referral_date": ref,
            "start_date": start, "first_employer_contact_date": contact, "job_start_date": job,
            "end_date": end, "end_reason": reason}


def hand_caseload() -> pd.DataFrame:
    """Eight persons, nine episodes; the expected values are worked out in the tests."""
    rows = [
        # A: active, in work; 10 days to first meeting, 30 days to job search
        _ep("A", "s1", "psychosis", "2014-01-01", "2014-01-11", "2014-02-10", "2014-03-01"),
        # B: active, never a job start, no employer contact yet
        _ep("B", "s1", "psychosis", "2014-02-01", "2014-02-06"),
        # C: ended with no active solution
        _ep("C", "s2", "psychosis", "2014-03-01", "2014-03-21", "2014-04-10", NAT,
            "2014-06-30", "no active solution"),
        # D: referred, first meeting not yet held (waiting)
        _ep("D", "s1", "municipal", "2014-09-20"),
        # E: referred after the reference date: not counted at all
        _ep("E", "s2", "municipal", "2014-10-05", "2014-10-10"),
        # F: active; contact and job start after D are not yet known at D
        _ep("F", "s2", "municipal", "2014-05-01", "2014-05-08", "2014-10-15", "2014-11-01"),
        # G: transferred from s1 to s2, one person; job start recorded in the new episode
        _ep("G", "s1", "psychosis", "2014-01-01", "2014-01-04", "2014-01-20", NAT,
            "2014-04-01", "transfer"),
        _ep("G", "s2", "psychosis", "2014-04-01", "2014-04-15", NAT, "2014-06-01"),
        # H: ended in ordinary work
        _ep("H", "s2", "municipal", "2013-10-01", "2013-10-15", "2013-11-01", "2014-01-15",
            "2014-05-01", "ordinary work"),
    ]
    return pd.DataFrame(rows)


def hand_weeks() -> pd.DataFrame:
    return pd.DataFrame({
        "specialist_id": ["s1", "s1", "s2", "s2"],
        "week_start": ["2014-09-22", "2014-09-15", "2014-09-22", "2014-06-30"],
        "employer_meetings": [10, 6, 8, 100],  # the last week lies outside (D - 91, D]
        "hours_worked": [37.5, 37.5, 30.0, 37.5],
        "hours_in_community": [25.0, 20.0, 15.0, 0.0],
    })


def _value(m, metric, stat, group="all"):
    row = m[(m["metric"] == metric) & (m["statistic"] == stat) & (m["group"] == group)]
    assert len(row) == 1
    return row.iloc[0]


def test_overall_metrics_known_answers():
    m = cl.caseload_metrics(hand_caseload(), hand_weeks(), D)
    assert _value(m, "ever_offered", "count")["value"] == 7  # A B C D F G H (G once)
    assert _value(m, "active", "count")["value"] == 4  # A B F G
    assert _value(m, "in_work", "count")["value"] == 2  # A G
    assert _value(m, "share_in_work", "share")["value"] == 0.5
    assert _value(m, "share_in_work", "share")["n"] == 4
    # days to job search: A 30, C 20, G 16, H 17 (F's contact is after D)
    assert _value(m, "days_to_job_search", "median")["value"] == 18.5
    assert _value(m, "days_to_job_search", "mean")["value"] == pytest.approx(20.75)
    assert _value(m, "days_to_job_search", "median")["n"] == 4
    # referral -> first meeting: A 10, B 5, C 20, F 7, G 3 (first episode), H 14
    assert _value(m, "days_to_first_meeting", "median")["value"] == 8.5
    assert _value(m, "days_to_first_meeting", "mean")["value"] == pytest.approx(59 / 6)
    # weeks in (2014-07-01, 2014-09-30]: meetings 10, 6, 8; community 60 of 105 hours
    assert _value(m, "employer_meetings", "mean")["value"] == 8
    assert _value(m, "employer_meetings", "median")["value"] == 8
    assert _value(m, "employer_meetings", "mean")["n"] == 3
    assert _value(m, "community_share", "ratio")["value"] == pytest.approx(60 / 105)
    # s1 holds A and B, s2 holds F and G (after the transfer)
    assert _value(m, "caseload_per_specialist", "mean")["value"] == 2
    assert _value(m, "caseload_per_specialist", "max")["value"] == 2


def test_groups_partition_the_overall_counts():
    m = cl.caseload_metrics(hand_caseload(), hand_weeks(), D, by=["overall", "service", "specialist"])
    spec = m[m["group_by"] == "specialist"]
    # intake attribution: s1 took A B D G, s2 took C F H; current: s1 A B, s2 F G
    assert _value(spec, "ever_offered", "count", "s1")["value"] == 4
    assert _value(spec, "ever_offered", "count", "s2")["value"] == 3
    assert _value(spec, "active", "count", "s2")["value"] == 2
    assert _value(spec, "in_work", "count", "s2")["value"] == 1
    assert _value(spec, "employer_meetings", "mean", "s1")["value"] == 8
    assert _value(spec, "community_share", "ratio", "s2")["value"] == 0.5
    for g in ("service", "specialist"):
        part = m[m["group_by"] == g]
        for metric in ("ever_offered", "active", "in_work"):
            total = _value(m, metric, "count")["value"]
            assert part[(part["metric"] == metric) & (part["statistic"] == "count")]["value"].sum() == total


def test_transfer_between_specialists_is_one_person_without_gap():
    cases = pd.DataFrame([
        _ep("T", "s1", "psychosis", "2014-01-01", "2014-01-05", NAT, NAT, "2014-09-01", "transfer"),
        # new specialist assigned but the first meeting is still ahead at D
        _ep("T", "s2", "psychosis", "2014-09-02"),
    ])
    people = cl.person_status(cases, D)
    assert len(people) == 1
    assert people.loc[0, "status"] == "active"
    assert people.loc[0, "current_specialist"] == "s2"
    assert people.loc[0, "intake_specialist"] == "s1"
    m = cl.caseload_metrics(cases, date=D)
    assert _value(m, "active", "count")["value"] == 1
    assert _value(m, "days_to_first_meeting", "median")["value"] == 4
    # without the transfer reason the person would have left the service and be waiting again
    plain = cases.assign(end_reason=["moved", None])
    assert cl.person_status(plain, D).loc[0, "status"] == "waiting"


def test_re_referral_counts_once():
    cases = pd.DataFrame([
        _ep("R", "s1", "municipal", "2013-01-01", "2013-01-05", NAT, NAT, "2013-06-01", "moved"),
        _ep("R", "s2", "municipal", "2014-02-01", "2014-02-10"),
    ])
    m = cl.caseload_metrics(cases, date=D)
    assert _value(m, "ever_offered", "count")["value"] == 1
    assert _value(m, "active", "count")["value"] == 1
    # the first meeting of the first referral: 4 days
    assert _value(m, "days_to_first_meeting", "mean")["value"] == 4
    # a job found in the earlier stay does not count for the new one; one found after a
    # transfer within the same stay does
    cases.loc[0, "job_start_date"] = "2013-03-01"
    assert _value(cl.caseload_metrics(cases, date=D), "in_work", "count")["value"] == 0
    cases.loc[0, "end_reason"] = "transfer"
    assert _value(cl.caseload_metrics(cases, date=D), "in_work", "count")["value"] == 1


def test_employment_register_defines_work_when_given():
    emp = pd.DataFrame({
        "person_id": ["A", "G", "B"], "employer_id": ["e1", "e2", "e3"],
        "start_date": pd.to_datetime(["2014-03-01", "2014-06-01", "2014-09-01"]),
        "end_date": pd.to_datetime(["2014-12-31", "2014-08-01", None]),
        "fte": [50.0, 100.0, 0.0], "monthly_wage": [10000.0, 30000.0, 0.0],
    })
    m = cl.caseload_metrics(hand_caseload(), date=D, employment=emp)
    # A works at D; G's job ended before D; B's spell has no FTE and no wage
    assert _value(m, "in_work", "count")["value"] == 1


def test_metrics_reject_unknown_grouping_and_missing_columns():
    with pytest.raises(ValueError, match="by must be"):
        cl.caseload_metrics(hand_caseload(), date=D, by="municipality")
    with pytest.raises(KeyError, match="job_start_date"):
        cl.caseload_metrics(hand_caseload().drop(columns="job_start_date"), date=D)


def test_metrics_by_quarter_match_single_dates():
    q = cl.metrics_by_quarter(hand_caseload(), hand_weeks(), "2014Q1", "2014Q3")
    assert list(q["quarter"].unique()) == ["2014Q1", "2014Q2", "2014Q3"]
    at_q2 = cl.caseload_metrics(hand_caseload(), hand_weeks(), "2014-06-30")
    got = q[q["quarter"] == "2014Q2"].drop(columns="quarter").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, at_q2)


def test_table_3_layout_and_rounding():
    t = cl.table_3(hand_caseload(), hand_weeks(), D)
    assert list(t.columns) == ["metric", "value", "report_figure", "exact", "n", "unit"]
    assert t["report_figure"].tolist() == [101, 58, 53, 24, 9, 8, 66]
    # halves round up as printed reports do: 18.5 -> 19, 8.5 -> 9
    assert t["value"].tolist() == [7, 4, 50, 19, 9, 8, 57]
    assert t.loc[6, "exact"] == pytest.approx(100 * 60 / 105)


def test_outcome_flow_counts_and_reasons():
    f = cl.outcome_flow(hand_caseload(), D).set_index("status")
    assert f.loc["attached", "n"] == 7
    assert f.loc["waiting", "n"] == 1
    assert f.loc["currently_attached", "n"] == 4
    assert f.loc["ended", "n"] == 2
    assert f.loc["ended_ordinary_work", "n"] == 1
    assert f.loc["ended_no_active_solution", "n"] == 1
    assert f.loc["ended_education", "n"] == 0
    assert f.loc["ended_ordinary_work", "share"] == 0.5
    assert f.loc["waiting", "n"] + f.loc["currently_attached", "n"] + f.loc["ended", "n"] == 7


def test_classify_end_reason_vocabularies():
    got = [cl.classify_end_reason(r) for r in
           ("completed_in_work", "completed_without_work", "disability_pension", "education",
            "arbeid", "overført", "died_or_emigrated", float("nan"))]
    assert got == ["ordinary_work", "no_active_solution", "no_active_solution", "education",
                   "ordinary_work", "transfer", "other", "other"]


# -- follow-up checks -----------------------------------------------------------------------
def test_absent_specialist_flags_their_job_seekers():
    weeks = pd.DataFrame({
        "specialist_id": ["s1"] * 4 + ["s2"] * 4,
        "week_start": list(pd.date_range("2014-09-01", periods=4, freq="7D")) * 2,
        "employer_meetings": [5] * 8,
        # s2 reports zero hours in the last two weeks and no report in the third
        "hours_worked": [37.5] * 4 + [37.5, 37.5, 0.0, 0.0],
        "hours_in_community": [20.0] * 8,
    }).drop(index=5)
    absent = cl.absent_specialists(weeks, D, min_weeks=2)
    assert absent.to_dict("records") == [{"specialist_id": "s2", "weeks_absent": 3}]
    assert cl.absent_specialists(weeks, D, min_weeks=4).empty
    flagged = cl.flag_absent_specialist(hand_caseload(), weeks, D)
    assert sorted(flagged["person_id"]) == ["F", "G"]


def test_long_without_work_and_caseload_limit():
    long = cl.flag_long_without_work(hand_caseload(), D, days=180)
    # B: since 2014-02-06 (236 days) without a job; F only 145 days
    assert long["person_id"].tolist() == ["B"]
    assert long["days_in_service"].tolist() == [236]
    big = pd.DataFrame([_ep(f"p{i}", "s9", "municipal", "2014-01-01", "2014-01-02")
                        for i in range(21)])
    over = cl.flag_caseload_above_limit(big, D)
    assert over.to_dict("records") == [{"specialist_id": "s9", "active": 21, "limit": 20}]
    assert cl.flag_caseload_above_limit(big.iloc[:20], D).empty


def test_team_list_lists_every_active_job_seeker_with_flags():
    weeks = hand_weeks()
    t = cl.team_list(hand_caseload(), weeks, D, days_without_work=180)
    assert sorted(t["person_id"]) == ["A", "B", "F", "G"]
    flags = dict(zip(t["person_id"], t["flags"]))
    assert flags["B"] == "236 days without work"
    assert flags["A"] == ""
    # s2 filed no report for the last week before D: absent one week is below the default 2
    assert "absent" not in flags["F"]


# -- disclosure of the metrics and the quarterly report ----------------------------------------
def synthetic_caseload(n: int = 160, seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A programme running from 2013-01: 4 specialists, 2 services (one small), transfers."""
    rng = np.random.default_rng(seed)
    ref = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 640, n), "D")
    start = ref + pd.to_timedelta(rng.integers(2, 20, n), "D")
    contact = start + pd.to_timedelta(rng.integers(5, 60, n), "D")
    job = np.where(rng.random(n) < 0.5, start + pd.to_timedelta(rng.integers(30, 300, n), "D"),
                   pd.NaT)
    end = np.where(rng.random(n) < 0.4, start + pd.to_timedelta(rng.integers(60, 500, n), "D"),
                   pd.NaT)
    reasons = rng.choice(["completed_in_work", "completed_without_work", "education", "moved"], n)
    service = np.where(rng.random(n) < 0.05, "nav", np.where(rng.random(n) < 0.4, "psychosis_team",
                                                              "municipal_mental_health"))
    df = pd.DataFrame({
        "person_id": [f"P{i:05d}" for i in range(n)],
        "specialist_id": rng.choice(["JS01", "JS02", "JS03", "JS04"], n),
        "service": service, "referral_date": ref, "start_date": start,
        "first_employer_contact_date": contact, "job_start_date": pd.to_datetime(job),
        "end_date": pd.to_datetime(end), "end_reason": np.where(pd.isna(end), None, reasons),
    })
    weeks = pd.DataFrame([
        {"specialist_id": s, "week_start": w, "employer_meetings": int(rng.poisson(8)),
         "hours_worked": 37.5, "hours_in_community": float(rng.uniform(20, 30))}
        for s in ["JS01", "JS02", "JS03", "JS04"]
        for w in pd.date_range("2013-01-07", "2014-12-29", freq="W-MON")])
    return df, weeks


def _recoverable(values: pd.Series, hidden: pd.Series, total: float, total_hidden: bool) -> bool:
    """Can exactly one hidden cell be recovered as total minus the shown cells?"""
    return (not total_hidden) and hidden.sum() == 1


def test_protect_metrics_hides_small_groups_and_their_complements():
    df, weeks = synthetic_caseload()
    m = cl.metrics_by_quarter(df, weeks, "2014Q2", "2014Q3", by=["overall", "service", "specialist"])
    sup = cl.protect_metrics(m, min_count=5)
    shown = sup.frame
    for (q, g), part in m[m["group_by"] != "overall"].groupby(["quarter", "group_by"]):
        for metric in ("ever_offered", "active", "in_work"):
            rows = part[(part["metric"] == metric) & (part["statistic"] == "count")]
            hidden = sup.mask.loc[rows.index, "value"]
            small = (rows["value"] > 0) & (rows["value"] < 5)
            assert hidden[small].all()  # primary
            o = m[(m["quarter"] == q) & (m["group_by"] == "overall") & (m["metric"] == metric)
                  & (m["statistic"] == "count")].index[0]
            # secondary: never exactly one hidden group under a shown total
            assert not _recoverable(rows["value"], hidden, m.at[o, "value"], sup.mask.at[o, "value"])
    # the small "nav" service has fewer than 5 in work: count, share and the complement hidden
    nav = m[(m["group"] == "nav") & m["metric"].isin(["in_work", "share_in_work"])]
    assert (nav.loc[nav["metric"] == "in_work", "value"] < 5).all()
    assert sup.mask.loc[nav.index, "value"].all()
    for q in ("2014Q2", "2014Q3"):
        part = m[(m["quarter"] == q) & (m["group_by"] == "service")]
        iw = part[part["metric"] == "in_work"].set_index("group")["value"]
        act = part[part["metric"] == "active"].set_index("group")["value"]
        hid_iw = sup.mask.loc[part[part["metric"] == "in_work"].index, "value"].to_numpy()
        hid_act = sup.mask.loc[part[part["metric"] == "active"].index, "value"].to_numpy()
        # "not in work" = active - in work must not be computable where it is small
        small_niw = ((act - iw) > 0).to_numpy() & ((act - iw) < 5).to_numpy()
        assert (hid_iw | hid_act)[small_niw].all()
    # every share/median is hidden where its n is below 5
    rates = m["statistic"].isin(["share", "median", "mean", "ratio"]) & (m["n"] < 5)
    assert sup.mask.loc[rates, "value"].all()
    assert shown.loc[sup.mask["value"], "value"].isna().all()


def test_quarterly_report_renders_and_passes_the_checker(tmp_path):
    df, weeks = synthetic_caseload()
    reviews = pd.DataFrame([{"review": "2013", **{f"item_{i}": 3 for i in range(1, 26)}},
                            {"review": "2014", **{f"item_{i}": 4 + (i % 2) for i in range(1, 26)}}])
    paths = cl.quarterly_report(df, weeks, "2014Q3", tmp_path, fidelity=reviews)
    names = {p.name for p in paths}
    for part in ("metrics", "specialists", "trend", "outcome_flow", "follow_up", "fidelity"):
        assert f"ips_2014Q3_{part}.csv" in names and f"ips_2014Q3_{part}.md" in names
    for fig in ("trend", "outcome_flow", "fidelity_profile"):
        png = tmp_path / f"ips_2014Q3_{fig}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    check = disclosure.check_outputs(tmp_path, ids=df["person_id"])
    assert check.ok, check.to_text()
    spec = pd.read_csv(tmp_path / "ips_2014Q3_specialists.csv", dtype=str)
    assert set(spec["group"]) == {"specialist 1", "specialist 2", "specialist 3", "specialist 4"}
    assert not any("JS0" in p.read_text() for p in paths if p.suffix in (".csv", ".md"))
    metrics = pd.read_csv(tmp_path / "ips_2014Q3_metrics.csv", dtype=str)
    nav = metrics[(metrics["group"] == "nav") & (metrics["metric"] == "in_work")]
    assert (nav["value"] == disclosure.SUPPRESSED).all()
    fid = pd.read_csv(tmp_path / "ips_2014Q3_fidelity.csv")
    assert fid["total"].tolist() == [75, 113]  # 13 odd items x 5 + 12 even items x 4
    assert fid["band"].tolist() == ["fair", "good"]


def test_quarterly_report_is_byte_identical_on_rerun(tmp_path):
    df, weeks = synthetic_caseload(n=60, seed=8)
    a = cl.quarterly_report(df, weeks, "2014Q2", tmp_path / "a")
    b = cl.quarterly_report(df, weeks, "2014Q2", tmp_path / "b")
    assert [p.name for p in a] == [p.name for p in b]
    for pa, pb in zip(a, b):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_quarterly_report_rejects_bad_quarter(tmp_path):
    df, weeks = synthetic_caseload(n=20)
    with pytest.raises(ValueError, match="quarter"):
        cl.quarterly_report(df, weeks, "autumn", tmp_path)


# -- Table 3 on the default synthetic data ------------------------------------------------------
SYNTHETIC_DATA = Path(__file__).resolve().parents[1] / "synthetic_data"


def _check_table_3(caseload: pd.DataFrame, weeks: pd.DataFrame) -> None:
    t = cl.table_3(caseload, weeks, "2014-09-30")
    # "within rounding": the report prints whole numbers (per cent for shares), so the exact
    # value must round to the printed figure
    off = t[(t["exact"] - t["report_figure"]).abs() > 0.5]
    assert off.empty, off[["metric", "exact", "report_figure"]].to_string()
    assert (t["value"] == t["report_figure"]).all()


@pytest.mark.skipif(not any(SYNTHETIC_DATA.glob("ips_caseload.*")),
                    reason="the embedded synthetic data (make synthetic) is not built")
def test_table_3_on_default_synthetic_data(tmp_path):
    # the committed default data, read and validated like a real delivery (raw data read-only:
    # quarantined rows go to a scratch folder)
    from ips_study.registers import read_registers

    rs = read_registers(SYNTHETIC_DATA, quarantine_dir=tmp_path / "quarantine")
    _check_table_3(rs["ips_caseload"], rs["specialist_weeks"])


@pytest.mark.slow
def test_table_3_on_freshly_generated_default_data():
    # the generator itself, at its defaults, still reproduces the report
    from ips_study.synthetic import DEFAULT_SEED, generate

    rs = generate(seed=DEFAULT_SEED).registers
    _check_table_3(rs["ips_caseload"], rs["specialist_weeks"])


def test_protect_flow_keeps_headline_counts_and_hides_complements():
    flow = pd.DataFrame({"status": ["attached", "waiting", "currently_attached", "ended",
                                    "ended_ordinary_work", "ended_education",
                                    "ended_no_active_solution", "ended_other"],
                         "n": [195, 1, 45, 149, 93, 0, 40, 16]})
    flow["share"] = flow["n"] / 195
    sup = cl.protect_flow(flow)
    hidden = dict(zip(flow["status"], sup.mask["n"]))
    assert hidden["waiting"] and not hidden["currently_attached"] and not hidden["attached"]
    # waiting + current + ended = attached and the reasons add up to ended: neither sum may
    # have exactly one hidden cell
    assert sum(hidden[s] for s in ("attached", "waiting", "currently_attached", "ended")) != 1
    reasons = ["ended", "ended_ordinary_work", "ended_education", "ended_no_active_solution",
               "ended_other"]
    assert sum(hidden[s] for s in reasons) != 1
    # the reasons' shares would give away their hidden denominator
    assert sup.mask.loc[flow["status"].str.startswith("ended_"), "share"].all()
    forced = cl.protect_flow(flow, force={"currently_attached"})
    assert forced.mask.loc[2, "n"]


def test_team_list_is_refused_for_export(tmp_path):
    t = cl.team_list(hand_caseload(), hand_weeks(), D)
    with pytest.raises(disclosure.DisclosureError, match="person identifier"):
        disclosure.export_table(t, tmp_path / "team")
    assert not any(tmp_path.iterdir())


def test_quarterly_follow_up_counts(tmp_path):
    big = pd.DataFrame([_ep(f"p{i}", "s9", "municipal", "2014-01-01", "2014-01-02")
                        for i in range(23)])
    cl.quarterly_report(big, None, "2014Q3", tmp_path)
    f = pd.read_csv(tmp_path / "ips_2014Q3_follow_up.csv")
    assert f["n"].tolist() == [0, 23, 23]  # nobody has a job after 271 days; 23 > 20
    assert f["specialists_flagged"].tolist() == [0, 1, 1]
