"""Generator option for the published design at real scale: subset geography, year shocks, one programme."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ips_study.synthetic import generate, write_synthetic
from ips_study.synthetic.engine import simulation_setup
from ips_study.synthetic.geography import GeographySpec
from ips_study.synthetic.real_scale import POPULATION_2013, published_geography, real_scale_persons

CODES = ("1804", "1505", "0501")


def test_geography_spec_keeps_only_its_municipalities_with_normalised_weights():
    geo = GeographySpec(codes=CODES, weights=(2.0, 1.0, 1.0)).table()
    assert list(geo["municipality"]) == list(CODES)
    assert geo["weight"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    with pytest.raises(ValueError, match="9999"):
        GeographySpec(codes=("1804", "9999")).table()
    with pytest.raises(ValueError, match="Bodø"):
        GeographySpec(codes=("1505",))


def test_default_geography_is_the_embedded_one_without_shocks():
    s = simulation_setup(5, "2006-01", "2020-12")
    assert len(s.geo) == 28 and s.ctx.work_shock is None
    assert s.programme_scale(60_000) == 1.0


def test_year_shocks_come_from_their_own_stream():
    off = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES))
    on = simulation_setup(5, "2006-01", "2020-12", GeographySpec(codes=CODES, work_year_sd=0.2))
    pd.testing.assert_frame_equal(off.muni_effects, on.muni_effects)  # no other draw moves
    assert on.ctx.work_shock.shape == (3, 2020 - 2004 + 1)            # burn-in years included
    # 3 x 17 draws of N(0, 0.2): the sample SD is within 25 % of 0.2 (its SE is about 10 %)
    assert np.std(on.ctx.work_shock) == pytest.approx(0.2, rel=0.25)


def test_shocks_move_the_factual_registers_of_the_same_seed():
    a = generate(1500, seed=3, end="2014-12", geography=GeographySpec(codes=CODES))
    b = generate(1500, seed=3, end="2014-12", geography=GeographySpec(codes=CODES, work_year_sd=0.5))
    pd.testing.assert_frame_equal(a.registers["persons"], b.registers["persons"])
    assert not a.registers["employment"].equals(b.registers["employment"])
    assert set(a.registers["municipalities"]["municipality"]) == set(CODES)


def test_one_programme_over_the_whole_population():
    spec = GeographySpec(codes=CODES, programme_persons=240_000)
    s = simulation_setup(5, "2006-01", "2020-12", spec)
    # a chunk of 60,000 of 240,000 persons runs a quarter of the programme
    assert s.programme_scale(60_000) == 0.25


def test_real_scale_sizes_follow_the_cited_populations():
    spec = published_geography()
    geo = spec.table().set_index("municipality")
    total = sum(p for _, p in POPULATION_2013.values())
    assert geo.loc["1804", "weight"] == pytest.approx(49_203 / total)
    assert spec.programme_persons == real_scale_persons()
    assert len(spec.codes) == 11 and spec.work_year_sd > 0


def test_streaming_writes_only_the_study_municipalities(tmp_path):
    spec = GeographySpec(codes=CODES, work_year_sd=0.1, programme_persons=1200)
    out = write_synthetic(tmp_path, persons=1200, seed=4, geography=spec, stream=True, messy=False)
    munis = pd.read_parquet(out / "municipalities.parquet")
    assert sorted(munis["municipality"]) == sorted(CODES)
    res = pd.read_parquet(out / "residence.parquet")
    assert set(res["municipality"]) <= set(CODES)
    truth = json.loads((out / "truth.json").read_text())
    assert truth["method"] == "monthly_states" and truth["geography"]["codes"] == list(CODES)
