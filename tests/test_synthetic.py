"""Synthetic registers: API, table conventions, reproducibility, consistency of the worlds."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from ips_study.registers.schema import TABLES
from ips_study.synthetic import Effects, MessSpec, generate, write_synthetic
from ips_study.synthetic.geography import municipality_table


@pytest.fixture(scope="module")
def small():
    return generate(4000, seed=5)


def test_every_spec_table_with_schema_columns_and_types(small):
    rs = small.registers
    for name in ("persons", "residence", "benefits", "employment", "diagnoses", "ips_caseload",
                 "specialist_weeks", "municipalities"):
        df = rs[name]
        assert list(df.columns) == TABLES[name].names, name
        for col in TABLES[name].columns:
            s = df[col.name]
            if col.kind == "date":
                assert s.dtype == "datetime64[ns]", (name, col.name)
            elif col.kind in ("id", "str", "code", "municipality"):
                assert s.dropna().map(type).eq(str).all(), (name, col.name)
            elif col.kind == "float":
                assert s.dtype == "float64", (name, col.name)
            if not col.nullable and col.kind == "date":
                assert s.notna().all(), (name, col.name)
            if col.allowed:
                assert set(s.dropna()) <= set(col.allowed), (name, col.name)
    assert rs["residence"]["municipality"].str.fullmatch(r"\d{4}").all()
    assert rs["persons"]["person_id"].is_unique


def test_spells_are_ordered_and_residence_does_not_overlap(small):
    rs = small.registers
    for name in ("residence", "benefits", "employment"):
        df = rs[name]
        assert (df["end_date"].isna() | (df["end_date"] >= df["start_date"])).all(), name
    r = rs["residence"].sort_values(["person_id", "start_date"])
    same = r["person_id"].eq(r["person_id"].shift())
    assert (r["start_date"][same] > r["end_date"].shift()[same]).all()
    # work counts only with fte > 0 and wage > 0, and every simulated job does
    e = rs["employment"]
    assert (e["fte"].between(1, 100) & (e["monthly_wage"] > 0)).all()


def test_population_covers_ages_18_to_40_with_dynamics(small):
    rs = small.registers
    p = rs["persons"].set_index("person_id")
    first_w, last_w = pd.Timestamp("2006-01-01"), pd.Timestamp("2020-12-31")
    age_start = (first_w - p["birth_date"]).dt.days / 365.25
    age_end = (last_w - p["birth_date"]).dt.days / 365.25
    assert ((age_end >= 18) & (age_start < 41)).all()
    assert p["death_date"].notna().sum() > 0
    r = rs["residence"]
    moves = r.groupby("person_id")["municipality"].nunique()
    assert (moves > 1).mean() > 0.03            # movers between municipalities
    assert r["end_date"].notna().mean() > 0.05  # emigration, death, moves end spells
    assert r["start_date"].max() > pd.Timestamp("2010-01-01")  # immigrants arrive later


def test_geography_matches_issue():
    geo = municipality_table()
    assert len(geo) >= 21 and geo["municipality"].is_unique
    bodo = geo.set_index("municipality").loc["1804"]
    assert bodo["name"] == "Bodø" and bodo["ips_start"] == pd.Timestamp("2013-01-01")
    later = geo["ips_start"].dropna()
    later = later[later > pd.Timestamp("2013-01-01")]
    assert 3 <= len(later) <= 8 and later.dt.year.between(2014, 2019).all()
    assert geo["weight"].max() / geo["weight"].min() > 10
    assert set(geo["centrality"]) >= {3.0, 4.0, 5.0, 6.0}
    assert (geo["weight"] >= geo.set_index("municipality").loc["1804", "weight"]).sum() >= 2


def test_counterfactual_shares_population_and_differs_only_for_participants(small):
    f, c = small.registers, small.counterfactual
    for name in ("persons", "residence", "diagnoses", "municipalities"):
        pd.testing.assert_frame_equal(f[name], c[name])
    assert "ips_caseload" not in c
    changed = set()
    for name in ("benefits", "employment"):
        m = f[name].merge(c[name], how="outer", indicator=True)
        changed |= set(m.loc[m["_merge"] != "both", "person_id"])
    # only people who lived in an IPS municipality after its start can differ
    geo = f["municipalities"].dropna(subset=["ips_start"])
    r = f["residence"].merge(geo[["municipality", "ips_start"]], on="municipality")
    exposed = set(r.loc[r["end_date"].isna() | (r["end_date"] >= r["ips_start"]), "person_id"])
    assert changed and changed <= exposed
    assert changed & set(f["ips_caseload"]["person_id"])


def test_null_effect_gives_identical_worlds():
    d = generate(1500, seed=9, effects=Effects.null())
    for name in ("benefits", "employment"):
        pd.testing.assert_frame_equal(d.registers[name], d.counterfactual[name])


def test_caseload_is_consistent_with_register_paths(small):
    rs = small.registers
    c = rs["ips_caseload"]
    assert len(c) > 0 and c["person_id"].is_unique
    assert (c["start_date"] >= c["referral_date"]).all()
    ok = c["end_date"].isna() | (c["end_date"] >= c["start_date"])
    assert ok.all()
    assert (c["first_employer_contact_date"].dropna() > c.loc[c["first_employer_contact_date"].notna(),
                                                              "start_date"]).all()
    # every job start in the quality register is the start of an employment spell of that person
    jobs = c.dropna(subset=["job_start_date"])[["person_id", "job_start_date"]]
    e = rs["employment"][["person_id", "start_date"]]
    hit = jobs.merge(e, left_on=["person_id", "job_start_date"], right_on=["person_id", "start_date"])
    assert len(jobs) > 0 and len(hit.drop_duplicates("person_id")) == len(jobs)
    assert (jobs["job_start_date"] > c.loc[jobs.index, "start_date"]).all()
    # referred people lived in Bodø, were 18-40 and had a mental-health contact before referral
    r = rs["residence"]
    lived = c.merge(r, on="person_id")
    lived = lived[(lived["start_date_y"] <= lived["referral_date"])
                  & (lived["end_date_y"].isna() | (lived["end_date_y"] >= lived["referral_date"]))]
    assert (lived["municipality"] == "1804").all() and len(lived) == len(c)
    d = rs["diagnoses"]
    mh = d[d["code"].str[0].isin(["F", "P"])].merge(c[["person_id", "referral_date"]], on="person_id")
    mh = mh[(mh["date"] <= mh["referral_date"])]
    assert set(mh["person_id"]) == set(c["person_id"])


def _digest(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir())}


def test_same_seed_byte_identical_files_different_seed_differs(tmp_path):
    a = write_synthetic(tmp_path / "a", persons=1200, seed=4)
    b = write_synthetic(tmp_path / "b", persons=1200, seed=4)
    c = write_synthetic(tmp_path / "c", persons=1200, seed=5)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert set(da) >= {f"{t}.parquet" for t in ("persons", "residence", "benefits", "employment",
                                                 "diagnoses", "ips_caseload", "specialist_weeks",
                                                 "municipalities")} | {"truth.json"}
    assert da == db
    assert da["persons.parquet"] != dc["persons.parquet"]
    assert da["benefits.parquet"] != dc["benefits.parquet"]


def test_csv_format_and_clean_write(tmp_path, small):
    out = small.write(tmp_path / "csv", format="csv", messy=MessSpec.none())
    b = pd.read_csv(out / "benefits.csv", dtype=str, keep_default_na=False)
    assert len(b) == len(small.registers["benefits"])
    assert b["start_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert (b["end_date"] == "").any()  # open spells are empty
    m = pd.read_csv(out / "municipalities.csv", dtype=str)
    assert "0403" in set(m["municipality"])
    with pytest.raises(ValueError):
        small.write(tmp_path / "x", format="xlsx")


def test_generate_rejects_bad_sizes():
    with pytest.raises(ValueError):
        generate(0)
    with pytest.raises(ValueError):
        Effects(job_hazard=-0.1)


def test_mental_health_codes_and_other_codes(small):
    d = small.registers["diagnoses"]
    assert set(d["system"]) == {"ICD10", "ICPC2"}
    assert (d.loc[d["system"] == "ICD10", "source"] == "specialist").all()
    first = d["code"].str[0]
    assert first.isin(["F", "P"]).mean() > 0.6 and (~first.isin(["F", "P"])).sum() > 0
    assert np.isin(["F20", "F31"], d["code"]).all()  # psychosis and bipolar codes


def test_streaming_writer_gives_the_same_files_as_in_memory(tmp_path):
    from ips_study.synthetic.writer import stream_synthetic

    a = write_synthetic(tmp_path / "mem", persons=1500, seed=8)
    b = stream_synthetic(tmp_path / "stream", n_persons=1500, seed=8, progress=False)
    da, db = _digest(a), _digest(b)
    assert set(da) == set(db)
    for name in da:
        if name != "truth.json":
            assert da[name] == db[name], name
    import json
    t = json.loads((b / "truth.json").read_text())
    assert t["method"] == "monthly_states" and set(t["att"]) == set(json.loads(
        (a / "truth.json").read_text())["att"])


def test_chunked_streaming_is_identical_with_two_worker_processes(tmp_path, monkeypatch):
    import importlib

    from ips_study.synthetic.writer import stream_synthetic

    gen = importlib.import_module("ips_study.synthetic.generate")  # the module, not the function

    monkeypatch.setattr(gen, "CHUNK_SIZE", 700)   # three chunks of a small population
    a = stream_synthetic(tmp_path / "one", n_persons=1500, seed=6, progress=False, workers=1)
    b = stream_synthetic(tmp_path / "two", n_persons=1500, seed=6, progress=False, workers=2)
    assert _digest(a) == _digest(b)
    ids = pd.read_parquet(a / "persons.parquet")["person_id"]
    assert len(ids) == 1500 and ids.is_unique
