"""The one inference table (ips_study.inference.table), the shared placebo engine
(ips_study.inference.placebo_engine) and with_inference on the base results class."""

import pickle
from itertools import combinations, permutations

import numpy as np
import pandas as pd
import pytest

import ips_study as ips
from ips_study.config import StudyConfig
from ips_study.inference import DEFAULT_SEED, METHODS, check_method, methods_for, rank_table
from ips_study.inference import placebo_engine as engine
from ips_study.inference.table import TABLE, as_frame, dispatch

from .survival_dgp import simulate_panel

DESIGNS = ("did", "event_study", "synth", "sdid", "att_gt", "cox", "fine_gray",
           "discrete_hazard")


def synth_frame(seed=3, n_units=10, n_periods=12, t0=9, treated=(0,)):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=n_periods).cumsum()
    rows = [(u, t, (1 + 0.2 * u) * f[t] + rng.normal(0, 0.05)
             + (1.0 if u in treated and t >= t0 else 0.0), int(u in treated and t >= t0))
            for u in range(n_units) for t in range(n_periods)]
    return pd.DataFrame(rows, columns=["unit", "time", "y", "d"])


# -- the table --------------------------------------------------------------------------------
def test_every_design_has_its_methods_and_default_first():
    assert methods_for("did") == methods_for("event_study") == tuple(METHODS)
    assert methods_for("did")[0] == "placebo-t"
    assert methods_for("synth") == ("placebo", "none")
    assert methods_for("sdid") == ("placebo", "jackknife", "bootstrap", "none")
    assert methods_for("att_gt") == ("analytic", "bootstrap", "placebo")
    assert methods_for("cox") == ("placebo", "cluster", "robust", "model")
    assert methods_for("fine_gray") == ("crr", "robust", "cluster")
    assert methods_for("discrete_hazard") == ("placebo", "cluster", "model")
    frame = as_frame()
    assert set(frame["design"]) == set(DESIGNS)
    assert (frame.groupby("design")["default"].sum() == 1).all()
    # every TWFE method names a function that exists
    for name in METHODS:
        assert callable(ips.inference.get_method(name))


@pytest.mark.parametrize("design", DESIGNS)
def test_one_line_error_lists_the_methods_of_that_design(design):
    with pytest.raises(ValueError) as err:
        check_method(design, "no-such-method")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg == (f"unknown inference 'no-such-method' for {design}; valid: "
                   f"{', '.join(methods_for(design))}")
    assert check_method(design, None) == check_method(design, "default") == methods_for(design)[0]


def test_placebo_flag_marks_the_engine_methods():
    placebo = {(m, k) for (m, k), row in TABLE.items() if row.placebo}
    assert ("placebo", "synth") in placebo and ("placebo", "sdid") in placebo
    assert ("cluster", "twfe") not in placebo and ("analytic", "staggered") not in placebo


def test_dispatch_checks_the_handlers_against_the_table():
    handlers = {m: (lambda m=m: m) for m in methods_for("synth")}
    assert dispatch("synth", None, handlers)() == "placebo"
    with pytest.raises(RuntimeError, match="disagree on none"):
        dispatch("synth", "placebo", {"placebo": handlers["placebo"]})


def test_designs_validate_through_the_table():
    """Each design's entry point gives the table's one-line error (old code: each its own)."""
    df = synth_frame()
    with pytest.raises(ValueError, match=r"^unknown inference 'cluster' for sdid; valid: placebo, "
                                         r"jackknife, bootstrap, none$"):
        ips.sdid(df, y="y", unit="unit", time="time", treat="d", inference="cluster")
    with pytest.raises(ValueError, match=r"^unknown inference 'wild' for synth; valid: placebo, none$"):
        ips.synth(df, y="y", unit="unit", time="time", treat="d", inference="wild")
    with pytest.raises(ValueError, match=r"for did; valid: placebo-t, placebo, conley-taber"):
        ips.did(df, y="y", unit="unit", time="time", treat="d", inference="jackknife")


