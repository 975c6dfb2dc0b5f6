"""The IPS Fidelity Scale (IPS-25; Norwegian: IPS-skalaen for tjenestekvalitet).

Twenty-five items, each scored 1-5 by external reviewers, total 25-125, with the bands of
Becker, Swanson, Reese, Bond & McLeman (2015), *Supported Employment Fidelity Review
Manual*, 3rd ed., Dartmouth IPS Supported Employment Center: exemplary 115-125, good
100-114, fair 74-99, and below 74 "not supported employment".

Reviews are given as a table with one row per review: a ``review`` label or
``review_date`` (or both) and one column per item. Item columns may be named ``item_1`` ...
``item_25``, ``item_01`` ..., plain numbers ``1`` ... ``25``, or the item keys of
:data:`ITEMS` (``caseload_size`` ...). :func:`score_reviews` validates and scores them.

Example
-------
>>> import pandas as pd
>>> row = {"review": "2014 baseline", **{f"item_{i}": 4 for i in range(1, 26)}}
>>> score_reviews(pd.DataFrame([row]))[["review", "total", "band"]].values.tolist()
[['2014 baseline', 100, 'good']]
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

#: (number, key, section, title) of the 25 items, in the manual's order.
ITEMS: tuple[tuple[int, str, str, str], ...] = (
    (1, "caseload_size", "staffing", "Caseload size"),
    (2, "employment_services_staff", "staffing", "Employment services staff"),
    (3, "vocational_generalists", "staffing", "Vocational generalists"),
    (4, "integration_team_assignment", "organization",
     "Integration of rehabilitation with mental health treatment through team assignment"),
    (5, "integration_team_contact", "organization",
     "Integration of rehabilitation with mental health treatment through frequent team member contact"),
    (6, "collaboration_with_vr", "organization",
     "Collaboration between employment specialists and vocational rehabilitation counsellors"),
    (7, "vocational_unit", "organization", "Vocational unit"),
    (8, "employment_supervisor", "organization", "Role of employment supervisor"),
    (9, "zero_exclusion", "organization", "Zero exclusion criteria"),
    (10, "focus_competitive_employment", "organization", "Agency focus on competitive employment"),
    (11, "executive_support", "organization", "Executive team support for supported employment"),
    (12, "work_incentives_planning", "services", "Work incentives planning"),
    (13, "disclosure", "services", "Disclosure"),
    (14, "work_based_assessment", "services", "Ongoing, work-based vocational assessment"),
    (15, "rapid_job_search", "services", "Rapid search for competitive job"),
    (16, "individualized_job_search", "services", "Individualized job search"),
    (17, "employer_contact_frequency", "services", "Job development: frequent employer contact"),
    (18, "employer_contact_quality", "services", "Job development: quality of employer contact"),
    (19, "diversity_job_types", "services", "Diversity of job types"),
    (20, "diversity_employers", "services", "Diversity of employers"),
    (21, "competitive_jobs", "services", "Competitive jobs"),
    (22, "individualized_follow_along", "services", "Individualized follow-along supports"),
    (23, "time_unlimited_follow_along", "services", "Time-unlimited follow-along supports"),
    (24, "community_based_services", "services", "Community-based services"),
    (25, "assertive_engagement", "services",
     "Assertive engagement and outreach by integrated treatment team"),
)

#: (lower bound of the total, band name), highest first.
BANDS = ((115, "exemplary"), (100, "good"), (74, "fair"), (25, "not supported employment"))

_KEY_TO_NUMBER = {key: num for num, key, _, _ in ITEMS}


class FidelityError(ValueError):
    """Invalid fidelity review input (missing items, scores out of range, duplicates)."""


def band(total: float) -> str:
    """Fidelity band of a total score (25-125).

    >>> [band(t) for t in (125, 114, 74, 73)]
    ['exemplary', 'good', 'fair', 'not supported employment']
    """
    if not (25 <= total <= 125):
        raise FidelityError(f"an IPS-25 total must lie between 25 and 125, got {total}")
    for low, name in BANDS:
        if total >= low:
            return name
    raise AssertionError("unreachable")  # pragma: no cover


def _item_number(column: Any) -> int | None:
    s = str(column).strip().lower()
    if s in _KEY_TO_NUMBER:
        return _KEY_TO_NUMBER[s]
    m = re.fullmatch(r"(?:item[_ ]?)?0*(\d{1,2})", s)
    if m and 1 <= int(m.group(1)) <= 25:
        return int(m.group(1))
    return None


def _show(value: Any) -> str:
    """A score as the reviewer wrote it: 6 not 6.0, text quoted."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        return str(int(v)) if v.is_integer() else str(v)
    return repr(value)


