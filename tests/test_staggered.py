"""Tests of the staggered-adoption design: Callaway-Sant'Anna ATT(g,t), aggregations,
multiplier bootstrap, Goodman-Bacon decomposition and the panel entry point."""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ips_study.config import StudyConfig  # noqa: E402
from ips_study.designs.bacon import bacon_decomposition  # noqa: E402
from ips_study.designs.staggered import att_gt, fit_panel  # noqa: E402
from ips_study.designs.staggered_aggregate import multiplier_bootstrap  # noqa: E402
from tests.sim_municipality_panel import make_panel  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def mpdta():
    return pd.read_csv(DATA / "mpdta.csv")


@pytest.fixture(scope="module")
def gt(mpdta):
    return att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat")


# R did 2.x: att_gt(yname="lemp", tname="year", idname="countyreal", gname="first.treat",
# data=mpdta) then aggte(type=..., bstrap=FALSE); numbers from the did documentation and
# /work/shared/reference-data/README.md (7 significant digits, hence tolerance 1e-6).
R_DID = {"simple": (-0.0399513, 0.0120340), "group": (-0.0310183, 0.0124461),
         "dynamic": (-0.0772398, 0.0199650), "calendar": (-0.0417004, 0.0159719)}


@pytest.mark.parametrize("kind", list(R_DID))
def test_aggregations_equal_r_did(gt, kind):
    res = gt.aggregate(kind)
    est, se = R_DID[kind]
    assert res.estimate == pytest.approx(est, abs=1e-6)
    assert res.std_error == pytest.approx(se, abs=1e-6)


def test_att_gt_cells_equal_r_did(gt):
    t = gt.tidy()
    assert len(t) == 12   # 3 groups x 4 periods (varying base period)
    assert t.loc["ATT(2004,2004)", "estimate"] == pytest.approx(-0.0105, abs=5e-5)
    assert t.loc["ATT(2004,2006)", "estimate"] == pytest.approx(-0.1373, abs=5e-5)


# csdid 0.4.3 / drdid 1.1.7 (Python port of R did/DRDID), script in
# tests/reference/mpdta_csdid_covariates.py; first four cells (group 2004) and cell 8.
CSDID_COV = {
    "dr": ([-0.0145296683, -0.07642188173, -0.1404483368, -0.1069038981], -0.04129386559,
           [0.02212915724, 0.02867131416, 0.03537815471, 0.032886493]),
    "ipw": ([-0.01454843115, -0.07644986076, -0.1404646027, -0.1069325571], -0.04130823174,
            [0.02211453311, 0.02864886254, 0.03537100179, 0.03288915171]),
    "reg": ([-0.01491123779, -0.07699632297, -0.1410801046, -0.1075442747], -0.04153563653,
            [0.02205569308, 0.02835974551, 0.03483628695, 0.03273769264]),
}


@pytest.mark.parametrize("method", list(CSDID_COV))
def test_covariate_estimators_equal_peer(mpdta, method):
    res = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat",
                 covariates=["lpop"], method=method)
    att, cell8, se = CSDID_COV[method]
    t = res.tidy()
    np.testing.assert_allclose(t["estimate"].iloc[:4], att, atol=1e-8)
    assert t["estimate"].iloc[7] == pytest.approx(cell8, abs=1e-8)
    np.testing.assert_allclose(t["std_error"].iloc[:4], se, atol=1e-8)


def test_not_yet_treated_differs_and_universal_base_has_reference_zero(mpdta):
    nyt = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat",
                 control_group="not_yet_treated")
    nev = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat")
    # group 2004 in 2004 has groups 2006/2007 as extra (not-yet-treated) controls
    assert nyt.tidy().loc["ATT(2004,2004)", "estimate"] != pytest.approx(
        nev.tidy().loc["ATT(2004,2004)", "estimate"], abs=1e-6)
    uni = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat",
                 base_period="universal")
    assert uni.tidy().loc["ATT(2006,2005)", "estimate"] == 0.0
    # post-treatment cells do not depend on the base-period convention
    assert uni.tidy().loc["ATT(2004,2006)", "estimate"] == pytest.approx(
        nev.tidy().loc["ATT(2004,2006)", "estimate"], abs=1e-12)


def test_bootstrap_close_to_analytic_and_uniform_band_wider(gt):
    ana = gt.aggregate("dynamic")
    boot = gt.aggregate("dynamic", bootstrap=True, n_boot=999, seed=11)
    assert boot.estimate == ana.estimate
    # bootstrap SE of a mean of ~500 bounded terms is within ~10% of the analytic SE
    # (IQR-based SE with 999 draws has relative sd about 0.05)
    np.testing.assert_allclose(boot.std_errors, ana.std_errors, rtol=0.15)
    crit = boot.extras["uniform_critical_value"]
    assert 1.96 < crit < 4.0
    same = gt.aggregate("dynamic", bootstrap=True, n_boot=999, seed=11)
    assert same.std_error == boot.std_error   # fixed seed


