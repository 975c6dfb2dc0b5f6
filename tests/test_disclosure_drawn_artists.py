"""Counts drawn as artists other than text, bars and stairs (issue 20): the figure record
took only those three, so a count drawn as a step histogram, a hand-added rectangle, a line,
a filled area, error bars, a scatter, a heat map or a pie passed ``check-outputs``.

Each planted figure below draws a count of 3 persons (or 2) and nothing else small."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import ips_study.disclosure as dc  # noqa: E402

PLANTED = {
    "hist_step": lambda ax: ax.hist([1.0] * 30 + [2.0] * 3, bins=[0.5, 1.5, 2.5], histtype="step"),
    "hist_stepfilled_horizontal": lambda ax: ax.hist([1.0] * 30 + [2.0] * 3, bins=[0.5, 1.5, 2.5],
                                                     histtype="stepfilled", orientation="horizontal"),
    "rectangle": lambda ax: (ax.add_patch(Rectangle((0, 0), 0.8, 3)),
                             ax.add_patch(Rectangle((1, 0), 0.8, 40)), ax.set_xlim(0, 2), ax.set_ylim(0, 45)),
    "fill_between": lambda ax: ax.fill_between([2014, 2015, 2016], 0, [40, 3, 25]),
    "errorbar": lambda ax: ax.errorbar([2014, 2015], [40, 3], yerr=[4.5, 1.5], fmt="o"),
    "step": lambda ax: ax.step([2014, 2015, 2016], [40, 3, 25]),
    "plot": lambda ax: ax.plot([2014, 2015, 2016], [40, 3, 25]),
    "scatter": lambda ax: ax.scatter([2014, 2015], [40, 3]),
    "scatter_colour": lambda ax: ax.scatter([0.1, 0.2], [0.3, 0.4], c=[40, 3]),
    "stem": lambda ax: ax.stem([2014, 2015], [40, 3]),
    "vlines": lambda ax: ax.vlines([2014, 2015], 0, [40, 3]),
    "imshow": lambda ax: ax.imshow(np.array([[40, 3], [25, 60]])),
    "hist2d": lambda ax: ax.hist2d([0.1] * 30 + [0.9] * 3, [0.1] * 30 + [0.9] * 3, bins=2),
    "barh_categories_line": lambda ax: ax.plot([40, 3], ["Bodø", "Tromsø"], "o"),
}


def _save(tmp_path, name, draw):
    fig, ax = plt.subplots()
    draw(ax)
    dc.save_figure(fig, tmp_path / f"{name}.png")
    plt.close(fig)


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_count_drawn_by_any_artist_is_caught(tmp_path, name):
    _save(tmp_path, name, PLANTED[name])
    res = dc.check_outputs(tmp_path)
    assert [v.kind for v in res.violations] == ["small_count"] * len(res.violations), res.to_text()
    assert res.violations, res.to_text()
    assert all(v.location.startswith("drawn count") for v in res.violations)


def test_a_pie_cannot_be_read_back_and_is_unverified(tmp_path):
    _save(tmp_path, "pie", lambda ax: ax.pie([40, 3]))
    res = dc.check_outputs(tmp_path)
    assert {v.kind for v in res.violations} == {"unverified_figure"}, res.to_text()
    assert "Wedge" in res.violations[0].location


def test_figures_of_shares_estimates_and_reference_lines_pass(tmp_path):
    """What the package's figures draw: shares, survival curves (starting at exactly 1),
    estimates with intervals, reference lines at 1, spans, event time on x."""
    def draw(ax):
        ax.step([0, 1, 2, 3], [1.0, 0.8, 0.55, 0.4], where="post")
        ax.fill_between([0, 1, 2, 3], [0.9, 0.7, 0.45, 0.3], [1.0, 0.9, 0.65, 0.5], alpha=0.2)
        ax.errorbar([-3, -2, -1, 0, 1, 2], [0.01, -0.02, 0.0, 0.03, 0.05, 0.04],
                    yerr=[0.02] * 6, fmt="o")
        ax.axhline(1, ls=":")
        ax.axhline(0)
        ax.axvline(-0.5)
        ax.axvspan(2, 3, alpha=0.1)
        ax.scatter([0.5, 1.5], [0.25, 0.75])
    _save(tmp_path, "shares", draw)
    _save(tmp_path, "forest", lambda ax: ax.errorbar([0.2, -0.1], ["workdays", "ltbd"],
                                                     xerr=[0.05, 0.02], fmt="o"))
    _save(tmp_path, "density", lambda ax: ax.hist([0.1, 0.2, 0.25, 0.4], histtype="step",
                                                  density=True))
    res = dc.check_outputs(tmp_path)
    assert res.ok, res.to_text()


def test_declarations_cover_every_artist(tmp_path):
    """``mark_measures`` on an axes or an artist takes its values out of the count check (and
    lists them); ``mark_counts`` on a line makes every value a count, fractions too."""
    def measured(ax):
        ax.plot([2014, 2015], [40, 3])
        ax.pie([40, 3], radius=0.1, center=(2014.5, 20), frame=True)
        dc.mark_measures(ax, "NOK (millions)")
    _save(tmp_path, "measured", measured)
    assert dc.check_outputs(tmp_path).ok

    def counted(ax):
        (line,) = ax.plot([2014, 2015], [40.5, 2.5])  # averaged counts: still persons
        dc.mark_counts(line)
    _save(tmp_path, "counted", counted)
    res = dc.check_outputs(tmp_path)
    assert [(v.file, v.kind) for v in res.violations] == [("counted.png", "small_count")], res.to_text()
