"""Figures: house style, languages, deterministic saving and disclosure control (issue 9).

Every figure is drawn from small inputs built here (fixed seeds), never from the synthetic
generator, so a failure points at the figure code. The checks read the drawn artists back
(line data, bar widths, text) rather than comparing images.
"""

from __future__ import annotations

import hashlib
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from ips_study import disclosure, figures
from ips_study.config import StudyConfig
from ips_study.figures import labels as lb
from ips_study.figures.style import SERIES, format_number
from ips_study.results import Results


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- inputs -----------------------------------------------------------------------------------
def flow_table():
    return pd.DataFrame({
        "step": ["persons in the registers", "alive and resident in Norway",
                 "resident in a study municipality", "aged 18-40",
                 "mental-health contact in previous 24 months", "not on disability pension"],
        "treated": [900, 880, 880, 300, 40, 37],
        "controls": [9000, 8800, 8800, 3000, 400, 350],
        "total": [12000, 11500, 9680, 3300, 440, 387],
    })


def aggregate(seed=0, small=()):
    """Municipality x year means: Bodø, three never-exposed controls, one later adopter."""
    rng = np.random.default_rng(seed)
    rows = []
    for code, n, start in [("1804", 60, "2013"), ("1833", 80, None), ("1840", 40, None),
                           ("1841", 30, None), ("1806", 50, "2015")]:
        for year in range(2008, 2020):
            exposed = int(start is not None and year >= int(start))
            rows.append({"municipality": code, "period": str(year),
                         "period_start": pd.Timestamp(f"{year}-01-01"), "treated": int(code == "1804"),
                         "exposed": exposed, "ips_start": pd.Timestamp(f"{start}-01-01") if start else pd.NaT,
                         "n_persons": 3 if (code, year) in small else n,
                         "ltbd": rng.uniform(0.1, 0.3), "workdays": rng.uniform(50, 150)})
    return pd.DataFrame(rows)


def event_results(n_units=20, level=0.95):
    et = pd.DataFrame({"event_time": [-3, -2, -1, 0, 1, 2], "estimate": [0.5, -0.2, 0.0, 2.0, 3.0, 4.0],
                       "std_error": [1.0, 1.0, 0.0, 1.0, 1.2, 1.5]})
    et["conf_low"] = et["estimate"] - 1.96 * et["std_error"]
    et["conf_high"] = et["estimate"] + 1.96 * et["std_error"]
    tidy = pd.DataFrame({"estimate": [3.0], "std_error": [1.0]}, index=["post_average"])
    return Results(tidy, design="event", outcome="workdays", inference="cluster", n_obs=5000,
                   n_units=n_units, event_time=et, level=level)


def synth_results(seed=3):
    from ips_study.designs.synth import synth

    rng = np.random.default_rng(seed)
    f = rng.normal(size=12).cumsum()
    units = ["1804", "1833", "1840", "1841", "1842", "1843"]
    rows = [(u, str(2008 + t), (1 + 0.2 * k) * f[t] + rng.normal(0, 0.05)
             + (1.0 if u == "1804" and t >= 5 else 0.0), int(u == "1804" and t >= 5))
            for k, u in enumerate(units) for t in range(12)]
    df = pd.DataFrame(rows, columns=["municipality", "period", "ltbd", "d"])
    res = synth(df, unit="municipality", time="period", outcome="ltbd", treated="d")
    counts = df.assign(n_persons=50)[["municipality", "period", "n_persons", "ltbd"]]
    return res, counts


def km_results():
    from ips_study.designs.survival import fit_cuminc_panel, fit_km_panel
    from tests.survival_dgp import simulate_panel

    panel = simulate_panel(n=400, months=48, seed=4)
    cfg = StudyConfig(design="closed")
    return (fit_km_panel(panel, config=cfg, horizon=24),
            fit_cuminc_panel(panel, config=cfg, horizon=24))


def quarterly_metrics():
    from ips_study.caseload import metrics_by_quarter

    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        # three early job seekers make 2013Q1 a small quarter that must be hidden
        first = "2013-01-01" if i < 3 else "2013-04-01"
        ref = pd.Timestamp(first) + pd.Timedelta(days=int(rng.integers(0, 60 if i < 3 else 450)))
        start = ref + pd.Timedelta(days=int(rng.integers(3, 20)))
        job = start + pd.Timedelta(days=int(rng.integers(30, 400))) if rng.random() < 0.6 else None
        rows.append({"person_id": f"p{i}", "specialist_id": f"s{i % 3}", "service": "psychosis team",
                     "referral_date": ref, "start_date": start,
                     "first_employer_contact_date": start + pd.Timedelta(days=20),
                     "job_start_date": job, "end_date": None, "end_reason": None})
    weeks = pd.DataFrame({"specialist_id": [f"s{k}" for k in range(3) for _ in range(100)],
                          "week_start": list(pd.date_range("2013-01-07", periods=100, freq="7D")) * 3,
                          "employer_meetings": rng.integers(4, 12, 300),
                          "hours_worked": 37.5, "hours_in_community": rng.uniform(15, 30, 300)})
    return metrics_by_quarter(pd.DataFrame(rows), weeks, start="2013Q1", end="2014Q4")


