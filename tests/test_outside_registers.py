"""``read_registers`` -> ``build_panel`` and the caseload metrics on foreign codings that the
data contract (SPEC section 2) allows, as an outside tester delivers them.

Each delivery variant of one small synthetic register set must give the very same panel:
SSB sex codes ``1``/``2`` (text, and int8 in a Stata file), extra columns (with non-ASCII
names), FD-Trygd months ``YYYYMM`` (text in CSV, integers in Parquet), municipality codes
held as integers (leading zero lost) in ``.dta`` and ``.parquet``, dates typed as dates in
Parquet and Stata, columns in another order and rows shuffled. The caseload test marked
"(bug)" failed before session 8.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.caseload import caseload_metrics

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def delivery(tmp_path_factory):
    from ips_study.synthetic import write_synthetic

    d = tmp_path_factory.mktemp("registers") / "base"
    write_synthetic(d, persons=1500, seed=5, format="csv", messy=False)
    return d


def _panel(d):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = ips.build_panel(ips.read_registers(d), freq="year")
    return p.sort_values(["person_id", "period"]).reset_index(drop=True)


def _csv(d, t):
    return pd.read_csv(d / f"{t}.csv", dtype=str, keep_default_na=False)


def _month_aligned(x):
    """Benefit spells that start on a 1st and end on a month end (or are open): the ones a
    YYYYMM delivery can carry without changing them."""
    s, e = pd.to_datetime(x.start_date), pd.to_datetime(x.end_date.replace("", None))
    return (s.dt.day == 1) & (e.isna() | e.dt.is_month_end), s, e


def _sex_ssb_text(d):
    x = _csv(d, "persons")
    x.assign(sex=x.sex.map({"M": "1", "F": "2"})).to_csv(d / "persons.csv", index=False)


def _sex_int8_dates_dta(d):
    x = _csv(d, "persons")
    x = x.assign(sex=x.sex.map({"M": 1, "F": 2}).astype("int8"),
                 birth_date=pd.to_datetime(x.birth_date),
                 death_date=pd.to_datetime(x.death_date.replace("", None)))
    x.to_stata(d / "persons.dta", write_index=False, version=118,
               convert_dates={"birth_date": "td", "death_date": "td"})
    (d / "persons.csv").unlink()


def _extra_columns(d):
    for t in ("persons", "residence", "benefits", "employment"):
        x = _csv(d, t)
        x.insert(0, "løpenr", range(len(x)))
        x.assign(kommentar="ø").to_csv(d / f"{t}.csv", index=False)


def _municipality_int_dta(d):
    x = _csv(d, "residence")
    assert x.municipality.str.startswith("0").any()          # leading zeros to lose
    x.assign(municipality=x.municipality.astype(int)).to_stata(
        d / "residence.dta", write_index=False, version=118)
    (d / "residence.csv").unlink()


def _municipality_int_parquet(d):
    for t in ("residence", "municipalities"):
        x = _csv(d, t)
        x.assign(municipality=x.municipality.astype(int)).to_parquet(d / f"{t}.parquet",
                                                                      index=False)
        (d / f"{t}.csv").unlink()


def _dates_parquet(d):
    for t in ("residence", "employment"):
        x = _csv(d, t)
        for c in ("start_date", "end_date"):
            x[c] = pd.to_datetime(x[c].replace("", None))
        x.to_parquet(d / f"{t}.parquet", index=False)
        (d / f"{t}.csv").unlink()


def _reordered_shuffled(d):
    for t in ("persons", "residence", "benefits", "employment", "diagnoses", "municipalities"):
        x = _csv(d, t)
        x[x.columns[::-1]].sample(frac=1, random_state=1).to_csv(d / f"{t}.csv", index=False)


VARIANTS = {
    "SSB sex codes as text": _sex_ssb_text,
    "SSB sex int8 and typed dates in .dta": _sex_int8_dates_dta,
    "extra columns": _extra_columns,
    "municipality as integer in .dta": _municipality_int_dta,
    "municipality as integer in .parquet": _municipality_int_parquet,
    "dates typed in .parquet": _dates_parquet,
    "columns reordered, rows shuffled": _reordered_shuffled,
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_delivery_coding_gives_the_same_panel(delivery, tmp_path, variant):
    d = tmp_path / "v"
    shutil.copytree(delivery, d)
    VARIANTS[variant](d)
    pd.testing.assert_frame_equal(_panel(d), _panel(delivery), check_dtype=False,
                                  check_categorical=False)


def test_yyyymm_months_text_and_integer_give_the_iso_panel(delivery, tmp_path):
    """FD-Trygd months: start month -> first day, end month -> last day (SPEC section 2)."""
    iso, txt, num = (tmp_path / k for k in ("iso", "txt", "num"))
    for d in (iso, txt, num):
        shutil.copytree(delivery, d)
    x = _csv(delivery, "benefits")
    ok, s, e = _month_aligned(x)
    assert ok.sum() > 100
    x = x[ok]
    s, e = s[ok], e[ok]
    x.to_csv(iso / "benefits.csv", index=False)
    x.assign(start_date=s.dt.strftime("%Y%m"),
             end_date=e.dt.strftime("%Y%m").fillna("")).to_csv(txt / "benefits.csv", index=False)
    x.assign(start_date=(s.dt.year * 100 + s.dt.month).astype("int64"),
             end_date=(e.dt.year * 100 + e.dt.month).astype("Int64")).to_parquet(
        num / "benefits.parquet", index=False)
    (num / "benefits.csv").unlink()
    ref = _panel(iso)
    for d in (txt, num):
        pd.testing.assert_frame_equal(_panel(d), ref, check_dtype=False, check_categorical=False)


def _caseload():
    cl = pd.DataFrame({
        "person_id": ["101", "102", "103", "104"], "specialist_id": ["7", "7", "8", "8"],
        "service": ["psykisk helse", "psykisk helse", "NAV-kontor", "NAV-kontor"],
        "referral_date": ["2014-01-02", "2014-01-10", "2014-02-01", "2014-03-01"],
        "start_date": ["2014-01-12", "2014-01-20", "2014-02-11", "2014-03-10"],
        "first_employer_contact_date": ["2014-02-01", None, "2014-03-01", None],
        "job_start_date": [None, None, None, None], "end_date": [None] * 4,
        "end_reason": [None] * 4})
    emp = pd.DataFrame({"person_id": ["101", "103", "999"], "employer_id": ["e1", "e2", "e3"],
                        "start_date": ["2014-05-01"] * 3, "end_date": [None] * 3,
                        "fte": [50.0, 100.0, 100.0], "monthly_wage": [20000.0, 30000.0, 1.0]})
    weeks = pd.DataFrame({"specialist_id": ["7", "8"], "week_start": ["2014-09-22"] * 2,
                          "employer_meetings": [3, 5], "hours_worked": [37.5, 30.0],
                          "hours_in_community": [20.0, 10.0]})
    return cl, emp, weeks


def _values(m):
    return m.set_index(["group_by", "group", "metric", "statistic"])["value"].astype(float)


def test_caseload_ids_read_as_floats_match_text_ids():
    """(bug) ids read as floats (an integer column with a gap) became "101.0" and matched no
    employment spell or weekly report: nobody counted as in work, without a word."""
    cl, emp, weeks = _caseload()
    ref = _values(caseload_metrics(cl, weeks, "2014-09-30", by=["overall", "specialist"],
                                   employment=emp))
    assert ref[("overall", "all", "in_work", "count")] == 2
    got = _values(caseload_metrics(
        cl.assign(person_id=cl.person_id.astype(float), specialist_id=cl.specialist_id.astype(float)),
        weeks.assign(specialist_id=weeks.specialist_id.astype(float)), "2014-09-30",
        by=["overall", "specialist"], employment=emp.assign(person_id=[101.0, 103.0, np.nan])))
    pd.testing.assert_series_equal(got, ref)


def test_caseload_warns_when_ids_lost_leading_zeros():
    cl, emp, weeks = _caseload()
    emp = emp.assign(person_id=["00101", "00103", "00999"])       # text with leading zeros
    with pytest.warns(UserWarning, match=r"no person_id of ips_caseload appears in "
                                         r"employment.*leading zeros"):
        caseload_metrics(cl.assign(person_id=cl.person_id.astype(int)), weeks, "2014-09-30",
                         employment=emp)
