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
    "corpus_benefit_after_death": "5ada00d6f370ac58f0c2a138ca3b620907bfc7f2153d61b2128f1d372260d9e6",
    "corpus_benefit_before_birth": "e2567fa68678875122a65560957f8a4230cc73248e7ba923755b1e8ae62a67c3",
    "corpus_birth_year_out_of_range": "e84531d9cea4b52b1208b960fb9fa17802f9b97e584985e42d297e807a21614a",
    "corpus_blank_lines": "5edd50900c605831aa0e16f41c5a70bb105ad2db6eb376f3e54ddcf9235bb519",
    "corpus_bom": "6c018eea576723d2e00a6e7fcf8bad5bf75d7530b76f3f8c4f39e063f08cedcc",
    "corpus_caseload_end_before_referral": "c6f891c919008ccf674de81ea35d426db152c9bd202dd6a121b5d52422a7e4cd",
    "corpus_caseload_referral_before_birth": "4f0f726f57ae3156bcf8c76a1ade11eef4206e900843e5ec6d524dfeccbd3964",
    "corpus_centrality_seven": "9f4ce0ebd28f46940b1accaa4624b6680d9dd8d36427b2381adb4ab0ae0e9d3a",
    "corpus_column_wholly_wrong_type": "06c70ee8b6c4bf3522ccdd6b5f80f18d1bd1dc8b93aed9f38f4af14642c1d125",
    "corpus_control_character_in_employer_id": "8ac316ceb264276f6aa0b929219bb1d5b6a0bb7a95ee88717750416d7bb15ca5",
    "corpus_crlf_line_endings": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_date_five_digit_year": "7c23de631052251d66c7411acad50e9743d666f02d241880da479f88aefda4a5",
    "corpus_date_year_1": "db2a335da53b845dcafbb6615600e94de3f0be42d0b3b694bf69916e668c38e6",
    "corpus_date_year_1879": "4a2d5223873082a42c7a35c3fe800459d34c2db4deaafc9cd525965b22828a01",
    "corpus_date_year_2101": "9a49c2742bafee375b1c9bcfd31745048e5f430dc0e6af9c73b6fae34abfbaa0",
    "corpus_date_year_9999": "2b164bf54768d7ea6f5aa8cc33af7ac860ae35c4d0a03dcc5a674249828f6c0c",
    "corpus_death_before_birth": "0f27d18b66fd016ed97190a462e423058661d08a44b64a5d2ef22feb2f3f82f4",
    "corpus_diagnosis_after_death": "871fb190a924f1a84ecf3561006277607dcd68dfd74060988ab3e44c7ccd1ccc",
    "corpus_diagnosis_before_birth": "609259653091a499b8155c4cba33ba44f71f338d070ec83e9e5c7a0b739a8e9f",
    "corpus_diagnosis_codes": "0a792daaf36d11fa9c6e2c93f9837a8bf17811c4d8b1879f1075f1da54c632e6",
    "corpus_duplicate_column_name": "5f056ba8fad11a5c48c04421e25f1c5c973297e9f0fd5d0c14880d37764ade92",
    "corpus_duplicate_column_name_other_case": "5f1d0823a85d58721663b1faf50d900f5bd0893329a3cc3ec385d53a757b0ca0",
    "corpus_duplicate_person_conflicting": "91a85198f4c612ed561f4d3829c345569a62167313d07eb312ded4b33af05496",
    "corpus_duplicate_person_identical": "a3b09c68c06a4e7517155d319648963012b9472ecdd80720bd153279951889ad",
    "corpus_embedded_newline_line_numbers": "ec181ea46412a5f573770526acba0cdb72e188e892fba80823b56bf63f9b814e",
    "corpus_embedded_newline_person_id": "f4eed5d9afaf1a3d3a33f5b2d9c6621674a17f3aad785c00a7597297085ee695",
    "corpus_employer_meetings_above_hours_in_week": "132b65bd973cb3f525f3a9dba218632ed2fc28d3291f34bad3c417e3b45ed298",
    "corpus_employer_meetings_at_bound": "2b7f5a21c2bc5bd97ef9bd1baf0979762d04bf09f7b98452693e26b66431e3b7",
    "corpus_employer_meetings_negative_huge": "c02d5d1463d9c5175fb25aff107c123fc20f058be576282b16b32e2a2ccd964c",
    "corpus_employment_all_unknown_persons": "a7bed0dc9a6a88345fafdbf84bceb3d497a626ec6cf9eb3071026c71525d844b",
    "corpus_employment_before_birth": "a1056b8d001dd9e03b30ff4b2123d22e68401068a75aa1d41920f259b9dd4116",
    "corpus_employment_straddles_death": "171bebcd6f7092ed9108872eeab9535c48823bd0661eacce58016d4f57c39d8d",
    "corpus_empty_file": "b75017f4cf3bcb25078da2cb6ab0a5fc7bc660cc5515237113e18fbe8b22576e",
    "corpus_empty_person_id": "1e50c9abaef9db98bd1043babafe26235adeeb48290a98af2bbec6272f65088a",
    "corpus_encoding_cp1252": "bbee73e8ee89f8016818bfee29d741dfe0f253a814f198e9820b1b9b03e00f9f",
    "corpus_end_before_start": "8f0ed77b37d49d2246942bbb84782ea518a4e766c17c086d91e04582cd88a7b8",
    "corpus_end_before_start_before_life_checks": "64dafba8aa46d3f4bc7309b7d05b9593a72ec412a9084bbe5384208554da9140",
    "corpus_fdtrygd_yyyymm_dates": "29835a6843d061154a3276c46db42c45c0e06bf8673a64cd2704fa5408baa5e8",
    "corpus_fte_1e308": "9ef96dc8715979cbf04db5398cfa75c8543b0036fca8584f577a91ca7b774aa2",
    "corpus_fte_just_above_100": "1ba3d3378b2c4b2b6540ef4e0ddf6b9eb00f98effc46593685e7c1c24d8010a4",
    "corpus_fte_nan_text": "c14e7d10b83474c40c092321070066519ccb42264067b182ba8bc12ac61e0599",
    "corpus_fte_overflow_to_infinity": "dd114ebc5fb6d8f0c80bb12dab172a4d4c8441447a5062284405a5fb308aa785",
    "corpus_future_dates": "49dc3b26f7d117417779bc5b175c6910e447c398f75554c153e0324cfad89415",
    "corpus_grade_above_100": "6aa681221b9f02140fb95637f2cc00ef77d8fa91cb1c7f7f5a492e7efc3076bf",
    "corpus_grade_out_of_range": "512069a535f7de9331062cea34ff1c6240e7b0cf0728733d66df3f9a825a1c3e",
    "corpus_header_all_quoted": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_header_case_and_extra_columns": "f69fe0bad8eef37c893dabbe8e5982ad8636193740fd0553f36f4585acc7a488",
    "corpus_header_missing_benefits": "521e341449da627b396da8a9b372d6da104ff6192bba4c436a2eab49468b0656",
    "corpus_header_missing_persons": "94d2039f20d2ac24214f774705bb375859ce6c88a91a85b91170de324e88e334",
    "corpus_header_misspelt_column": "8e5ad2320e4c70090d682a6e4c186dff1d11e27ab1c052ba06a5b87c31f78a7e",
    "corpus_header_only": "30f73c5c6538eea2541acd3b49f8f73ecf9a194b06977ee0c23bcb721a7be60a",
    "corpus_header_only_employment_is_valid": "30f73c5c6538eea2541acd3b49f8f73ecf9a194b06977ee0c23bcb721a7be60a",
    "corpus_header_only_persons": "ed30ba476d3adc7e44d3e4f5493da6d09e01d7fbad6f721ac4f96daca3448c91",
    "corpus_header_space_before_quote": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_header_spaces_inside_quotes": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_header_with_id_like_field": "0622b806a4a10fea6410e5161748271f1efe1d2dbcf02844134b54ac61e3ff8e",
    "corpus_hours_in_community_above_week": "c4745870414c6a4e70dbda3825a7920805e11f283d81ebe1421cdb0ce16b8763",
    "corpus_int_overflow_employer_meetings": "188fb95e73682e21d995f97c113dcb0c4c94c685fb2e511787cefd123a1c3a1f",
    "corpus_iso_timestamp_at_midnight": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_malformed_rows": "e71057067c9298f00b71c88847706944e1cf1878269ad14590b71b4472e0d151",
    "corpus_missing_column": "4d64f4520aa5e9e4cbde619d67a04a6978580e20a98041e5685e925a4ae0954f",
    "corpus_missing_nullable_column": "607067bcfbc44fb4b7981e4f9ffc280665867d6b58516854a392b648ad6955b6",
    "corpus_missing_optional_table": "f57c219099cd62ec0218bafe361b5a9d6f09355fa13f6e26ac1a8fe2bbe31548",
    "corpus_missing_table": "b20f048f2d0117c7ba0356ce704df7a9559c3e5e85ec2b4fed380b15f59ff725",
    "corpus_missing_values": "553b7012448ca296a1643b8b69da21688ec7f086834938c3fa0492c4147e91b3",
    "corpus_mixed_case_extension": "1f5c837c7dd704d8af2e3133b12af298852044fdb9e6a060c18928209bda58e2",
    "corpus_municipality_bad_county_or_letters": "c478a4edefc9a0edfeb5e981dfbe1f5b35ea26946146465b6d3096031a0c2687",
    "corpus_municipality_five_digits": "6a8335a82ce4f66649e3f302718119defdd6af1d9d9d6b639f3c93c6581d194c",
    "corpus_municipality_lost_leading_zero": "912c3679efe9e2b903df06bc02571e7666f4103039bef9e720204e9724e31c39",
    "corpus_municipality_table_problems": "565ab01c9feebb9328f086b05d8cb551f55bd54a08ca37cf785cec8dba176c6a",
    "corpus_municipality_three_digit_not_a_code": "8c69510f3f81fcd5f99807e4c5b8975d14325574114f29fe7a0fea3123080b43",
    "corpus_negative_fte": "d79c8511171e08b13a7cc5312081776b6b920b03b30d938c88e52d53fc03a828",
    "corpus_negative_wage": "cb99f38e15eabaf2d57b93c0cc72f8efbd98257b1b6ce4c03c62b4db474df124",
    "corpus_open_disability_pension_ends_at_death": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_overlapping_employment": "5f17ea99a789ae7e330c66bc3144d7d393a4447b69f38a6ee3c9ebcc27006682",
    "corpus_parquet_date_as_int": "a8ef53de42f2ada052c9c5cc446ecdd966c171f420cece01367310033c4de844",
    "corpus_parquet_date_far_before_year_1": "df51e2bdbab9cfb539c2fe21dfce7a71d764e231fb2e9228988c2f015098814e",
    "corpus_parquet_date_past_year_9999": "3f6273e698d51ce6071644b24ed0758b75efbaed3e4b0d9937dc8621465bb94c",
    "corpus_parquet_dates_as_timestamps": "6f6edecc1600c95d681373f14fb91fa5a07281d04018ceef17d71a249221cbe4",
    "corpus_parquet_duplicate_column_name": "7e5ea92986dc9c1591754dbd71e98683139c6f156ec4f1ef161bec96a098ad33",
    "corpus_parquet_grade_as_bool": "b5b28ce046c5247086ec587302fd74a2748d6af1555d012d48980af0409e8039",
    "corpus_parquet_header_only_persons": "acf847d1ca0c50abf15e770362e106b7c988bcaee316a564f58940acd750f287",
    "corpus_parquet_int64_max_meetings": "e31e48bd62120eb2bf5b5f164c9a77332fb51c9da371e4e57b24c54a220eb774",
    "corpus_parquet_person_id_with_newline": "022e028aa8c0abd9a8b1cb7c00a781eccbf0a6c7380d271eb692aff061bfb2cd",
    "corpus_parquet_typed_clean": "ab56126181a6ce937864a5b12a4712d6d8e27eb0fc207bbc7b06b53706752e8e",
    "corpus_parquet_wage_as_text": "fe9d9dc66ed1142fff1cae198c770cc995daebe390186c39f8e0055ed33af7fc",
    "corpus_parquet_wage_infinite": "bb6f60c6326e64fe6d4e62ed32871cc9e22ac983ca14c8677652f0ec696132ff",
    "corpus_persons_all_quarantined": "b9990c87eacd669e15972f0deb6dbe79024f84e5bfe631405d134896d1988dfc",
    "corpus_persons_birth_date_wholly_wrong_type": "42aa312d0b0235eaf586182f59da3da55488ec9f8ddd07cff2d5b42f5495cbe0",
    "corpus_residence_after_death": "1d3184b53ada82c4ac7aa9befa691d3a2fa62aef688b94aa095b2aa7d900706e",
    "corpus_residence_before_birth": "7d965bf132363fa5fc6d3a751d83ed598c702e67ac1cb0ad617bdb775df9b22e",
    "corpus_residence_same_day_two_municipalities": "9c1a65208d75c5c9ff1665211269474cd46453808ee4ffde8b88cbb0a79cf2b0",
    "corpus_residence_stale_end": "99cc73b4d8c5d67fe824f68b478a0ef15d296c7a65338a09196057715490cb17",
    "corpus_semicolon_excel": "6f105258aba753c33329b6f49600c8e916253ebdd8dd5aea1b7b1a4f7b4fccfa",
    "corpus_several_fatal_problems": "c15a6243b8c45adc48b01c5bf0d9de7e3a92aa2f8e2558130b0f42eb7517049c",
    "corpus_sex_codes": "592418164e4107f4f99c9ccf316cc50d0331b73bda4debecfd58f70f70a04422",
    "corpus_specialist_week_problems": "0f003200177bb19f23be0637e0cbf5c2affa4db28b29dafcf6e86d114c32c167",
    "corpus_spell_1900_not_merged": "c1ebe9e8cc46066ed2915dca42ec7eb880a7f6f605e13b3a7e1cb39c66916b08",
    "corpus_spell_merging": "dc3b6ffbe3bca8fdab58499e458dd4a23408e002259b354ec61339c30bc08d7b",
    "corpus_spell_on_birth_and_death_days": "55b611b71604d2be4443fa38fec2d3403747578a72341c69d8a608d4a3df700e",
    "corpus_tab_delimited": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_tab_inside_person_id": "c761e84df6cdd8a1b302d0769460ff411587f05e4da8721511cc576227a7fc38",
    "corpus_trailing_comma_every_benefits_line": "b7f4f5d48b0d0aec461412a39ed2629e7d4d85f5a44ddb8ff1bf57d0aeca6db0",
    "corpus_two_files_backup_copy": "c6661e3ece79eca297b0424103f81b3208d903436eda43a83a012ccbccb2e4b8",
    "corpus_two_files_csv_and_parquet": "b8c6c3fd2b1dab65de628af1e58d14e57a4ab793cb1431254073088c3ad7ed54",
    "corpus_two_files_other_case": "cbf8caeae19ab1ec0127593b0bee119d8a8f0e80bd1aba2d52f415c4147397e6",
    "corpus_unknown_benefit_code": "a1d34d77df9f7ef1284504c09a3ee71f080239a77757eb94ad5d859a7ae5ca48",
    "corpus_unknown_person": "e97dc8b259e937297ac7109815edc26e7815f0a68f90e13772db2a61f105037e",
    "corpus_unknown_person_before_life_checks": "af57a690a3fd1a95d17356a604f859c5f3afe7ae698facd8ff414e8c1e64eaa2",
    "corpus_unparseable_dates": "0bbbe408a06af9555ebbc5c11cc72d3ff544433fe7ca5452d4763645fd33231e",
    "corpus_unsupported_file_type": "3073cc84270e81621e4f31cfc957f510547134eca1c58cc0ffa5d49e64e8a481",
    "corpus_upper_case_file_name": "ae022627ae7ff352f7864f7b8b94ad3edca2c9c7b3be8429b012836c3338ac0c",
    "corpus_value_with_surrounding_spaces": "5f88ba13817370d47ee09a71c3c4c8323d9642ccceb832444f1eac507fff05f3",
    "corpus_wage_1e23": "d96b6680352b517af33d8c8f9d4defd055abda767ec3d06d454ffb2266fc77c3",
    "corpus_wage_above_ceiling": "d153f7d2374ad2695f39a108d04b43166ef27ae9b34a8068776039d2bee819ea",
    "corpus_wage_as_text": "4c6fa3c93dc5cdceefe93a857a7124a31389051a082cb3117296e6267b3d5b0e",
    "corpus_wage_at_ceiling": "084d0e917c0df1efe7f04a85f6869cbcfec431eb1144f2f70af35a173a56218d",
    "corpus_wage_infinite": "4246292a2e9bb14e23043799aaeb65c155f75338d8b1a0f3050d2dd17e152b05",
    # cases added in session 6 (partitioned reads): fingerprints of the implementation that added them
    "corpus_bom_semicolon_blank_benefits": "1a3000274a2a005834c54d9732bf6224769833a0a74da7513d40db90a448a9f2",
    "corpus_date_unreadable_for_one_person": "138ed69c59bae2f37a6ce42d4a3f57fa4da32d5831c3ea0a7fedfdd666cae58c",
    "corpus_encoding_cp1252_in_malformed_row": "535895861bc706df1d55a53ae4ab3dabf7348cde3be679946f7f15fd54ac61eb",
    "corpus_encoding_cp1252_late_line": "b8bac71747086e1a3406e53b3361370b54ad164a90a18a77ffe76bb07e07e2b3",
    "corpus_header_only_then_blank_lines": "dbc15e7b6226fbe6069207bb4a6e9c0b9583606b083ca946b515a19160c1e1e8",
    "corpus_newline_inside_malformed_row": "6e6d471a982c42c7bcc8cd46f17aaf38c3941bb043b067c5ebdc272958d5a995",
    "corpus_newline_then_malformed_row": "2d29bdb04c95dd1ea09c6183592bfdce0e38785a7383edc81bf161f423a3687b",
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
