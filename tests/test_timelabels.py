"""Time labels that are not plain integers (ips_study.designs.timelabels): ordered
Categorical, datetime, Period, quarters and halves as text; other text is refused."""

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.designs.errors import DesignError
from ips_study.designs.timelabels import period_codes

#: period numbers of the panel: number 2 is missing from every unit
PERIODS = [0, 1, 3, 4, 5, 6, 7]


def panel(seed=2):
    """8 units, 2 treated from period 4 (effect 1 + event time), period 2 nowhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(8):
        for p in PERIODS:
            d = int(u < 2 and p >= 4)
            y = u + 0.3 * p + d * (1.0 + (p - 4)) + rng.normal(0, 0.1)
            rows.append((f"u{u}", p, y, d))
    return pd.DataFrame(rows, columns=["unit", "p", "y", "d"])


LABELS = {
    "halves text": lambda p: f"{2010 + p // 2}H{p % 2 + 1}",
    "quarters text": lambda p: f"Q{p % 4 + 1}-{2010 + p // 4}",
    "quarters text 2": lambda p: f"{2010 + p // 4}q{p % 4 + 1}",
    "year-months text": lambda p: f"{2010 + p // 12}-{p % 12 + 1:02d}",
}


def categories():
    return [f"wave {k}" for k in range(8)]


CONVERT = {
    **{k: (lambda f: (lambda s: s.map(f)))(f) for k, f in LABELS.items()},
    "ordered categorical": lambda s: pd.Series(pd.Categorical(
        [f"wave {k}" for k in s], categories=categories(), ordered=True), index=s.index),
    "period": lambda s: pd.Series(pd.PeriodIndex(
        [pd.Period("2010Q1", freq="Q") + k for k in s]), index=s.index),
    "datetime": lambda s: pd.to_datetime("2010-01-01") + pd.to_timedelta(s * 7, unit="D"),
    "unordered categorical of integers": lambda s: s.astype(str).astype("category"),
}


def event(df, time):
    return ips.event_study(df, y="y", unit="unit", time=time, treat="d", inference="placebo")


@pytest.mark.parametrize("kind", list(CONVERT))
def test_event_study_counts_a_period_missing_from_the_whole_panel(kind):
    """Old code ordered these labels by sorted position: event time 1 came out as 0 ... ."""
    df = panel()
    ref = event(df, "p")
    got = event(df.assign(t=CONVERT[kind](df["p"])), "t")
    assert list(got.event_time()["event_time"]) == list(ref.event_time()["event_time"])
    assert set(ref.event_time()["event_time"]) == {-4, -3, -1, 0, 1, 2, 3}     # -2: the gap
    np.testing.assert_allclose(got.params.to_numpy(), ref.params.to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(got.event_time()["estimate"], ref.event_time()["estimate"],
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", ["quarters text", "halves text"])
def test_did_orders_quarters_and_halves_by_time_not_by_text(kind):
    """"Q1-2011" sorts before "Q2-2010" as text; the DiD needs the periods in time order."""
    df = panel()
    ref = ips.did(df, y="y", unit="unit", time="p", treat="d", inference="placebo")
    got = ips.did(df.assign(t=CONVERT[kind](df["p"])), y="y", unit="unit", time="t", treat="d",
                  inference="placebo")
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-12)


@pytest.mark.parametrize("fn", [ips.did, ips.event_study])
def test_text_without_a_known_order_is_refused_in_one_line(fn):
    df = panel()
    words = dict(zip(PERIODS, ["spring", "summer", "autumn", "winter", "early", "late", "end"]))
    assert len(words) == len(PERIODS)
    with pytest.raises(DesignError, match="ordered pandas Categorical") as err:
        fn(df.assign(t=df["p"].map(words)), y="y", unit="unit", time="t", treat="d")
    assert "\n" not in str(err.value) and "time='t'" in str(err.value)
    assert "spring" not in str(err.value)                 # no data value quoted


def test_the_same_labels_as_an_ordered_categorical_are_accepted():
    df = panel()
    words = ["spring", "summer", "autumn", "winter", "early", "late", "end", "after"]
    t = pd.Categorical([words[p] for p in df["p"]], categories=words, ordered=True)
    res = event(df.assign(t=t), "t")
    np.testing.assert_allclose(res.params.to_numpy(), event(df, "p").params.to_numpy(),
                               rtol=1e-10)


def test_period_codes_units():
    code, labels, numbers = period_codes(pd.Series(["2011-H1", "H2-2010", "2010S1"]), "t")
    assert code.tolist() == [2, 1, 0] and numbers.tolist() == [4020, 4021, 4022]
    code, labels, numbers = period_codes(pd.Series(["10", "9", "8", "10"]), "t")
    assert code.tolist() == [2, 1, 0, 2] and labels.tolist() == ["8", "9", "10"]
    # two spellings of one period share a code
    code, labels, numbers = period_codes(pd.Series(["2011Q1", "Q1-2011", "2011Q2"]), "t")
    assert code.tolist() == [0, 0, 1] and numbers.tolist() == [8044, 8045]
    # non-integer numbers keep their order but count nothing
    code, labels, numbers = period_codes(pd.Series([0.5, 1.5, 0.25]), "t")
    assert code.tolist() == [1, 2, 0] and numbers is None
    with pytest.raises(DesignError, match="boolean"):
        period_codes(pd.Series([True, False]), "t")


@pytest.mark.parametrize("fn", [ips.synth, ips.sdid])
def test_synth_and_sdid_order_text_quarters_by_time(fn):
    """As text, "Q1-2011" sorts before "Q2-2010": the pre-period was scrambled."""
    df = panel()
    df = df[df["unit"] != "u1"]                               # one treated unit, balanced
    kw = dict(y="y", unit="unit", treat="d")
    ref = fn(df, time="p", **kw)
    got = fn(df.assign(t=CONVERT["quarters text"](df["p"])), time="t", **kw)
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-10)
    assert got.std_error == pytest.approx(ref.std_error, rel=1e-10)


def test_bacon_orders_text_quarters_by_time():
    df = panel()
    df = df[df["p"] != 7].assign(d=lambda x: ((x["unit"] < "u4") & (x["p"] >= 4 + (x["unit"] > "u1")))
                                  .astype(int))
    ref = ips.bacon(df, y="y", unit="unit", time="p", treat="d")
    got = ips.bacon(df.assign(t=CONVERT["quarters text"](df["p"])), y="y", unit="unit", time="t",
                    treat="d")
    assert got.estimate == pytest.approx(ref.estimate, rel=1e-12)
    comp = got.components
    assert set(comp["treated"]) - {"never"} == {"Q1-2011", "Q2-2011"}      # adoption labels
    np.testing.assert_allclose(comp["estimate"], ref.components["estimate"], rtol=1e-10)