def reviews():
    a = {"review": "2013", **{f"item_{i}": 3 for i in range(1, 26)}}
    b = {"review": "2014", **{f"item_{i}": 4 + (i % 2) for i in range(1, 26)}}
    return pd.DataFrame([a, b])


def texts(ax) -> list[str]:
    """Every piece of text on an Axes: title, labels, ticks, legend, annotations."""
    out = [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
    out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    out += [t.get_text() for t in ax.texts]
    leg = ax.get_legend()
    if leg is not None:
        out += [t.get_text() for t in leg.get_texts()] + [leg.get_title().get_text()]
    return [t for t in out if t]


# -- style and saving ---------------------------------------------------------------------------
def test_series_differ_by_line_style_and_marker_not_only_colour():
    pairs = [(str(s["linestyle"]), s["marker"]) for s in SERIES]
    assert len(set(p[0] for p in pairs)) == len(SERIES)
    assert len(set(p[1] for p in pairs)) == len(SERIES)
    for s in SERIES:  # greys only: r == g == b
        r, g, b, _ = matplotlib.colors.to_rgba(s["color"])
        assert r == g == b


def _draw_for_saving():
    ax = figures.plot_trends(aggregate(), "ltbd", lang="no")
    figures.plot_event_study(event_results(), ax=plt.subplots()[1])
    return ax


def test_save_writes_png_and_pdf_byte_identical_on_rerun(tmp_path):
    digests = []
    for k in range(2):
        paths = figures.save(_draw_for_saving(), tmp_path / f"run{k}" / "figure_1_trends", close=True)
        assert [p.suffix for p in paths] == [".png", ".pdf"]
        digests.append([hashlib.sha256(p.read_bytes()).hexdigest() for p in paths])
    assert digests[0] == digests[1]
    pdf = (tmp_path / "run0" / "figure_1_trends.pdf").read_bytes()
    png = (tmp_path / "run0" / "figure_1_trends.png").read_bytes()
    assert b"CreationDate" not in pdf and b"Matplotlib" not in pdf
    assert b"Software" not in png and b"matplotlib" not in png.lower()


def test_save_accepts_a_suffix_and_rejects_unknown_formats(tmp_path):
    ax = figures.new_axes()
    ax.plot([0, 1], [0, 1])
    assert figures.save(ax, tmp_path / "a.png", formats=("png",))[0].name == "a.png"
    with pytest.raises(ValueError, match="format"):
        figures.save(ax, tmp_path / "a", formats=("jpg",))


def test_save_uses_fixed_resolution(tmp_path):
    from PIL import Image

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    path = figures.save(fig, tmp_path / "f", formats=("png",), dpi=100)[0]
    w, h = Image.open(path).size
    # bbox "tight" trims the margins, so the size is at most 4 x 3 inches at 100 dpi
    assert 300 <= w <= 400 and 200 <= h <= 300


# -- languages ----------------------------------------------------------------------------------
def test_every_label_has_both_languages():
    for table in (lb.LABELS, lb.OUTCOMES, lb.METRICS):
        for key, pair in table.items():
            assert len(pair) == 2 and all(pair), key
    assert set(lb.FIDELITY_ITEMS_NO) == set(range(1, 26))
    with pytest.raises(KeyError):
        lb.label("no such label")
    with pytest.raises(ValueError, match="lang"):
        lb.label("controls", "de")


def test_flow_steps_translate_with_their_numbers():
    assert lb.flow_step_label("aged 20-35", "en") == "Aged 20–35"
    assert lb.flow_step_label("mental-health contact in previous 12 months", "no") == \
        "Kontakt for psykiske plager siste 12 måneder"
    assert lb.flow_step_label("some new step", "no") == "some new step"


def test_number_format_uses_decimal_comma_in_norwegian():
    assert format_number(0.0412, "no") == "0,041"
    assert format_number(-2.0, "no", 1) == "\u22122,0"
    assert format_number(0.0412, "en") == "0.041"


def _norwegian_figures():
    sy, counts = synth_results()
    km, ci = km_results()
    return {
        "flow": figures.plot_participant_flow(flow_table(), lang="no"),
        "trends": figures.plot_trends(aggregate(), "workdays", lang="no"),
        "event": figures.plot_event_study(event_results(), lang="no"),
        "synth": figures.plot_synth_gap(sy, counts, lang="no"),
        "placebos": figures.plot_synth_placebos(sy, counts, lang="no"),
        "km": figures.plot_km(km, lang="no"),
        "cif": figures.plot_cumulative_incidence(ci, lang="no"),
        "programme": figures.plot_programme_metrics(quarterly_metrics(), lang="no"),
        "fidelity": figures.plot_fidelity_profile(reviews(), lang="no"),
    }


def test_norwegian_figures_carry_no_english_labels():
    english = {en for en, no in list(lb.LABELS.values()) + list(lb.OUTCOMES.values())
               + list(lb.METRICS.values()) if en != no and len(en) > 4}
    english |= {t for _, _, _, t in __import__("ips_study.fidelity", fromlist=["ITEMS"]).ITEMS}
    for name, ax in _norwegian_figures().items():
        found = [t for t in texts(ax) for e in english
                 if re.search(rf"\b{re.escape(e.lower())}\b", t.lower())]
        assert not found, (name, found)
        assert texts(ax), name


def test_every_plot_rejects_an_unknown_language():
    sy, counts = synth_results()
    calls = [lambda: figures.plot_participant_flow(flow_table(), lang="sv"),
             lambda: figures.plot_trends(aggregate(), "ltbd", lang="sv"),
             lambda: figures.plot_event_study(event_results(), lang="sv"),
             lambda: figures.plot_synth_gap(sy, counts, lang="sv"),
             lambda: figures.plot_fidelity_profile(reviews(), lang="sv")]
    for call in calls:
        with pytest.raises(ValueError, match="lang"):
            call()


def test_plots_draw_on_the_given_axes_and_return_it():
    _, axes = plt.subplots(1, 3)
    assert figures.plot_trends(aggregate(), "ltbd", ax=axes[0]) is axes[0]
    assert figures.plot_event_study(event_results(), ax=axes[1]) is axes[1]
    assert figures.plot_participant_flow(flow_table(), ax=axes[2]) is axes[2]


# -- participant flow ---------------------------------------------------------------------------
def test_protect_flow_hides_small_counts_small_exclusions_and_their_partners():
    f = pd.DataFrame({"step": list("abcde"), "treated": [100, 97, 60, 3, 0],
                      "controls": [900, 800, 700, 650, 640], "total": [1000, 897, 760, 653, 640]})
    out = figures.protect_flow(f, min_count=5)
    # b: only 3 excluded since a -> hidden; c: 40 excluded since a (last published) -> shown
    assert np.isnan(out.loc[1, "treated"]) and out.loc[2, "treated"] == 60
    # d: 3 persons -> hidden; e: zero is not disclosive and 60 excluded since c -> shown
    assert np.isnan(out.loc[3, "treated"]) and out.loc[4, "treated"] == 0
    # secondary: with the total published, the partner cell of a hidden one is hidden too
    assert np.isnan(out.loc[1, "controls"]) and np.isnan(out.loc[3, "controls"])
    assert out.loc[2, "controls"] == 700
    assert out["total"].notna().all()


def test_flow_bars_match_the_published_counts_and_mark_hidden_ones():
    f = flow_table()
    f.loc[5, "treated"] = 38  # 2 excluded at the last step: must not be drawn
    f.loc[5, "total"] = 388
    ax = figures.plot_participant_flow(f)
    bars = [p.get_width() for p in ax.patches]
    n = len(f)
    assert bars[:n - 1] == list(f["treated"].iloc[:-1].astype(float))
    assert bars[n - 1] == 0
    assert disclosure.SUPPRESSED in [t.get_text() for t in ax.texts]
    # linear, so the attrition reads as it is (issue 21); the controls get their own panel
    assert ax.get_xscale() == "linear"
    other = [a for a in ax.figure.axes if a is not ax]
    assert len(other) == 1 and other[0].get_xscale() == "linear"
    assert [p.get_width() for p in other[0].patches] == list(f["controls"].iloc[:-1].astype(float)) + [0]


# -- trends -------------------------------------------------------------------------------------
def test_trend_table_pools_controls_by_persons_and_masks_small_cells():
    agg = aggregate(small={("1804", 2010), ("1841", 2011)})
    t = figures.trend_table(agg, "ltbd").set_index("period")
    assert np.isnan(t.loc["2010", "treated"]) and t.loc["2010", "treated_n"] == 3
    a = agg[(agg["period"] == "2011") & agg["municipality"].isin(["1833", "1840", "1841"])]
    expected = float((a["ltbd"] * a["n_persons"]).sum() / a["n_persons"].sum())
    assert t.loc["2011", "controls"] == pytest.approx(expected)
    # the later adopter 1806 is not a control
    assert t.loc["2011", "controls_n"] == 80 + 40 + 3


def test_plot_trends_leaves_gaps_where_a_cell_is_hidden():
    agg = aggregate(small={("1804", 2010)})
    ax = figures.plot_trends(agg, "workdays")
    y = ax.lines[0].get_ydata().astype(float)
    assert np.isnan(y[2]) and np.isfinite(np.delete(y, 2)).all()
    x = matplotlib.dates.date2num(ax.lines[0].get_xdata())
    ips = matplotlib.dates.date2num(pd.Timestamp("2013-01-01"))
    # points sit mid-year, so the IPS line separates 2012 from 2013
    assert x[4] < ips < x[5]
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()
    assert ax.lines[0].get_marker() != ax.lines[1].get_marker()


def test_plot_trends_names_unknown_outcomes():
    with pytest.raises(KeyError, match="outcome"):
        figures.plot_trends(aggregate(), "not_an_outcome")


# -- effects ------------------------------------------------------------------------------------
def test_event_study_draws_the_event_time_table():
    res = event_results()
    ax = figures.plot_event_study(res, unit="year")
    et = res.event_time()
    line = ax.containers[0].lines[0]
    assert np.allclose(line.get_ydata().astype(float), et["estimate"])
    assert ax.get_xlabel() == "Years since IPS start"
    # the band's inference method is named (issue 21)
    assert ax.get_legend().get_title().get_text() == "95% confidence interval: Clustered by municipality"


def test_event_study_offsets_several_models():
    ax = figures.plot_event_study([event_results(), event_results()], labels=["a", "b"])
    x0 = ax.containers[0].lines[0].get_xdata()
    x1 = ax.containers[1].lines[0].get_xdata()
    assert np.allclose(x1 - x0, 0.12)


def test_event_study_band_option_shades_the_interval():
    res = event_results()
    ax = figures.plot_event_study(res, band=True, unit="month")
    band = ax.collections[0].get_paths()[0].vertices
    et = res.event_time()
    assert band[:, 1].min() == pytest.approx(et["conf_low"].min())
    assert band[:, 1].max() == pytest.approx(et["conf_high"].max())
    assert ax.get_xlabel() == "Months since IPS start"


def test_event_study_refuses_results_on_too_few_units():
    with pytest.raises(disclosure.DisclosureError):
        figures.plot_event_study(event_results(n_units=3))


def test_staggered_plot_draws_the_uniform_band_from_a_bootstrap():
    from ips_study.designs.staggered import att_gt

    rng = np.random.default_rng(5)
    rows = []
    for u in range(40):
        g = [0, 0, 4, 6][u % 4]
        for t in range(1, 9):
            eff = 2.0 * (t - g + 1) if g and t >= g else 0.0
            rows.append((u, t, g, rng.normal() + 0.3 * t + eff))
    df = pd.DataFrame(rows, columns=["unit", "time", "group", "y"])
    dyn = att_gt(df, outcome="y", unit="unit", time="time", group="group").aggregate(
        "dynamic", bootstrap=True, n_boot=199, seed=1)
    ax = figures.plot_staggered(dyn)
    assert len(ax.collections) >= 1  # the uniform band
    y = ax.containers[0].lines[0].get_ydata().astype(float)  # object from errorbar
    assert np.allclose(y, dyn.event_time()["estimate"])


def test_synth_paths_gap_and_placebos_follow_the_results():
    res, counts = synth_results()
    ax = figures.plot_synth_gap(res, counts)
    treated, synthetic = (line.get_ydata() for line in ax.lines[1:3])
    bodo = counts[counts["municipality"] == "1804"].sort_values("period")["ltbd"].to_numpy()
    assert np.allclose(treated, bodo)
    assert np.allclose(treated - synthetic, res.gaps.to_numpy())
    # the synthetic path is the weighted mix of the donors' paths
    wide = counts.pivot(index="period", columns="municipality", values="ltbd")
    assert np.allclose(synthetic, wide[list(res.weights.index)].to_numpy() @ res.weights.to_numpy())
    ax = figures.plot_synth_gap(res, counts, paths=False)
    assert np.allclose(ax.lines[1].get_ydata(), res.gaps.to_numpy())
    ax = figures.plot_synth_placebos(res, counts, max_pre_rmspe_ratio=None)
    grey = [line for line in ax.lines if line.get_color() == "0.72"]
    assert len(grey) == len(res.weights)


def test_synth_points_resting_on_few_persons_are_left_out():
    res, counts = synth_results()
    counts.loc[(counts["municipality"] == "1804") & (counts["period"] == "2010"), "n_persons"] = 2
    counts.loc[(counts["municipality"] == "1840") & (counts["period"] == "2015"), "n_persons"] = 4
    ax = figures.plot_synth_gap(res, counts, paths=False)
    y = ax.lines[1].get_ydata().astype(float)
    assert np.isnan(y[2]) and np.isfinite(np.delete(y, 2)).all()
    ax = figures.plot_synth_placebos(res, counts, max_pre_rmspe_ratio=None)
    grey = [line for line in ax.lines if line.get_color() == "0.72"]
    unit_1840 = list(res.weights.index).index("1840")
    assert np.isnan(grey[unit_1840].get_ydata().astype(float)[7])


# -- survival -----------------------------------------------------------------------------------
def test_survival_curves_stop_where_the_risk_set_is_small():
    km, ci = km_results()
    for res, plot in ((km, figures.plot_km), (ci, figures.plot_cumulative_incidence)):
        ax = plot(res, min_count=60)
        curves = res.curves()
        cut = 0
        for line, key in zip(ax.lines, sorted(curves, key=lambda k: (not k.startswith("treated"), k))):
            c = curves[key]
            allowed = c.loc[c["n_risk"] >= 60, "time"]
            assert line.get_xdata().max() == pytest.approx(allowed.max())
            cut += c["time"].max() > allowed.max()
        assert cut >= 1  # the threshold removed the tail of at least one curve


def test_survival_plots_put_bodo_first_and_refuse_tiny_groups():
    km, _ = km_results()
    ax = figures.plot_km(km, lang="en")
    assert ax.get_legend().get_texts()[0].get_text().startswith("Bodø")
    assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()
    with pytest.raises(disclosure.DisclosureError):
        figures.plot_km(km, min_count=10_000)


# -- programme ----------------------------------------------------------------------------------
def test_programme_metrics_hide_protected_values_and_reject_mixed_units():
    m = quarterly_metrics()
    series = figures.protected_series(m, ["active", "share_in_work"])
    raw = m[(m["group_by"] == "overall") & (m["metric"] == "active")].set_index("quarter")["value"]
    small = raw[(raw > 0) & (raw < 5)].index
    assert len(small) and series.loc[small, "active"].isna().all()
    assert series.loc[small, "share_in_work"].isna().all()
    ax = figures.plot_programme_metrics(m, which=("ever_offered", "active"))
    assert np.allclose(ax.lines[1].get_ydata(), series["active"], equal_nan=True)
    with pytest.raises(ValueError, match="units"):
        figures.plot_programme_metrics(m, which=("active", "share_in_work"))


def test_fidelity_profile_restyles_the_reviews_and_names_bands():
    ax = figures.plot_fidelity_profile(reviews(), lang="no")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["2013: 75 (akseptabel)", "2014: 113 (god)"]
    assert ax.lines[0].get_marker() != ax.lines[1].get_marker()
    assert ax.get_yticklabels()[0].get_text() == "1. Antall brukere per jobbspesialist"


def test_schoenfeld_plot_summarises_residuals_without_one_point_per_person():
    from ips_study.designs.survival import fit_cox_panel
    from tests.survival_dgp import simulate_panel

    cox = fit_cox_panel(simulate_panel(n=400, months=48, seed=4),
                        config=StudyConfig(design="closed"), inference="robust")
    n_events = len(cox.zph().x)
    ax = figures.plot_schoenfeld(cox, bins=8, min_count=5, lang="no")
    means = ax.containers[0].lines[0]
    assert len(means.get_xdata()) == 8
    assert not ax.collections or all(len(c.get_offsets()) < n_events for c in ax.collections)
    # the group means are those of 8 equal-size groups of events sorted by time
    x = np.sort(np.asarray(cox.zph().x, float))
    assert means.get_xdata()[0] == pytest.approx(x[: -(-n_events // 8)].mean())
    assert ax.get_title().startswith("Test av proporsjonale hasarder")
    # too few events for even one group of min_count
    assert cox.n_units > n_events + 1  # so the refusal below comes from the event count
    with pytest.raises(disclosure.DisclosureError, match="events"):
        figures.plot_schoenfeld(cox, min_count=n_events + 1)
