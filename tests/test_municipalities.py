"""Municipality code harmonisation: renames, mergers, splits, chains."""

import pandas as pd
import pytest

from ips_study.municipalities import final_codes, harmonise_residence

T = pd.Timestamp

# 2018 Trøndelag (16xx/17xx -> 50xx), a 2020 merger, and a 2024 split of a 2020 merger
CHANGES = pd.DataFrame({
    "old_code": ["1601", "1702", "1703", "1504", "1534", "1507", "1507"],
    "new_code": ["5001", "5004", "5004", "1507", "1507", "1508", "1580"],
    "valid_from": pd.to_datetime(["2018-01-01", "2018-01-01", "2018-01-01", "2020-01-01",
                                  "2020-01-01", "2024-01-01", "2024-01-01"]),
})


def test_final_codes_follow_chains_and_mark_splits():
    f = final_codes(CHANGES)
    assert f["1601"] == ("5001",)
    assert f["1702"] == f["1703"] == ("5004",)  # merger
    assert f["1504"] == ("1508", "1580")        # merged in 2020, split in 2024
    assert final_codes(CHANGES, vintage="2021-01-01")["1504"] == ("1507",)


def test_cycle_is_an_error():
    cyc = pd.DataFrame({"old_code": ["1", "2"], "new_code": ["2", "1"],
                        "valid_from": pd.to_datetime(["2018-01-01", "2019-01-01"])})
    # a later change back is not a cycle (time moves on)
    assert final_codes(cyc)["1"] == ("1",)


def test_harmonise_residence():
    res = pd.DataFrame({
        "person_id": ["a", "a", "b", "c", "d"],
        "municipality": ["1504", "1580", "1534", "1601", "1804"],
        "start_date": pd.to_datetime(["2010-01-01", "2024-02-01", "2010-01-01", "2010-01-01", "2010-01-01"]),
        "end_date": pd.to_datetime(["2024-01-31", None, None, None, None]),
    })
    out, counts = harmonise_residence(res, CHANGES)
    assert len(out) == len(res)
    assert out["municipality"].tolist() == ["1580", "1580", "1534", "5001", "1804"]
    assert out["municipality_flag"].tolist() == ["split_resolved", "", "split_unresolved", "recoded", ""]
    assert counts == {"recoded": 1, "split_resolved": 1, "split_unresolved": 1}
    assert out["original_municipality"].tolist() == res["municipality"].tolist()


def test_no_changes_is_identity():
    res = pd.DataFrame({"person_id": ["a"], "municipality": ["1804"],
                        "start_date": [T("2010-01-01")], "end_date": [pd.NaT]})
    out, counts = harmonise_residence(res, None)
    assert out["municipality"].tolist() == ["1804"] and sum(counts.values()) == 0
