"""Speed work must not change results: fingerprints of the validated tables, the report and the
quarantine files, compared with fingerprints stored from the implementation before the Arrow
rewrite of the loader (commit dffdd4c, pandas 2.3, pyarrow 26, numpy 2.4).

A fingerprint is a SHA-256 over every typed table (column names, dtypes, the Python types in
object columns and ``pandas.util.hash_pandas_object`` of the values, index included), the
report (``to_dict()`` without the machine-specific paths) and the bytes of every quarantine
file. It covers the embedded synthetic delivery, every case of the bad-input corpus and a
small delivery that exercises the Parquet text paths (text dates in ISO and ``YYYYMM``, padded
ids, bad values, several row groups) in three encodings.

Regenerate the stored values (only after a deliberate change of behaviour) with
``.venv/bin/python -m tests.test_registers_identity``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from ips_study.registers import validate_directory
from ips_study.registers.validate import _run

from .test_registers_corpus import CASES, _delivery

HERE = Path(__file__).parent


def fingerprint(data: Path, qdir: Path) -> str:
    """SHA-256 of the tables, report and quarantine files from validating ``data``."""
    report, tables = _run(data, qdir, None)
    h = hashlib.sha256()
    rep = report.to_dict()
    for key in ("source", "quarantine_dir"):
        rep.pop(key, None)
    # error messages name the directory, which differs from run to run
    h.update(json.dumps(rep, sort_keys=True, default=str).replace(str(data), "<data>").encode())
    for name in sorted(tables):
        df = tables[name]
        h.update(name.encode())
        h.update(repr([(c, str(t)) for c, t in df.dtypes.items()]).encode())
        for c in df.columns:
            if df[c].dtype == object:  # str stays str, missing stays None
                h.update(repr(sorted({type(v).__name__ for v in df[c]})).encode())
        h.update(pd.util.hash_pandas_object(df, index=True).to_numpy().tobytes())
    if qdir.exists():
        for f in sorted(qdir.iterdir()):
            h.update(f.name.encode())
            h.update(f.read_bytes())
    return h.hexdigest()


def text_delivery(root: Path, fmt: str, rows: int = 6000, seed: int = 7) -> Path:
    """Persons and benefits with text dates, as a delivery converted from CSV or SAS would be.

    ``fmt``: ``"parquet"`` (plain strings), ``"parquet_dict"`` (dictionary-typed strings) or
    ``"csv"``. Rows include padded ids, ``YYYYMM`` months, unparseable and out-of-range dates,
    unknown codes, unknown persons, duplicates, overlaps and touching spells.
    """
    rng = np.random.default_rng(seed)
    n_p = rows // 10
    pid = np.array([f"P{i:05d}" for i in range(n_p)], dtype=object)
    birth = rng.integers(np.datetime64("1950-01-01").astype(int), np.datetime64("2000-01-01").astype(int), n_p)
    persons = pd.DataFrame({"person_id": pid, "birth_date": birth.astype("datetime64[D]").astype(str),
                            "sex": rng.choice(["F", "M", "2", "1", "f"], n_p), "death_date": ""})
    persons.loc[3, "person_id"] = persons.loc[2, "person_id"]  # conflicting duplicate key
    who = np.sort(rng.integers(0, n_p + 20, rows))  # ids beyond n_p are unknown persons
    start = rng.integers(np.datetime64("2005-01-01").astype(int), np.datetime64("2020-01-01").astype(int), rows)
    end = start + rng.integers(-3, 400, rows)  # a few end before start
    s_txt = start.astype("datetime64[D]").astype(str).astype(object)
    e_txt = end.astype("datetime64[D]").astype(str).astype(object)
    ym = rng.random(rows) < 0.1
    s_txt[ym] = [s[:4] + s[5:7] for s in s_txt[ym]]
    ym_e = rng.random(rows) < 0.1
    e_txt[ym_e] = [s[:4] + s[5:7] for s in e_txt[ym_e]]
    e_txt[rng.random(rows) < 0.05] = ""
    for i, bad in zip(rng.choice(rows, 6, replace=False), ["01.02.2012", "2012-02-30", "x", "1870-01-01",
                                                           "2031-05-01", "2013-13"]):
        s_txt[i] = bad
    ids = np.array([f"P{i:05d}" for i in who], dtype=object)
    ids[rng.random(rows) < 0.01] = " P00001 "
    benefit = rng.choice(["disability_pension", "work_assessment", "sickness", "unemployment",
                          "Sickness", "pension"], rows, p=[0.2, 0.3, 0.3, 0.15, 0.04, 0.01])
    grade = rng.choice(["", "50", "100", "50.0", "120", "abc"], rows, p=[0.4, 0.25, 0.3, 0.03, 0.01, 0.01])
    dup = rng.choice(rows, rows // 20)  # exact duplicates of earlier rows
    benefits = pd.DataFrame({"person_id": ids, "benefit": benefit, "start_date": s_txt, "end_date": e_txt,
                             "grade": grade, "case_no": np.arange(rows).astype(str)})
    benefits = pd.concat([benefits, benefits.iloc[dup]], ignore_index=True)
    data = root / fmt
    data.mkdir(parents=True)
    small = {
        "residence": "person_id,municipality,start_date,end_date\nP00000,1804,2000-01-01,\n",
        "employment": "person_id,employer_id,start_date,end_date,fte,monthly_wage\n",
        "diagnoses": "person_id,date,system,code,source\n",
        "municipalities": "municipality,name,county,centrality,ips_start\n1804,Bodo,18,3,2013-01-01\n",
    }
    for name, text in small.items():
        (data / f"{name}.csv").write_text(text)
    for name, df in (("persons", persons), ("benefits", benefits)):
        table = pa.Table.from_pandas(df, preserve_index=False)
        if fmt == "csv":
            pacsv.write_csv(table, data / f"{name}.csv")
            continue
        if fmt == "parquet_dict":
            table = pa.table({c: pc_dict(col) for c, col in zip(table.column_names, table.columns)})
        pq.write_table(table, data / f"{name}.parquet", row_group_size=1000)
    return data


def pc_dict(col):
    import pyarrow.compute as pc

    return pc.dictionary_encode(col)


TEXT_FORMATS = ("parquet", "parquet_dict", "csv")

#: Fingerprints of the implementation at commit dffdd4c (before the Arrow loader).
EXPECTED: dict[str, str] = {
    "synthetic_data": "cac3a75e6f187ca0c5677a6b89e8676b978d36552023d6e67c57a4a28c96a254",
    "text_parquet": "3d9fd7e10023a9db57d9c51cf90e8c2fa6ae2bdde4beb7152d6b1c13742b7a00",
    "text_parquet_dict": "3d9fd7e10023a9db57d9c51cf90e8c2fa6ae2bdde4beb7152d6b1c13742b7a00",
    "text_csv": "e4d89b73d3fe286836e529df17c2576a83cd92f08e97623caa2e6059a3bb1e4c",
    "corpus_birth_year_out_of_range": "c8cdef3ecaf767d1bd876481623008c430ae053d9c885f3e8eacf889f7c683fd",
    "corpus_blank_lines": "9cd74e6baba0ed042f3accfef159c2f7d68569e504a271ab2ae9f9f83bf18e84",
    "corpus_bom": "13bce3c257eb23a5b932ed31eaf2234bee5498087bbc12a4c3117ab50abb099a",
    "corpus_caseload_end_before_referral": "aef42a15ef569141a03a136109bf1ac55fcbd8b6e2ceea9fd801396f42806a1e",
    "corpus_column_wholly_wrong_type": "a10b8aabd1312655707cfa8f76a3b77fd0be3612532249f6550aab5428e8c9dd",
    "corpus_death_before_birth": "4fa0b26ac8aeae4b247b475a871ef3ed32d0add3f917da015d98478fb712727f",
    "corpus_diagnosis_codes": "3c23968499799ddb9b2515985c77188ce76609688bc7da4e79d72f430279c5d1",
    "corpus_duplicate_person_conflicting": "1242120f436629d6a165a7e541f27d24584da84612bef3ffc6178ea7a62a317f",
    "corpus_duplicate_person_identical": "b6de829c2816da196732ed415ea2b95ca9b34f47341d6ed82a56090cdf1e3053",
    "corpus_empty_file": "b75017f4cf3bcb25078da2cb6ab0a5fc7bc660cc5515237113e18fbe8b22576e",
    "corpus_encoding_cp1252": "d1402ee17b97c3fc31a09c6f758d543ce99397190548bd9590d501a86a14afee",
    "corpus_end_before_start": "28fb9191847ca5c91af9fd83b97f80b4d15a989863d99bc974ad0f1effc79914",
    "corpus_fdtrygd_yyyymm_dates": "29835a6843d061154a3276c46db42c45c0e06bf8673a64cd2704fa5408baa5e8",
    "corpus_future_dates": "c7ecda83ed2907af1edd96d175240796c71470f7521d412774b7333090e88a4d",
    "corpus_grade_out_of_range": "21006190d2c3e737f7341ad9b8367dacc7fa8f3d2c2d21ff4eeadf1f6d3451b9",
    "corpus_header_case_and_extra_columns": "1ada06f8307aa835339075ea6c033ac2156afe2c52844c74a736486a2c8cf28c",
    "corpus_header_only": "c2995a256768484445e654fe7c20f67ceab9f7bef257356aa7bac3581bbfa31a",
    "corpus_malformed_rows": "44d0706d567454cab72b4339620698750afe8e23fb4ccf5dbe1deb7d9043bcc9",
    "corpus_missing_column": "f08dbcf8f167006650075d6855996f98fce1c576912327bc3a122aa43e2bc754",
    "corpus_missing_nullable_column": "607067bcfbc44fb4b7981e4f9ffc280665867d6b58516854a392b648ad6955b6",
    "corpus_missing_optional_table": "bbd569c01a7e9dd567854e2b18fd9a6bdebc315831e21315e6d9094f6ca6dac9",
    "corpus_missing_table": "7dd46549e7fafde18b07f6465ce9f23585827dfe416e2cb6b8a8d302accee148",
    "corpus_missing_values": "f146d34909075ec4779a132f708e2a7f990d163df35e522e5d5871b5c4e8fc61",
    "corpus_municipality_bad_county_or_letters": "430023655b5667cf7308d70af71b20db646c37238d0befa1df38f4383777a179",
    "corpus_municipality_lost_leading_zero": "155975a0d31a48c6c18c960d7b267f860143f2dd5df9dd23e32e32bea315e9a5",
    "corpus_municipality_table_problems": "a532e62408e296c0a183d9c7e4457a674642c435a8931bbb8e156b7c84a35a50",
    "corpus_municipality_three_digit_not_a_code": "503f16d7a41aba81b0d638f276d3255cf83a21321881381b8ebf8c20a48fd5da",
    "corpus_negative_fte": "ac0a66b00491f45a36053e9acb5522abb669e28045d6c7d39d288dec50d31dc8",
    "corpus_negative_wage": "83e0227ce751f2cdee60f04da0b887bd483367eb9a7a7a7f9cc87e0d339e4254",
    "corpus_overlapping_employment": "bc9d450ca523d26547537660b03728ac4a6d5b417c302f93c3e3b8abac003005",
    "corpus_residence_same_day_two_municipalities": "d691a0553ed264633f7e91c851c09696a8e4b81a465b1f3659c2c1762513fbdc",
    "corpus_residence_stale_end": "0a98beefa0b8096dc7a958d891a0ba213c6809c66221c38dcabd9b4199478c98",
    "corpus_semicolon_excel": "f2e40a81b3cab073419659d123517437c4e4f29b010681e6797e6d2502525450",
    "corpus_sex_codes": "ea6e32974f91faacad019298cbcbe46e07442e8dcebdcd1d19e5eaf5929da49a",
    "corpus_specialist_week_problems": "d16671939852dffd5b4511e1dd5d591598e0cb809f040ef322cd14a172947462",
    "corpus_spell_merging": "dc3b6ffbe3bca8fdab58499e458dd4a23408e002259b354ec61339c30bc08d7b",
    "corpus_tab_delimited": "63106f41fdcf3430645514d27310029d32d445f43d33cba540dd05cb0a8fc576",
    "corpus_unknown_benefit_code": "fd0475fd20901732d106199506d36f259a57f5410bc105a73f83f54de86c2e7e",
    "corpus_unknown_person": "e485d767120f5c14c0ca86154092ad546cf232f52bfcd8caa8b16760630e6b33",
    "corpus_unparseable_dates": "8b2035a571fbcec03598d3a8742fc66823f38c4f2077e665f6e7f94c2bdd78ba",
    "corpus_wage_as_text": "e8f7ab35236e2048d11b18ba67fc66ee9b7d8f1888994c0aeaf58059f4661510",
}


def test_synthetic_delivery_unchanged(tmp_path):
    assert fingerprint(HERE.parent / "synthetic_data", tmp_path / "q") == EXPECTED["synthetic_data"]


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_text_delivery_unchanged(fmt, tmp_path):
    data = text_delivery(tmp_path, fmt)
    assert fingerprint(data, tmp_path / "q") == EXPECTED[f"text_{fmt}"]


def test_corpus_unchanged(tmp_path):
    changed = []
    for case in CASES:
        data, _ = _delivery(case, tmp_path / case)
        if fingerprint(data, tmp_path / case / "q") != EXPECTED[f"corpus_{case}"]:
            changed.append(case)
    assert not changed


def test_fingerprint_sees_a_changed_row(tmp_path):
    data = text_delivery(tmp_path, "csv")
    before = fingerprint(data, tmp_path / "q1")
    lines = (data / "benefits.csv").read_text().splitlines()
    lines[5] = lines[5].replace("sickness", "unemployment") if "sickness" in lines[5] else lines[5] + "x"
    (data / "benefits.csv").write_text("\n".join(lines) + "\n")
    assert fingerprint(data, tmp_path / "q2") != before
    assert not validate_directory(data, quarantine_dir=tmp_path / "q3").fatal


def _generate() -> dict[str, str]:
    import tempfile

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        out["synthetic_data"] = fingerprint(HERE.parent / "synthetic_data", tmp / "qs")
        for fmt in TEXT_FORMATS:
            out[f"text_{fmt}"] = fingerprint(text_delivery(tmp / "text", fmt), tmp / f"q_{fmt}")
        for case in CASES:
            out[f"corpus_{case}"] = fingerprint(_delivery(case, tmp / case)[0], tmp / case / "q")
    return out


if __name__ == "__main__":
    json.dump(_generate(), sys.stdout, indent=4)
    print()
