"""Tests of synthetic difference-in-differences (Arkhangelsky et al. 2021)."""

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from ips_study.config import StudyConfig  # noqa: E402
from ips_study.designs.sdid import fit_panel, sdid, solve_weights  # noqa: E402
from tests.sim_municipality_panel import make_panel  # noqa: E402


@pytest.fixture(scope="module")
def sdid_fit(prop99):
    return sdid(prop99, unit="state", time="year", outcome="cigsale", treated="d",
                replications=100, seed=3)


# Arkhangelsky et al. (2021) Table 1, California Proposition 99: SDID -15.6 (-15.60 in the
# brief), SC -19.6, DiD -27.3 (-27.349 by hand, see test_did_matches_hand_computation);
# tests/reference/prop99_synthdid.R is the R script for the same numbers. Tolerance 0.01
# on the published two-decimal values; SC is checked at our -19.62 (FW solution, as the
# authors' algorithm) which rounds to the published -19.6.
@pytest.mark.parametrize("method,expected,tol", [("sdid", -15.60, 0.01), ("sc", -19.62, 0.01),
                                                 ("did", -27.349, 0.001)])
def test_prop99_table1(prop99, method, expected, tol):
    res = sdid(prop99, unit="state", time="year", outcome="cigsale", treated="d",
               method=method, inference=None)
    assert res.estimate == pytest.approx(expected, abs=tol)


def test_weights_are_on_simplex_and_regularised(sdid_fit):
    om, lam = sdid_fit.unit_weights, sdid_fit.time_weights
    assert om.sum() == pytest.approx(1.0) and (om >= 0).all()
    assert lam.sum() == pytest.approx(1.0) and (lam >= 0).all()
    # the ridge penalty spreads unit weights over many states (SC concentrates on few)
    assert (om > 1e-3).sum() > 10
    # time weights sit on the last pre-periods (1986-1988 in the paper's figure 1)
    assert lam[lam > 0.05].index.min() >= 1984
    assert len(om) == 38 and len(lam) == 19


def test_period_effects_average_to_estimate(sdid_fit):
    et = sdid_fit.event_time()
    assert len(et) == 31 and et["event_time"].iloc[0] == -19
    assert et.loc[et["event_time"] >= 0, "estimate"].mean() == pytest.approx(sdid_fit.estimate)
    # placebo SEs per period exist and the pre-period effects are small next to the
    # post-1989 ones (the time-weighted pre-period gap is zero by construction)
    assert et["std_error"].notna().all()
    pre = et.loc[et["event_time"] < 0, "estimate"].abs().mean()
    post = et.loc[et["event_time"] >= 5, "estimate"].abs().mean()
    assert pre < post / 3


def test_did_matches_hand_computation(prop99):
    wide = prop99.pivot(index="state", columns="year", values="cigsale")
    post = wide.columns >= 1989
    ca = wide.loc["California"]
    rest = wide.drop(index="California")
    hand = (ca[post].mean() - ca[~post].mean()) - (rest.loc[:, post].mean(axis=1).mean()
                                                   - rest.loc[:, ~post].mean(axis=1).mean())
    est, _, _ = solve_weights(np.vstack([rest.to_numpy(), ca.to_numpy()]), 38, int((~post).sum()),
                              method="did")
    assert est == pytest.approx(hand, abs=1e-10)


def test_placebo_se_is_seeded_and_plausible(prop99, sdid_fit):
    again = sdid(prop99, unit="state", time="year", outcome="cigsale", treated="d",
                 replications=100, seed=3)
    assert again.std_error == sdid_fit.std_error
    # placebo effects of the 38 control states are of the order of their RMS gap (~5-15)
    assert 3 < sdid_fit.std_error < 20
    assert sdid_fit.inference == "placebo"


