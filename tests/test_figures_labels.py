"""One house style for every analysis figure (issue 21): no code names in any text, units on
every axis, integer ticks for counts, the inference method named at every interval band,
Monte Carlo error on simulated curves, number at risk under survival curves.

Each figure function of the reproduce pipeline is drawn on small inputs (those of
tests/test_figures.py, plus economics and power inputs built here) and every Text artist of
its figure is read back after drawing, so tick labels and legend titles are included.
"""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ips_study import figures  # noqa: E402
from ips_study.config import StudyConfig  # noqa: E402
from tests.test_figures import (aggregate, event_results, flow_table, km_results,  # noqa: E402
                                quarterly_metrics, reviews, synth_results)

#: a code name: lower-case words joined by underscores (``npv_society_participant``)
pytestmark = pytest.mark.filterwarnings("ignore:More than 20 figures")

#: (see above)
SNAKE = re.compile(r"(?<![\w.])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w])")


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def economics_results():
    from ips_study import economics

    return economics.evaluate({"workdays": (5.6, 1.4), "work_assessment": (-0.03, 0.01),
                               "disability": (-0.01, 0.005)}, economics.EconomicInputs(),
                              seed=3, draws=500)


def power_report(reps=100):
    rng = np.random.default_rng(1)
    effects = np.linspace(0, 20, 5)
    rows = []
    for m, scale in (("cluster", 4.0), ("placebo", 9.0), ("placebo-t", 8.0),
                     ("conley-taber", 9.5), ("ferman-pinto", 8.5)):
        p = np.clip(0.05 + effects / (2.2 * scale) + rng.normal(0, 0.01, 5), 0, 1)
        rows.append(pd.DataFrame({"method": m, "effect": effects, "power": p,
                                  "power_se": np.sqrt(p * (1 - p) / reps), "reps": reps,
                                  "size": p[0], "mde": 1.6 * scale}))

    def by(name, values):
        p = np.linspace(0.3, 0.7, len(values))
        return pd.DataFrame({name: values, "power": p, "power_se": np.sqrt(p * (1 - p) / reps),
                             "size": 0.05, "mde": np.linspace(20, 9, len(values))})

    return {"compare": pd.concat(rows, ignore_index=True),
            "by_controls": by("n_controls", [5, 10, 15, 21, 30, 40]),
            "by_followup": by("post_years", [1, 2, 3, 4, 5, 7])}


def cox_results():
    from ips_study.designs.survival import fit_cox_panel
    from tests.survival_dgp import simulate_panel

    return fit_cox_panel(simulate_panel(n=400, months=48, seed=4),
                         config=StudyConfig(design="closed"), inference="robust")


def staggered_results():
    from ips_study.designs.staggered import att_gt

    rng = np.random.default_rng(5)
    rows = [(u, t, [0, 0, 4, 6][u % 4], rng.normal() + 0.3 * t) for u in range(40)
            for t in range(1, 9)]
    df = pd.DataFrame(rows, columns=["unit", "time", "group", "y"])
    return att_gt(df, outcome="y", unit="unit", time="time", group="group").aggregate(
        "dynamic", bootstrap=True, n_boot=99, seed=1)


