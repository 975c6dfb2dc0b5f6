"""Tests of placebo-in-space inference for the staggered-adoption design
(ips_study.designs.staggered_placebo)."""
import warnings

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ips_study.config import StudyConfig  # noqa: E402
from ips_study.designs.staggered import fit_panel  # noqa: E402
from ips_study.designs.staggered_placebo import (  # noqa: E402
    assignments, n_assignments)
from ips_study.inference import rank_half_width, rank_p_value  # noqa: E402

CFG = StudyConfig()
YEARS = np.arange(2008, 2020)


def make_panel(*, starts: dict[str, int], n_controls: int, seed: int, effect: float = 0.0,
               persons: int = 3, shock_sd: float = 3.0, sizes: bool = True) -> pd.DataFrame:
    """Person-year panel: municipality level + year effect + municipality random walk.

    Adopters are the codes of ``starts`` (first year of IPS, January); ``n_controls``
    never-treated municipalities follow. The random walk is municipality-level noise that
    the analytic SE of a one-municipality group omits. With ``sizes`` municipalities have
    1..4 x ``persons`` persons (unequal population weights).
    """
    rng = np.random.default_rng(seed)
    codes = list(starts) + [f"{5000 + i:04d}" for i in range(n_controls)]
    m = len(codes)
    size = persons * (1 + np.arange(m) % 4 if sizes else np.ones(m, int))
    mu = (rng.normal(40, 5, m)[:, None] + rng.normal(0, 2, len(YEARS)).cumsum()[None, :]
          + rng.normal(0, shock_sd, (m, len(YEARS))).cumsum(axis=1))
    first = np.array([starts.get(c, 9999) for c in codes])
    exposed = YEARS[None, :] >= first[:, None]
    mu = mu + effect * exposed
    # one row per person and year: municipality index, year index, person number
    mi = np.repeat(np.arange(m), size * len(YEARS))
    ti = np.concatenate([np.repeat(np.arange(len(YEARS)), s) for s in size])
    k = np.concatenate([np.tile(np.arange(s), len(YEARS)) for s in size])
    code = np.array(codes)[mi]
    year = YEARS[ti]
    ips = pd.to_datetime(pd.Series([f"{f}-01-01" if f < 9999 else None for f in first[mi]]))
    return pd.DataFrame({
        "person_id": np.char.add(np.char.add(code.astype(str), "_"), k.astype(str)),
        "municipality": code, "period": year.astype(str),
        "period_start": pd.to_datetime(year.astype(str), format="%Y"),
        "treated": (code == "1804").astype(np.int8), "post": (year >= 2013).astype(np.int8),
        "ips_start": ips.astype("datetime64[ns]"), "exposed": exposed[mi, ti].astype(np.int8),
        "event_time": year - 2013, "age": 30, "sex": "F", "months_observed": 12,
        "workdays": mu[mi, ti] + rng.normal(0, 4, len(mi))})


STARTS = {"1804": 2013, "1902": 2015, "1833": 2015}


@pytest.fixture(scope="module")
def panel():
    return make_panel(starts=STARTS, n_controls=11, seed=3, effect=4.0)