def test_jackknife_and_bootstrap_refuse_single_treated_unit(prop99):
    for inf in ("jackknife", "bootstrap"):
        with pytest.raises(ValueError, match="single treated unit"):
            sdid(prop99, unit="state", time="year", outcome="cigsale", treated="d", inference=inf)
    with pytest.raises(ValueError, match="inference"):
        sdid(prop99, unit="state", time="year", outcome="cigsale", treated="d", inference="hc1")


def _several_treated(seed=4, effect=2.0):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=15).cumsum()
    rows = []
    for u in range(30):
        load = 1 + 0.3 * (u % 5)
        for t in range(15):
            d = int(u < 5 and t >= 10)
            rows.append((u, t, u % 7 + load * f[t] + effect * d + rng.normal(0, 0.3), d))
    return pd.DataFrame(rows, columns=["unit", "time", "y", "d"])


def test_jackknife_and_bootstrap_with_several_treated_units():
    df = _several_treated()
    jk = sdid(df, unit="unit", time="time", outcome="y", treated="d", inference="jackknife")
    bs = sdid(df, unit="unit", time="time", outcome="y", treated="d", inference="bootstrap",
              replications=20, seed=1)
    pl = sdid(df, unit="unit", time="time", outcome="y", treated="d", inference="placebo",
              replications=20, seed=1)
    assert jk.estimate == bs.estimate == pl.estimate
    # noise sd 0.3 over 5 treated units and 5 post-periods: SEs of order 0.05-0.5
    for r in (jk, bs, pl):
        assert 0.01 < r.std_error < 1.0
    # true effect 2 inside a 3-SE band of every variance estimator
    for r in (jk, bs, pl):
        assert abs(r.estimate - 2.0) < 3 * r.std_error
    assert jk.extras["n_treated_units"] == 5


def test_fit_panel_recovers_known_effect():
    panel = make_panel(seed=7)
    res = fit_panel(panel, outcome="workdays", config=StudyConfig(), replications=100)
    # muni-year means have noise sd 15/sqrt(60) ~ 1.9; |est - 5| < 3 SE fails w.p. < 0.3%
    assert abs(res.estimate - 5.0) < 3 * res.std_error
    assert res.design == "sdid" and res.n_units == 16
    d = res.to_dict()
    assert d["inference"] == "placebo" and len(d["conf_int"]) == 2
    assert set(d["extras"]["unit_weights"]) == {f"{1810 + i:04d}" for i in range(15)}


def test_block_design_required():
    df = _several_treated()
    df.loc[(df["unit"] == 0) & (df["time"] == 9), "d"] = 1   # one unit adopts earlier
    with pytest.raises(ValueError, match="block design"):
        sdid(df, unit="unit", time="time", outcome="y", treated="d", inference=None)


def test_plots_return_axes(sdid_fit):
    import matplotlib.pyplot as plt

    assert sdid_fit.plot().get_title().startswith("Synthetic DiD")
    fig, ax = plt.subplots()
    assert sdid_fit.plot_weights(ax=ax) is ax
    assert sdid_fit.plot_effects().get_xlabel() == "Event time"
    plt.close("all")


def test_batched_solver_equals_single_problem_solver(prop99):
    from ips_study.designs.sdid_batch import solve_weights_batch
    from ips_study.designs.synth_data import outcome_matrix

    m = outcome_matrix(prop99, unit="state", time="year", outcome="cigsale", treated="d")
    rng = np.random.default_rng(9)
    perms = np.stack([rng.permutation(m.n_control) for _ in range(2)])
    for method in ("sdid", "sc"):
        batch, om_b, lam_b = solve_weights_batch(m.Y[perms], m.n_control - 1, m.n_pre,
                                                 method=method)
        for b, idx in enumerate(perms):
            est, om, lam = solve_weights(m.Y[idx], m.n_control - 1, m.n_pre, method=method)
            # same arithmetic in a different order: agreement to rounding error
            assert batch[b] == pytest.approx(est, abs=1e-8)
            np.testing.assert_allclose(om_b[b], om, atol=1e-10)
