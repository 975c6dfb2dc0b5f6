"""IPS-25 fidelity scale: scoring, bands, validation, change and the item profile plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from ips_study import fidelity as fid


def review(label, scores, style="item_{}"):
    return {"review": label, **{style.format(i): s for i, s in zip(range(1, 26), scores)}}


@pytest.mark.parametrize("total,expected", [
    (125, "exemplary"), (115, "exemplary"), (114, "good"), (100, "good"), (99, "fair"),
    (74, "fair"), (73, "not supported employment"), (25, "not supported employment"),
])
def test_band_boundaries(total, expected):
    assert fid.band(total) == expected


def test_band_rejects_impossible_totals():
    for bad in (24, 126):
        with pytest.raises(fid.FidelityError, match="between 25 and 125"):
            fid.band(bad)


def test_items_follow_the_manual():
    assert [n for n, *_ in fid.ITEMS] == list(range(1, 26))
    sections = pd.Series([sec for _, _, sec, _ in fid.ITEMS]).value_counts().to_dict()
    assert sections == {"staffing": 3, "organization": 8, "services": 14}
    assert fid.ITEMS[0][3] == "Caseload size" and fid.ITEMS[24][1] == "assertive_engagement"


def test_score_reviews_totals_sections_and_bands():
    rng = np.random.default_rng(4)
    scores = rng.integers(1, 6, size=(3, 25))
    df = pd.DataFrame([review(f"r{k}", s) for k, s in enumerate(scores)])
    out = fid.score_reviews(df)
    assert out["total"].tolist() == scores.sum(axis=1).tolist()
    assert out["staffing"].tolist() == scores[:, :3].sum(axis=1).tolist()
    assert out["organization"].tolist() == scores[:, 3:11].sum(axis=1).tolist()
    assert out["services"].tolist() == scores[:, 11:].sum(axis=1).tolist()
    assert (out["staffing"] + out["organization"] + out["services"] == out["total"]).all()
    assert out["band"].tolist() == [fid.band(t) for t in scores.sum(axis=1)]
    assert out["mean_item"].to_numpy() == pytest.approx(scores.mean(axis=1))


@pytest.mark.parametrize("style", ["item_{}", "item_{:02d}", "{}"])
def test_item_column_naming_variants(style):
    df = pd.DataFrame([review("a", [5] * 25, style)])
    assert fid.score_reviews(df)["total"].tolist() == [125]


def test_item_keys_and_review_dates_are_accepted():
    row = {"review_date": "2014-06-01", **{key: 4 for _, key, _, _ in fid.ITEMS}}
    out = fid.score_reviews(pd.DataFrame([row]))
    assert out.loc[0, "review"] == "2014-06-01" and out.loc[0, "total"] == 100


def test_missing_items_are_named():
    df = pd.DataFrame([review("a", [3] * 25)]).drop(columns=["item_7", "item_19"])
    with pytest.raises(fid.FidelityError, match=r"item column\(s\) \[7, 19\]"):
        fid.score_reviews(df)


def test_empty_and_out_of_range_scores_are_named():
    scores = [3] * 25
    scores[2], scores[10], scores[20], scores[21] = 6, 0, 3.5, np.nan
    with pytest.raises(fid.FidelityError) as err:
        fid.score_reviews(pd.DataFrame([review("spring 2014", scores)]))
    msg = str(err.value)
    assert "review 'spring 2014'" in msg
    assert "item(s) [22] not scored" in msg
    assert "item 3 = 6" in msg and "item 11 = 0" in msg and "item 21 = 3.5" in msg


def test_text_scores_and_duplicates_are_rejected():
    bad = review("a", [3] * 25)
    bad["item_5"] = "good"
    with pytest.raises(fid.FidelityError, match="item 5 = 'good'"):
        fid.score_reviews(pd.DataFrame([bad]))
    with pytest.raises(fid.FidelityError, match="duplicate review"):
        fid.score_reviews(pd.DataFrame([review("a", [3] * 25), review("a", [4] * 25)]))
    dup = review("a", [3] * 25)
    dup["item_01"] = 3
    with pytest.raises(fid.FidelityError, match="item 1 appears twice"):
        fid.score_reviews(pd.DataFrame([dup]))
    with pytest.raises(fid.FidelityError, match="'review' or 'review_date'"):
        fid.score_reviews(pd.DataFrame([review("a", [3] * 25)]).drop(columns="review"))


def test_change_between_reviews():
    a, b, c = [3] * 25, [3] * 25, [5] * 25
    b[0] = 5
    df = pd.DataFrame([review("2013", a), review("2014", b), review("2015", c)])
    ch = fid.change_between_reviews(df)
    assert list(ch.columns) == ["2013 -> 2014", "2014 -> 2015"]
    assert ch.loc[1, "2013 -> 2014"] == 2 and ch.loc[2, "2013 -> 2014"] == 0
    assert ch.loc["total"].tolist() == [2, 48]
    with pytest.raises(fid.FidelityError, match="at least two"):
        fid.change_between_reviews(df.iloc[:1])


def test_item_table_is_long_profile():
    df = pd.DataFrame([review("2013", range(1, 26)), review("2014", [5] * 25)])
    with pytest.raises(fid.FidelityError, match="item 6 = 6"):
        fid.item_table(df)  # range(1, 26) runs past 5 from item 6 on
    ok = pd.DataFrame([review("2013", [2] * 25), review("2014", [5] * 25)])
    t = fid.item_table(ok)
    assert list(t.columns) == ["item", "key", "section", "title", "2013", "2014"]
    assert t.shape == (25, 6)


def test_item_table_values():
    scores = [((i - 1) % 5) + 1 for i in range(1, 26)]
    t = fid.item_table(pd.DataFrame([review("2013", scores)]))
    assert t["2013"].tolist() == scores
    assert t.loc[0, "title"] == "Caseload size"


def test_plot_item_profile_returns_axes():
    import matplotlib.pyplot as plt

    df = pd.DataFrame([review("2013", [3] * 25), review("2014", [4] * 25)])
    ax = fid.plot_item_profile(df)
    assert len(ax.get_yticks()) == 25
    assert len(ax.get_lines()) == 2
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["2013: 75 (fair)", "2014: 100 (good)"]
    _, ax2 = plt.subplots()
    assert fid.plot_item_profile(df, ax=ax2) is ax2
    plt.close("all")