@pytest.fixture(scope="module")
def all_figures():
    """name -> Figure, one per figure function of the reproduce pipeline, both languages."""
    km, ci = km_results()
    sy, counts = synth_results()
    econ = economics_results()
    cox = cox_results()
    stag = staggered_results()
    out = {}
    for lang in ("en", "no"):
        def one(draw):
            return draw().figure

        def two(draw_a, draw_b):
            fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
            draw_a(axes[0])
            draw_b(axes[1])
            return fig

        out.update({
            f"1_flow_{lang}": one(lambda: figures.plot_participant_flow(flow_table(), lang=lang)),
            f"2_event_{lang}": one(lambda: figures.plot_event_study(event_results(), lang=lang)),
            f"3_trends_{lang}": one(lambda: figures.plot_trends(aggregate(), "workdays", lang=lang)),
            f"4_synth_{lang}": two(
                lambda ax: figures.plot_synth_gap(sy, counts, ax=ax, lang=lang),
                lambda ax: figures.plot_synth_placebos(sy, counts, ax=ax, lang=lang)),
            f"5_staggered_{lang}": one(lambda: figures.plot_staggered(stag, lang=lang)),
            f"6_survival_{lang}": two(
                lambda ax: figures.plot_km(km, ax=ax, lang=lang),
                lambda ax: figures.plot_cumulative_incidence(ci, ax=ax, lang=lang,
                                                             risk_table=km.risk_table())),
            f"7_schoenfeld_{lang}": one(lambda: figures.plot_schoenfeld(cox, lang=lang)),
            f"8_programme_{lang}": one(lambda: figures.plot_programme_metrics(quarterly_metrics(),
                                                                              lang=lang)),
            f"fidelity_{lang}": one(lambda: figures.plot_fidelity_profile(reviews(), lang=lang)),
            f"9_cost_benefit_{lang}": two(
                lambda ax: figures.plot_ceac(econ, ax=ax, lang=lang),
                lambda ax: figures.plot_tornado(econ, ax=ax, lang=lang)),
            f"10_power_{lang}": figures.plot_power_report(power_report(), lang=lang),
        })
    for fig in out.values():
        fig.canvas.draw()  # tick labels exist only after drawing
    return out