def test_register_designs_validate_through_the_table():
    from ips_study.designs.did import example_panel
    from ips_study.designs.staggered import fit_panel as staggered_panel
    from ips_study.designs.survival.panel_fit import (fit_cox_panel, fit_dthazard_panel,
                                                       fit_finegray_panel)
    from ips_study.designs.synth import fit_panel as synth_panel

    panel = example_panel(seed=1)
    cfg = StudyConfig()
    for fn, design in ((staggered_panel, "att_gt"), (synth_panel, "synth")):
        with pytest.raises(ValueError, match=f"for {design}; valid: "):
            fn(panel, outcome="workdays", config=cfg, inference="jackknife")
    spanel = simulate_panel(300, seed=21)
    closed = StudyConfig(design="closed")
    for fn, design in ((fit_cox_panel, "cox"), (fit_finegray_panel, "fine_gray"),
                       (fit_dthazard_panel, "discrete_hazard")):
        with pytest.raises(ValueError, match=f"for {design}; valid: {methods_for(design)[0]}"):
            fn(spanel, config=closed, inference="jackknife")


# -- the engine ---------------------------------------------------------------------------------
def test_enumeration_is_combinations_or_permutations_in_order():
    for k in (1, 2, 3):
        a = engine.draw_assignments(7, k, reps=None)
        assert a.enumerated and a.seed is None
        assert a.units.tolist() == [list(c) for c in combinations(range(7), k)]
        a = engine.draw_assignments(7, np.arange(k), reps=10_000)
        assert a.units.tolist() == [list(c) for c in permutations(range(7), k)]
    # 2 slots of one label, 1 of another: 5 * C(4, 2) = 30 distinct assignments
    assert len(engine.draw_assignments(5, [2015, 2013, 2015])) == 30


def test_random_samplers_are_the_designs_old_streams():
    """Kept draw for draw, so stored placebo results do not move."""
    rng = np.random.default_rng(7)
    old_did = np.array([rng.choice(11, size=3, replace=False) for _ in range(40)])
    new = engine.draw_assignments(11, 3, reps=40, seed=7, sampler="choice")
    np.testing.assert_array_equal(new.units, old_did)
    assert not new.enumerated and new.seed == 7
    rng = np.random.default_rng(7)
    old_staggered = np.argsort(rng.random((40, 11)), axis=1)[:, :3]
    np.testing.assert_array_equal(
        engine.draw_assignments(11, 3, reps=40, seed=7, sampler="argsort").units, old_staggered)
    rng = np.random.default_rng(7)
    old_sdid = np.stack([rng.permutation(11) for _ in range(5)])
    np.testing.assert_array_equal(
        engine.draw_assignments(11, 3, reps=5, seed=7, sampler="permutation",
                                enumerate=False).units, old_sdid)


def test_seed_comes_from_the_call_then_the_study():
    assert engine.resolve_seed(5) == 5
    assert engine.resolve_seed(None) == DEFAULT_SEED == StudyConfig().seed
    assert engine.resolve_seed(None, StudyConfig(seed=11)) == 11
    a = engine.draw_assignments(30, 4, reps=10, seed=None, sampler="choice")
    b = engine.draw_assignments(30, 4, reps=10, seed=DEFAULT_SEED, sampler="choice")
    assert a.seed == DEFAULT_SEED and np.array_equal(a.units, b.units)


def test_too_few_controls_is_a_one_line_error():
    with pytest.raises(ValueError, match="3 treated units but only 2 controls"):
        engine.draw_assignments(2, 3)


def test_refit_and_batch_give_the_same_run_and_the_rank_summary():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(12, 2))
    a = engine.draw_assignments(12, 1, reps=None)
    calls = []

    def refit(slot):
        calls.append(int(slot[0]))
        return np.nan if slot[0] == 4 else y[slot[0]]        # unit 4: not identified

    one = engine.run_placebo(a, estimate=refit)
    assert calls == list(range(12))                           # in order, once each
    both = engine.run_placebo(a, batch=lambda u: np.where(u == 4, np.nan, 1.0) * y[u[:, 0]])
    np.testing.assert_array_equal(one.draws, both.draws)
    assert one.identified().sum() == 11
    est = pd.Series([2.5, -0.1], index=["a", "b"])
    tidy, ci = one.summary(est, 0.9)
    kept = y[np.arange(12) != 4]
    ref, ref_ci = rank_table(est, kept, 0.9, np.sqrt(np.mean(kept ** 2, axis=0)))
    pd.testing.assert_frame_equal(tidy, ref)
    pd.testing.assert_frame_equal(ci(0.8), ref_ci(0.8))
    with pytest.raises(TypeError, match="exactly one"):
        engine.run_placebo(a)