def fit(panel, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # the one-unit-group warning of the analytic SE
        return fit_panel(panel, outcome="workdays", config=CFG, **kw)


def hand_refit(panel, assignment: str, **kw):
    """The design re-run by hand: adopters dropped, the placebo municipalities given the
    adoption years of the assignment ("2013:5003;2015:5000;..."), then ``fit_panel``."""
    starts = {code: int(g) for g, code in (a.split(":") for a in assignment.split(";"))}
    sub = panel[panel["ips_start"].isna()].copy()
    year = sub["municipality"].map(starts)
    sub["ips_start"] = pd.to_datetime(year.map(lambda y: f"{int(y)}-01-01" if y == y else None))
    sub["exposed"] = (sub["period"].astype(int) >= year.fillna(9999)).astype(np.int8)
    return fit(sub, **kw)


@pytest.mark.parametrize("kw", [
    {"aggregation": "simple"},
    {"aggregation": "group"},
    {"aggregation": "calendar", "control_group": "not_yet_treated"},
    {"aggregation": "dynamic", "base_period": "universal", "weight_by_population": False},
])
def test_vectorised_draws_equal_hand_loop_of_refits(panel, kw):
    res = fit(panel, inference="placebo", **kw)
    draws = res.placebo_draws()
    # 11 controls, pattern (2013, 2015, 2015): 11 * C(10, 2) = 495 assignments, all used
    assert len(draws) == 495 and res.extras["placebo_enumerated"]
    terms = list(res.tidy().index)
    for i in range(0, 495, 41):                     # 13 draws spread over the enumeration
        ref = hand_refit(panel, draws.at[i, "assignment"], **kw)
        np.testing.assert_allclose(draws.loc[i, terms].to_numpy(float),
                                   ref.tidy().loc[terms, "estimate"].to_numpy(), atol=1e-8)
    # the real estimates are the analytic fit's
    ana = fit(panel, **kw)
    np.testing.assert_allclose(res.params, ana.params, atol=1e-12)


def test_event_time_rows_are_the_dynamic_draws(panel):
    res = fit(panel, inference="placebo", aggregation="simple", n_draws=40, seed=5)
    dyn = fit(panel, inference="placebo", aggregation="dynamic", n_draws=40, seed=5)
    et = res.event_time()
    # same seed, same assignments: the event-time rows equal the dynamic headline's components
    comp = dyn.tidy().iloc[1:]
    np.testing.assert_allclose(et["conf_low"], comp["conf_low"], atol=1e-10)
    np.testing.assert_allclose(et["p_value"], comp["p_value"], atol=1e-12)
    assert res.placebo_draws()["assignment"].equals(dyn.placebo_draws()["assignment"])


def test_person_level_refits_equal_hand_loop(panel):
    res = fit(panel, inference="placebo", level="person", n_draws=6, seed=2)
    draws = res.placebo_draws()
    assert len(draws) == 6 and not res.extras["placebo_enumerated"]
    for i in range(6):
        ref = hand_refit(panel, draws.at[i, "assignment"], level="person")
        assert draws.at[i, "ATT"] == pytest.approx(ref.estimate, abs=1e-8)


def test_rank_p_value_and_interval_from_the_draws(panel):
    res = fit(panel, inference="placebo", aggregation="group")
    d = res.placebo_draws()
    B = len(d)
    for term in res.tidy().index:
        null = d[term].to_numpy()
        p = res.tidy().at[term, "p_value"]
        assert p == rank_p_value(res.params[term], null)
        assert 1 / (B + 1) <= p <= 1
        # p is a multiple of 1/(B+1)
        assert p * (B + 1) == pytest.approx(round(p * (B + 1)), abs=1e-9)
        h = rank_half_width(null, 0.95)
        assert res.conf_int().at[term, "upper"] == pytest.approx(res.params[term] + h)
        assert res.std_errors[term] == pytest.approx(np.sqrt(np.mean(null ** 2)))
    # other levels come from the same draws: a 80% interval is inside the 95% one
    c80, c95 = res.conf_int(0.8), res.conf_int()
    assert (c80["lower"] >= c95["lower"]).all() and (c80["upper"] <= c95["upper"]).all()
    # p is 1 exactly when the estimate is 0 relative to every draw's size (smallest |stat|)
    assert rank_p_value(0.0, d["ATT"].to_numpy()) == 1.0


def test_shifted_effect_moves_estimate_not_draws():
    # the placebo fits never see the adopters, so a larger true effect shifts the estimate
    # and its interval by the same amount and can only lower the p-value
    small = fit(make_panel(starts=STARTS, n_controls=11, seed=4, effect=0.0), inference="placebo")
    big = fit(make_panel(starts=STARTS, n_controls=11, seed=4, effect=200.0), inference="placebo")
    np.testing.assert_allclose(small.placebo_draws()["ATT"], big.placebo_draws()["ATT"])
    assert big.estimate - small.estimate == pytest.approx(200.0, abs=1e-8)
    assert (big.conf_int() - small.conf_int()).to_numpy() == pytest.approx(200.0, abs=1e-8)
    assert big.p_value == 1 / 496 <= small.p_value


def test_one_adopter_uses_every_control_in_turn():
    p = make_panel(starts={"1804": 2013}, n_controls=21, seed=8)
    res = fit(p, inference="placebo")
    d = res.placebo_draws()
    assert len(d) == 21 and res.extras["placebo_enumerated"]
    assert sorted(a.split(":")[1] for a in d["assignment"]) == sorted(
        p.loc[p["ips_start"].isna(), "municipality"].unique())
    assert res.inference == "placebo" and res.to_dict()["inference"] == "placebo"
    assert np.isfinite(res.conf_int().to_numpy()).all()       # J = 21 >= 19
    ax = res.plot()
    # simple has no components: the plot is the event-time path with placebo intervals
    assert ax.get_xlabel() == "Event time"
    assert "placebo" in res.summary().as_text().lower()


def test_assignments():
    assert n_assignments(21, [2013] * 1) == 21
    assert n_assignments(21, range(2013, 2020)) == 586_051_200     # 21!/14!
    assert n_assignments(3, [1, 1, 2, 2]) == 0
    a, full = assignments(5, [2015, 2013, 2015])
    assert full and len(a) == n_assignments(5, [2013, 2015, 2015]) == 30
    assert len({tuple(r[:1]) + tuple(sorted(r[1:])) for r in a.tolist()}) == 30
    assert all(len(set(r)) == 3 for r in a.tolist())
    r1, full = assignments(21, range(2013, 2020), n_draws=50, seed=1)
    r2, _ = assignments(21, range(2013, 2020), n_draws=50, seed=1)
    assert not full and r1.shape == (50, 7) and (r1 == r2).all()
    assert all(len(set(r)) == 7 for r in r1.tolist())


def test_errors(panel):
    with pytest.raises(ValueError, match="placebo"):
        fit(panel, inference="wild")
    with pytest.raises(ValueError, match="n_draws"):
        fit(panel, inference="placebo", n_draws=0)
    with pytest.raises(ValueError, match="n_draws"):
        fit(panel, inference="placebo", n_draws=2.5)
    few = make_panel(starts=STARTS, n_controls=3, seed=1)
    with pytest.raises(ValueError, match="at least one must stay a comparison"):
        fit(few, inference="placebo")
    no_ctrl = panel[panel["ips_start"].notna()]
    with pytest.raises(ValueError, match="never-treated"):
        fit(no_ctrl, inference="placebo", control_group="not_yet_treated")


def test_null_size_fixed_seed():
    # 200 null replications, equal-sized municipalities with i.i.d. random-walk shocks: the
    # adopters are exchangeable with the controls, so the placebo test has size at most 5%
    # (199 draws: (1 + #)/(B + 1) <= 0.05 with probability 0.05). Binomial MC SE of a 5% rate
    # over 200 reps is 0.0154; the bound 0.05 + 3 SE = 0.096 fails with prob. < 0.2%.
    # The analytic SE omits the adopters' own random walk: it must reject far more often.
    rej_placebo, rej_analytic, pvals = 0, 0, []
    for rep in range(200):
        p = make_panel(starts={"1804": 2013, "1902": 2015, "1833": 2017}, n_controls=15,
                       seed=1000 + rep, persons=1, sizes=False)
        res = fit(p, inference="placebo", n_draws=199, seed=rep)
        pvals.append(res.p_value)
        rej_placebo += res.p_value <= 0.05
        rej_analytic += abs(res.estimate) > 1.96 * res.extras["analytic_std_error"]["ATT"]
    assert rej_placebo / 200 <= 0.096
    # a p-value uniform on (0, 1] has mean ~0.5 with SE 0.29 / sqrt(200) = 0.020: 4 SE band
    assert abs(np.mean(pvals) - 0.5) < 0.08
    assert rej_analytic / 200 > 0.15


def test_person_level_placebo_without_balanced_persons_is_left_out():
    # control 5000's persons are seen in one year each: at person level (balanced persons
    # only) it has no unit, so the placebo giving it Bodø's group is not identified
    p = make_panel(starts={"1804": 2013}, n_controls=21, seed=9)
    one = p["municipality"] == "5000"
    p.loc[one, "person_id"] = p.loc[one, "person_id"] + "_" + p.loc[one, "period"]
    res = fit(p, inference="placebo", level="person")
    d = res.placebo_draws()
    assert res.extras["n_placebos_not_identified"] == 1 and res.extras["n_placebos"] == 20
    bad = d["assignment"] == "2013:5000"
    assert d.loc[bad, "ATT"].isna().all() and d.loc[~bad, "ATT"].notna().all()
    assert res.p_value == rank_p_value(res.estimate, d.loc[~bad, "ATT"].to_numpy())
    assert any("not identified" in n for n in res.notes)