def item_scores(reviews: pd.DataFrame) -> pd.DataFrame:
    """Validated item scores: one row per review, columns 1..25 (int).

    The index is the review label (``review``, else ``review_date`` as ``YYYY-MM-DD``).
    Raises :class:`FidelityError` naming the review and items for missing items, empty
    scores, non-integer or out-of-range (not 1-5) scores, duplicate item columns or duplicate
    review labels.
    """
    if "review" not in reviews and "review_date" not in reviews:
        raise FidelityError("reviews need a 'review' or 'review_date' column")
    if "review" in reviews:
        labels = reviews["review"].astype(str)
    else:
        labels = pd.to_datetime(reviews["review_date"]).dt.strftime("%Y-%m-%d")
    if labels.duplicated().any():
        raise FidelityError(f"duplicate review label(s): {sorted(set(labels[labels.duplicated()]))}")
    numbers: dict[int, Any] = {}
    for c in reviews.columns:
        num = _item_number(c)
        if num is None:
            continue
        if num in numbers:
            raise FidelityError(f"item {num} appears twice (columns {numbers[num]!r} and {c!r})")
        numbers[num] = c
    missing = sorted(set(range(1, 26)) - set(numbers))
    if missing:
        raise FidelityError(f"reviews lack item column(s) {missing} (need items 1-25)")
    scores = reviews[[numbers[i] for i in range(1, 26)]].apply(pd.to_numeric, errors="coerce")
    scores.columns = list(range(1, 26))
    scores.index = labels.to_numpy()
    problems = []
    for lab, row in scores.iterrows():
        raw = reviews.loc[labels == lab, [numbers[i] for i in range(1, 26)]].iloc[0]
        empty = [i for i in range(1, 26) if pd.isna(row[i]) and pd.isna(raw.iloc[i - 1])]
        bad = [i for i in range(1, 26)
               if i not in empty and not (pd.notna(row[i]) and float(row[i]).is_integer()
                                          and 1 <= row[i] <= 5)]
        if empty:
            problems.append(f"review {lab!r}: item(s) {empty} not scored")
        if bad:
            shown = ", ".join(f"item {i} = {_show(raw.iloc[i - 1])}" for i in bad)
            problems.append(f"review {lab!r}: scores must be whole numbers 1-5 ({shown})")
    if problems:
        raise FidelityError("; ".join(problems))
    return scores.astype(int)


def score_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """Total and band of every review, with section subtotals, in review order.

    Returns columns ``review``, ``total``, ``band``, ``staffing``, ``organization``,
    ``services`` and ``mean_item``; raises :class:`FidelityError` on invalid input
    (see :func:`item_scores`).
    """
    s = item_scores(reviews)
    out = pd.DataFrame({"review": s.index, "total": s.sum(axis=1).to_numpy()})
    out["band"] = [band(t) for t in out["total"]]
    for section in ("staffing", "organization", "services"):
        cols = [num for num, _, sec, _ in ITEMS if sec == section]
        out[section] = s[cols].sum(axis=1).to_numpy()
    out["mean_item"] = s.mean(axis=1).to_numpy()
    return out


def item_table(reviews: pd.DataFrame) -> pd.DataFrame:
    """Long item profile: ``item``, ``key``, ``section``, ``title`` and one column per review."""
    s = item_scores(reviews).T
    meta = pd.DataFrame(ITEMS, columns=["item", "key", "section", "title"]).set_index("item")
    out = meta.join(s)
    out.index.name = "item"
    return out.reset_index()


def change_between_reviews(reviews: pd.DataFrame) -> pd.DataFrame:
    """Item-by-item change between consecutive reviews (later minus earlier).

    Rows are the 25 items plus ``total``; columns ``"<earlier> -> <later>"``.

    >>> a = {"review": "2013", **{f"item_{i}": 3 for i in range(1, 26)}}
    >>> b = {"review": "2014", **{f"item_{i}": 4 for i in range(1, 26)}}
    >>> change_between_reviews(pd.DataFrame([a, b])).loc["total"].tolist()
    [25]
    """
    s = item_scores(reviews)
    if len(s) < 2:
        raise FidelityError("a change needs at least two reviews")
    s = s.copy()
    s["total"] = s.sum(axis=1)
    labels = list(s.index)
    diff = {f"{a} -> {b}": s.loc[b] - s.loc[a] for a, b in zip(labels[:-1], labels[1:])}
    out = pd.DataFrame(diff)
    out.index = [*range(1, 26), "total"]
    return out


def plot_item_profile(reviews: pd.DataFrame, ax=None):
    """Item profile: score of every item (rows) for each review, with the 1-5 scale.

    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    from .disclosure.drawn import mark_measures

    s = item_scores(reviews)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 8))
    y = np.arange(1, 26)
    markers = "osD^v<>p*h"
    for k, (label, row) in enumerate(s.iterrows()):
        total = int(row.sum())
        ax.plot(row.to_numpy(), y, marker=markers[k % len(markers)], lw=1,
                label=f"{label}: {total} ({band(total)})")
    ax.set_yticks(y, [f"{num}. {title[:45]}" for num, _, _, title in ITEMS], fontsize=6)
    ax.invert_yaxis()
    ax.set_xlim(0.8, 5.2)
    ax.set_xticks(range(1, 6))
    ax.set_xlabel("Item score (1-5)")
    ax.legend(fontsize=7, frameon=False, loc="lower left")
    ax.set_title("IPS-25 fidelity item profile")
    mark_measures(ax, "fidelity item score (1-5)")  # scores, not persons (figure record)
    return ax
