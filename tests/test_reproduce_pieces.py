"""Panels read in pieces (``ips_study.reproduce.pieces``) and merged by person rank
(``ips_study.reproduce.partitioned.merge_by_rank``): the memory-bounded analysis of
``ips-study reproduce --partitions K`` gives what the whole panel gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ips_study.config import StudyConfig
from ips_study.designs.register_panel import example_panel
from ips_study.panel import aggregate_panel
from ips_study.reproduce.partitioned import RANK, merge_by_rank
from ips_study.reproduce.pieces import (PanelEpisodes, cells_to_aggregate, iter_person_pieces,
                                        panel_cells)


def _year_panel(seed: int = 3) -> pd.DataFrame:
    """A person-year panel in the package's format with missing outcome values."""
    p = example_panel(n_controls=6, treated_size=40, seed=seed)
    rng = np.random.default_rng(seed)
    p["post"] = (p["period"].astype(int) >= 2013).astype(np.int8)
    p["exposed"] = (p["treated"] * p["post"]).astype(np.int8)
    p["ips_start"] = pd.to_datetime(np.where(p["municipality"] == "1804", "2013-01-01", None))
    p["event_time"] = p["period"].astype(int) - 2013
    p["workdays"] = p["workdays"] + rng.uniform(size=len(p)) / 7   # not whole numbers
    p["ltbd"] = (rng.uniform(size=len(p)) < 0.2).astype(float)
    p.loc[rng.uniform(size=len(p)) < 0.05, "ltbd"] = np.nan     # counted per outcome
    return p


def test_panel_cells_in_pieces_equal_the_whole_panel_aggregate(tmp_path):
    p = _year_panel()
    f = tmp_path / "panel.parquet"
    p.to_parquet(f, index=False, row_group_size=97)
    whole = aggregate_panel(p)
    for rows in (50, 333, 10_000):   # many pieces, some, one
        agg = cells_to_aggregate(panel_cells(f, rows=rows))
        assert list(agg.columns) == list(whole.columns)
        exact = ["municipality", "period", "period_start", "treated", "post", "exposed", "ips_start",
                 "event_time", "n_persons"]
        pd.testing.assert_frame_equal(agg[exact], whole[exact])
        # sums added piece by piece: equal to the whole mean up to rounding (docstring)
        pd.testing.assert_frame_equal(agg[["workdays", "ltbd"]], whole[["workdays", "ltbd"]],
                                      check_exact=False, rtol=1e-12, atol=0)


def test_pieces_never_split_a_person(tmp_path):
    p = _year_panel()
    f = tmp_path / "panel.parquet"
    p.to_parquet(f, index=False, row_group_size=101)
    pieces = list(iter_person_pieces(f, ["municipality"], rows=64))
    assert len(pieces) > 10
    seen = [set(x["person_id"]) for x in pieces]
    assert sum(len(s) for s in seen) == p["person_id"].nunique()
    assert pd.concat(pieces, ignore_index=True)["person_id"].equals(p["person_id"].astype(str))
    assert list(pieces[0].columns) == ["person_id", "municipality"]


def test_did_from_cells_equals_the_whole_panel_fit(tmp_path):
    from ips_study.designs.did import fit_panel

    p = _year_panel(seed=5)
    f = tmp_path / "panel.parquet"
    p.to_parquet(f, index=False, row_group_size=64)
    agg = cells_to_aggregate(panel_cells(f, rows=100))
    cfg = StudyConfig()
    for inference in ("cluster", "placebo-t"):
        a = fit_panel(p, outcome="workdays", config=cfg, level="municipality", inference=inference)
        b = fit_panel(agg, outcome="workdays", config=cfg, inference=inference)
        assert b.extras["level"] == "municipality"
        np.testing.assert_allclose(b.estimate, a.estimate, rtol=1e-12)
        np.testing.assert_allclose(b.std_error, a.std_error, rtol=1e-10)