def all_text(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_no_text_on_any_figure_is_a_code_name(all_figures):
    bad = {name: hits for name, fig in all_figures.items()
           if (hits := [t for t in all_text(fig) if SNAKE.search(t)])}
    assert not bad, bad


def test_the_label_test_catches_a_code_name():
    # the test above must be able to fail: the quick-look plot of the economic model shows
    # its parameter names
    fig, ax = plt.subplots()
    economics_results().plot_tornado(ax=ax)
    fig.canvas.draw()
    assert any(SNAKE.search(t) for t in all_text(fig))


def _numeric_ticks(labels) -> bool:
    texts = [t.get_text().replace("\u2212", "-").replace(",", "").replace("\u2009", "")
             for t in labels if t.get_text()]
    return bool(texts) and all(re.fullmatch(r"-?[\d.]+%?", t) for t in texts)


def test_every_numeric_axis_has_a_label(all_figures):
    missing = []
    for name, fig in all_figures.items():
        for ax in fig.axes:
            if not ax.has_data():
                continue
            for axis, get in (("x", ax.get_xlabel), ("y", ax.get_ylabel)):
                ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
                shared = axis == "y" and ax.get_shared_y_axes().get_siblings(ax) != [ax] \
                    and ax is not fig.axes[0]
                if _numeric_ticks(ticks) and not get() and not shared:
                    missing.append((name, fig.axes.index(ax), axis))
    assert not missing, missing


def test_counts_have_integer_ticks(all_figures):
    for lang in ("en", "no"):
        power = all_figures[f"10_power_{lang}"].axes
        flow = all_figures[f"1_flow_{lang}"].axes
        for ax in (power[1], power[2], *flow):
            ticks = ax.get_xticks()
            assert np.allclose(ticks, np.round(ticks)), (lang, ticks)
        assert all(ax.get_xscale() == "linear" for ax in flow)


def test_every_interval_band_names_its_inference_method(all_figures):
    from ips_study.figures.labels import INFERENCES

    methods = {p[0] for p in INFERENCES.values()} | {"bootstrap"}
    for name in ("2_event_en", "5_staggered_en", "6_survival_en"):
        fig = all_figures[name]
        titles = [ax.get_legend().get_title().get_text() for ax in fig.axes if ax.get_legend()]
        assert titles and all(any(m in t for m in methods) for t in titles), (name, titles)
    text = " ".join(all_text(all_figures["5_staggered_en"]))
    assert "uniform band: multiplier bootstrap" in text


def test_simulated_curves_show_monte_carlo_error(all_figures):
    power = all_figures["10_power_en"].axes
    for ax in power:
        assert ax.containers, "error bars expected"
        err = ax.containers[0].lines[2][0].get_segments()
        widths = [seg[1][1] - seg[0][1] for seg in err]
        assert min(widths) >= 0 and max(widths) > 0
    ceac = all_figures["9_cost_benefit_en"].axes[0]
    assert len(ceac.collections) == 1  # the Monte Carlo band
    assert "Monte Carlo" in " ".join(t.get_text() for t in ceac.get_legend().get_texts())


def test_mde_monte_carlo_error_matches_a_simulation():
    # the delta-method MC SE of an MDE against the spread of simulated MDEs under a normal
    # test: MDE = 80th percentile of |estimate| needed, from 200 replications; 400 repeats
    # give the SD of the simulated MDE to about 4 % (1/sqrt(2 x 400))
    from scipy import stats

    from ips_study.figures.power import mde_mc_se

    rng = np.random.default_rng(8)
    sigma, reps, z = 1.0, 200, stats.norm.ppf(0.975)
    mdes = []
    for _ in range(400):
        est = rng.normal(0, sigma, reps)
        lower = est - z * sigma  # the interval at effect 0, shifted by the effect below
        mdes.append(np.quantile(-lower, 0.8))
    expected = (z + stats.norm.ppf(0.8)) * sigma
    assert np.mean(mdes) == pytest.approx(expected, rel=0.02)
    assert mde_mc_se(expected, reps) == pytest.approx(np.std(mdes), rel=0.15)


def test_number_at_risk_sits_under_both_survival_plots(all_figures):
    km, _ = km_results()
    table = figures.number_at_risk(km, [12, 24], risk_table=km.risk_table())
    exact = km.risk_table()
    for g in table.index:
        for t in (12, 24):
            v = table.at[g, float(t)]
            assert np.isnan(v) or v == exact.at[g, t]
    fig = all_figures["6_survival_en"]
    for ax in fig.axes:
        texts = [t.get_text() for t in ax.texts]
        assert "Number at risk" in texts
    assert "Antall i risiko" in [t.get_text() for t in all_figures["6_survival_no"].axes[0].texts]


def test_number_at_risk_hides_small_risk_sets():
    class R:
        def curves(self):
            return {"treated": pd.DataFrame({"time": [1.0, 12.0, 30.0], "n_risk": [50.0, 4.0, 3.0]})}

    t = figures.number_at_risk(R(), [0, 12, 24, 48], min_count=5)
    assert t.loc["treated"].tolist()[0] == 50
    assert np.isnan(t.loc["treated"].tolist()[1:]).all()


@pytest.mark.parametrize("lang", ["en", "no"])
def test_an_mde_beyond_the_simulated_effects_is_marked_without_a_stray_warning(lang):
    # with 5 control municipalities a placebo rank test cannot reach 80 % power at 5 %, so the
    # simulated MDE is infinite: its error bar was inf - inf (the "invalid value encountered in
    # add" of the reproduce run) and matplotlib dropped the point without a word
    import warnings

    from ips_study.figures.power import plot_mde_by

    p = np.array([0.3, 0.5, 0.7])
    t = pd.DataFrame({"n_controls": [5, 10, 20], "power": p, "power_se": np.sqrt(p * (1 - p) / 200),
                      "size": 0.05, "mde": [np.inf, 10.0, 8.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax = plot_mde_by(t, reps=200, lang=lang)
    marks = [ln for ln in ax.lines if ln.get_label() == figures.labels.label("mde_beyond", lang)]
    assert len(marks) == 1
    assert list(marks[0].get_xdata()) == [5] and marks[0].get_ydata()[0] == ax.get_ylim()[1]
    assert ax.get_ylim()[1] > 10.0  # the finite MDEs (and their bars) stay on the axes
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert figures.labels.label("mde_beyond", lang) in legend
    assert not [x for x in legend if SNAKE.search(x)]