def test_multiplier_bootstrap_se_matches_theory():
    rng = np.random.default_rng(5)
    infl = rng.normal(size=(2000, 2)) * [1.0, 3.0]
    se, crit = multiplier_bootstrap(infl, n_boot=2000, seed=2)
    # true SE is sd/sqrt(n); IQR estimate from 2000 draws has relative sd ~ 0.03
    np.testing.assert_allclose(se, np.array([1.0, 3.0]) / np.sqrt(2000), rtol=0.12)
    assert 2.0 < crit < 2.6   # max of two independent |N(0,1)|: 97.5% point 2.24


def test_bacon_weights_reproduce_twfe(mpdta):
    df = mpdta.assign(d=((mpdta["first.treat"] > 0)
                         & (mpdta["year"] >= mpdta["first.treat"])).astype(int))
    res = bacon_decomposition(df, unit="countyreal", time="year", outcome="lemp", treated="d")
    comp = res.components
    assert comp["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert (comp["weight"] > 0).all()
    assert (comp["weight"] * comp["estimate"]).sum() == pytest.approx(res.estimate, abs=1e-12)
    # TWFE from an independent implementation (linearmodels, two-way within estimator)
    from linearmodels import PanelOLS
    twfe = PanelOLS.from_formula("lemp ~ d + EntityEffects + TimeEffects",
                                 df.set_index(["countyreal", "year"])).fit()
    assert res.estimate == pytest.approx(twfe.params["d"], abs=1e-10)
    assert set(comp["type"]) == {"treated vs never", "earlier vs later", "later vs earlier"}
    assert res.plot().get_xlabel() == "Weight"


def test_bacon_with_heterogeneous_dynamic_effects_shows_forbidden_comparison():
    # effects growing with time since adoption make already-treated controls bias TWFE
    rows = []
    for u in range(30):
        g = [3, 6, 99][u % 3]
        for t in range(10):
            d = int(t >= g)
            rows.append((u, t, u * 0.1 + t * 0.2 + d * (1 + (t - g)), d))
    df = pd.DataFrame(rows, columns=["u", "t", "y", "d"])
    res = bacon_decomposition(df, unit="u", time="t", outcome="y", treated="d")
    later = res.components.query("type == 'later vs earlier'")["estimate"]
    never = res.components.query("type == 'treated vs never'")["estimate"]
    assert (later < never.min()).all()
    assert (res.components["weight"] * res.components["estimate"]).sum() == pytest.approx(
        res.estimate, abs=1e-12)


def test_fit_panel_recovers_known_effect():
    panel = make_panel(staggered=True, n_munis=40, heterogeneous_trends=False, seed=8)
    with pytest.warns(UserWarning, match="group.s. 2013 have a single unit"):
        res = fit_panel(panel, outcome="workdays", config=StudyConfig())
    assert {r["group"] for r in res.extras["att_gt"]} == {2013, 2015, 2017}
    # parallel trends hold by construction; |estimate - 5| < 3 SE fails with prob. < 0.3%
    assert abs(res.estimate - 5.0) < 3 * res.std_error
    et = res.event_time()
    assert {"event_time", "estimate", "conf_low"} <= set(et.columns)
    pre = et[et["event_time"] < 0]
    # pre-trends: each placebo estimate within 4 SE of zero
    assert (pre["estimate"].abs() < 4 * pre["std_error"]).all()
    d = res.to_dict()
    assert d["design"] == "staggered" and "event_time" in d
    with pytest.warns(UserWarning, match="single unit"):
        boot = fit_panel(panel, outcome="workdays", config=StudyConfig(), inference="bootstrap",
                         n_boot=299, method="ipw", aggregation="dynamic")
    assert boot.inference == "multiplier bootstrap"
    assert np.isfinite(boot.std_error)


def test_plots_return_axes(gt):
    import matplotlib.pyplot as plt

    assert gt.plot().get_ylabel() == "ATT(g,t)"
    ax = gt.aggregate("dynamic", bootstrap=True, n_boot=199).plot()
    assert ax.get_xlabel() == "Event time"
    fig, ax2 = plt.subplots()
    assert gt.aggregate("group").plot(ax=ax2) is ax2
    plt.close("all")


def test_errors_and_warnings(mpdta):
    with pytest.raises(ValueError, match="control_group"):
        att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat",
               control_group="all")
    nev = mpdta[mpdta["first.treat"] > 0]
    with pytest.raises(ValueError, match="never-treated"):
        att_gt(nev, outcome="lemp", unit="countyreal", time="year", group="first.treat")
    with pytest.warns(UserWarning, match="balanced"):
        att_gt(mpdta.iloc[1:], outcome="lemp", unit="countyreal", time="year",
               group="first.treat")
    with pytest.raises(ValueError, match="kind"):
        att_gt(mpdta, outcome="lemp", unit="countyreal", time="year",
               group="first.treat").aggregate("weird")