# -- every placebo design runs through the engine ---------------------------------------------
def _spy(monkeypatch, module):
    seen = []

    def spy(assignments, **kw):
        seen.append(len(assignments))
        return engine.run_placebo(assignments, **kw)

    monkeypatch.setattr(module, "run_placebo", spy)
    return seen


def test_synth_and_sdid_placebos_use_the_engine(monkeypatch):
    from ips_study.designs import sdid as sdid_mod
    from ips_study.designs import synth as synth_mod

    df = synth_frame()
    seen = _spy(monkeypatch, synth_mod)
    res = ips.synth(df, y="y", unit="unit", time="time", treat="d", leave_one_out=False)
    assert seen == [9] and res.extras["n_placebos"] == 9
    seen = _spy(monkeypatch, sdid_mod)
    ips.sdid(df, y="y", unit="unit", time="time", treat="d", replications=20)
    assert seen == [20]


def test_did_placebos_use_the_engine(monkeypatch):
    from ips_study.inference import assignments, randomization

    df = synth_frame(n_units=9, treated=(0, 1))
    seen = _spy(monkeypatch, assignments)
    res = ips.did(df, y="y", unit="unit", time="time", treat="d", inference="placebo")
    assert seen == [21] and res.extras["n_placebos"] == 21          # C(7, 2)
    seen = _spy(monkeypatch, randomization)
    df1 = synth_frame(n_units=9)
    res = ips.did(df1, y="y", unit="unit", time="time", treat="d", inference="placebo")
    assert seen == [8] and res.extras["n_placebos"] == 8


# -- with_inference on the base class -------------------------------------------------------
def test_with_inference_reruns_sdid_and_synth():
    df = synth_frame(n_units=12, treated=(0, 1, 2))
    res = ips.sdid(df, y="y", unit="unit", time="time", treat="d", replications=30, seed=4)
    jk = res.with_inference("jackknife")
    direct = ips.sdid(df, y="y", unit="unit", time="time", treat="d", inference="jackknife")
    assert jk.inference == "jackknife" and jk.std_error == direct.std_error
    assert jk.estimate == res.estimate
    again = jk.with_inference("placebo", level=0.9)
    assert again.std_error == res.std_error and again.level == 0.9
    with pytest.raises(ValueError, match="for sdid; valid"):
        res.with_inference("wild")
    s = ips.synth(synth_frame(), y="y", unit="unit", time="time", treat="d",
                  leave_one_out=False)
    none = pickle.loads(pickle.dumps(s)).with_inference("none")       # results stay picklable
    assert none.estimate == s.estimate and np.isnan(none.std_error)
    assert none.with_inference("placebo").std_error == s.std_error


def test_with_inference_is_the_base_class_method_for_did():
    from ips_study.designs.did_results import DidResults
    from ips_study.results import Results

    assert "with_inference" not in vars(DidResults)
    df = synth_frame(n_units=9)
    res = ips.did(df, y="y", unit="unit", time="time", treat="d", inference="placebo")
    with pytest.warns(UserWarning, match="treated cluster"):
        cl = res.with_inference("cluster")
    assert Results.with_inference is type(res).with_inference
    assert cl.inference == "cluster" and cl.estimate == res.estimate


def test_staggered_and_survival_placebos_use_the_engine(monkeypatch):
    import warnings

    from ips_study.designs import staggered_placebo
    from ips_study.designs.staggered import fit_panel as staggered_panel
    from ips_study.designs.survival import placebo as survival_placebo
    from ips_study.designs.survival.panel_fit import fit_cox_panel

    from .test_staggered_placebo import make_panel

    seen = _spy(monkeypatch, staggered_placebo)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the one-unit-group analytic-SE warning
        res = staggered_panel(make_panel(starts={"1804": 2013}, n_controls=6, seed=1),
                              outcome="workdays", config=StudyConfig(), inference="placebo")
    assert seen == [6] and res.extras["n_placebos"] == 6
    seen = _spy(monkeypatch, survival_placebo)
    res = fit_cox_panel(simulate_panel(300, seed=21), config=StudyConfig(design="closed"),
                        inference="placebo")
    assert len(seen) == 1 and seen[0] == res.extras["n_placebos"] + res.extras[
        "placebo_not_identified"]