def test_merge_by_rank_is_a_stable_sort_in_bounded_windows(tmp_path):
    rng = np.random.default_rng(0)
    n_persons, files, frames = 500, [], []
    owner = rng.integers(0, 4, n_persons)            # each person in one file
    for k in range(4):
        persons = np.flatnonzero(owner == k)
        reps = rng.integers(1, 5, len(persons))
        rank = np.repeat(persons, reps)
        t = pa.table({"person_id": pa.array([f"p{r}" for r in rank]).dictionary_encode(),
                      "row": np.arange(len(rank)) + 10_000 * k, RANK: rank})
        frames.append(t)
        pq.write_table(t, tmp_path / f"part-{k}.parquet", row_group_size=37)
        files.append(tmp_path / f"part-{k}.parquet")
    merge_by_rank(files, tmp_path / "out.parquet", n_ranks=n_persons, rows_per_window=50)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.names == ["person_id", "row"] and out.schema.field("person_id").type == pa.string()
    both = pa.concat_tables([t.cast(frames[0].schema) for t in frames]).to_pandas()
    want = both.sort_values(RANK, kind="stable")
    assert out["row"].to_pylist() == want["row"].tolist()
    assert out["person_id"].to_pylist() == want["person_id"].astype(str).tolist()
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups > 5


# -- survival episodes built by pieces ----------------------------------------------------------
def _month_rows(pid, muni, cur, months, *, start="2011-07", hb=0.0, employed=0.0):
    m = pd.period_range(start, periods=months, freq="M")
    return pd.DataFrame({"person_id": pid, "municipality": muni, "period": m.strftime("%Y-%m"),
                         "period_start": m.to_timestamp(), "exposed": 0, "treated": int(muni == "1804"),
                         "age": 30, "sex": "F", "disability": 0.0, "health_benefit": hb,
                         "employed": employed, "current_municipality": cur,
                         "ips_start": pd.Timestamp("2013-01-01") if muni in ("1804", "1805") else pd.NaT})


def test_episodes_by_pieces_equal_the_whole_build_also_for_a_mover(tmp_path):
    """A person who moves to a municipality with IPS that no one in their piece started in is
    exposed as in the whole build (the piece is grown, class docstring)."""
    from ips_study.designs.survival.tte import build_tte

    rows = [_month_rows("a1", "1805", "1805", 40, hb=1.0),          # 1805 starts IPS in 2013
            _month_rows("b1", "1806", "1806", 40, employed=1.0)]
    mover = _month_rows("c1", "1806", "1806", 40)
    mover.loc[mover["period_start"] >= "2012-06-01", "current_municipality"] = "1805"
    rows.append(mover)
    rows += [_month_rows(f"d{i}", "1804", "1804", 30, hb=float(i % 2)) for i in range(5)]
    panel = pd.concat(rows, ignore_index=True)
    f = tmp_path / "month.parquet"
    panel.to_parquet(f, index=False)
    cfg = StudyConfig(design="closed", freq="month")
    whole = build_tte(panel, cfg)
    assert whole.loc[whole["person_id"] == "c1", "exposed"].max() == 1   # the case is there
    got = PanelEpisodes(f, rows=40).episodes(cfg)   # about one person a piece
    pd.testing.assert_frame_equal(got, whole)
    pd.testing.assert_frame_equal(PanelEpisodes(f, rows=40).episodes(cfg, exposure="baseline"),
                                  build_tte(panel, cfg, exposure="baseline"))


@pytest.fixture(scope="module")
def month_panel(small_synthetic_dir, tmp_path_factory):
    from ips_study.panel import build_panel
    from ips_study.registers import read_registers

    cfg = StudyConfig(design="closed", freq="month")
    q = tmp_path_factory.mktemp("quarantine")
    panel = build_panel(read_registers(small_synthetic_dir, quarantine_dir=q), cfg, freq="month")
    f = tmp_path_factory.mktemp("month") / "panel.parquet"
    panel.to_parquet(f, index=False)
    return panel, f, cfg


def test_survival_designs_on_episodes_by_pieces_equal_the_whole_panel(month_panel):
    from ips_study.designs import get_design

    panel, f, cfg = month_panel
    pieces = PanelEpisodes(f, rows=5_000)
    assert len(pieces) == len(panel) > 5_000 * 4
    for design in ("km", "cox", "dthazard"):
        kw = {"inference": "model"} if design == "dthazard" else {}
        a = get_design(design)(panel, outcome="ltbd_onset", config=cfg, **kw)
        b = get_design(design)(pieces, outcome="ltbd_onset", config=cfg, **kw)
        pd.testing.assert_frame_equal(b.tidy(), a.tidy())
        assert (b.n_obs, b.n_units) == (a.n_obs, a.n_units)