def test_person_level_equals_municipality_level_on_balanced_equal_sizes():
    # equal-sized municipalities, same persons every year, no covariates: the person-level
    # DiD of means is the municipality-level one, and the influence function summed within
    # municipalities is the municipality-level influence function
    panel = make_panel(staggered=True, n_munis=40, heterogeneous_trends=False, seed=8)
    with pytest.warns(UserWarning, match="single unit"):
        muni = fit_panel(panel, outcome="workdays", config=StudyConfig())
    with pytest.warns(UserWarning, match="single unit"):
        pers = fit_panel(panel, outcome="workdays", config=StudyConfig(), level="person")
    assert pers.estimate == pytest.approx(muni.estimate, abs=1e-10)
    assert pers.std_error == pytest.approx(muni.std_error, rel=1e-8)
    assert pers.n_units == 40 * 60 and muni.n_units == 40


def test_person_level_with_covariates_and_clustered_bootstrap():
    panel = make_panel(staggered=True, n_munis=40, heterogeneous_trends=False, seed=9)
    with pytest.warns(UserWarning, match="single unit"):
        res = fit_panel(panel, outcome="workdays", config=StudyConfig(), level="person",
                        covariates=["age", "female"], inference="bootstrap", n_boot=299)
    # |estimate - 5| < 3 SE (SE clustered by municipality, 40 clusters)
    assert abs(res.estimate - 5.0) < 3 * res.std_error
    assert res.extras["cluster"] == "baseline_municipality"


def test_cluster_se_formula():
    from ips_study.designs.staggered_aggregate import analytic_se

    rng = np.random.default_rng(0)
    infl = rng.normal(size=(12, 2))
    clusters = np.repeat(["a", "b", "c"], 4)
    sums = np.array([infl[clusters == c].sum(axis=0) for c in "abc"])
    np.testing.assert_allclose(analytic_se(infl, clusters),
                               np.sqrt((sums ** 2).sum(axis=0)) / 12)
    # singleton clusters give the unclustered SE sqrt(mean(psi^2)/n)
    np.testing.assert_allclose(analytic_se(infl, np.arange(12)),
                               np.sqrt(np.mean(infl ** 2, axis=0) / 12))


def _hand_did(df, g, t, base, controls):
    wide = df.pivot(index="countyreal", columns="year", values="lemp")
    grp = df.groupby("countyreal")["first.treat"].first()
    change = wide[t] - wide[base]
    return change[grp == g].mean() - change[grp.isin(controls)].mean()


def test_cells_equal_hand_computed_did_of_means(mpdta, gt):
    t = gt.tidy()
    # post cell: base g - 1; pre cell (varying base): previous period
    assert t.loc["ATT(2004,2006)", "estimate"] == pytest.approx(
        _hand_did(mpdta, 2004, 2006, 2003, [0]), abs=1e-12)
    assert t.loc["ATT(2007,2005)", "estimate"] == pytest.approx(
        _hand_did(mpdta, 2007, 2005, 2004, [0]), abs=1e-12)
    nyt = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year", group="first.treat",
                 control_group="not_yet_treated").tidy()
    # not-yet-treated controls for (2004, 2005): never treated and groups 2006, 2007
    assert nyt.loc["ATT(2004,2005)", "estimate"] == pytest.approx(
        _hand_did(mpdta, 2004, 2005, 2003, [0, 2006, 2007]), abs=1e-12)


def test_anticipation_moves_the_base_period(mpdta):
    with pytest.warns(UserWarning, match="already treated in the first period"):
        res = att_gt(mpdta, outcome="lemp", unit="countyreal", time="year",
                     group="first.treat", anticipation=1).tidy()
    # with one period of anticipation group 2007 is "treated" from 2006, base 2005
    assert res.loc["ATT(2007,2006)", "estimate"] == pytest.approx(
        _hand_did(mpdta, 2007, 2006, 2005, [0]), abs=1e-12)
    # group 2004 would need a base before 2003: dropped as treated in the first period
    assert not any(i.startswith("ATT(2004,") for i in res.index)
