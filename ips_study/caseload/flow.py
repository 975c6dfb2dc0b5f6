"""Outcome flow of job seekers (attached, waiting, current, ended by reason).

>>> END_REASONS
('ordinary_work', 'education', 'no_active_solution', 'other')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import disclosure
from .episodes import END_REASONS, _DATES, _prepare_caseload, _quarter, person_status


def outcome_flow(caseload: pd.DataFrame, date: Any = "2014-09-30") -> pd.DataFrame:
    """Flow of job seekers at ``date`` like the predecessor project's (Jobbhuset) figures.

    Rows (``status``): ``attached`` (ever referred), ``waiting`` (referred, first meeting
    not yet held), ``currently_attached`` (active), ``ended``, and ``ended_<reason>`` for
    each of :data:`END_REASONS` (the last episode's reason; transfers do not end a person's
    time in the service). Columns ``n`` and ``share`` (of ``attached``; for the reasons,
    of ``ended``).

    >>> cl = pd.DataFrame({"person_id": ["a", "b"], "specialist_id": ["s", "s"],
    ...     "service": ["x", "x"], "referral_date": ["2014-01-01"] * 2,
    ...     "start_date": ["2014-01-05"] * 2, "first_employer_contact_date": [None] * 2,
    ...     "job_start_date": [None] * 2, "end_date": ["2014-03-01", None],
    ...     "end_reason": ["ordinary work", None]})
    >>> outcome_flow(cl).set_index("status")["n"].to_dict()["ended_ordinary_work"]
    1
    """
    people = person_status(caseload, date)
    n_all = len(people)
    counts = people["status"].value_counts()
    ended = people[people["status"] == "ended"]
    reasons = ended["end_class"].replace({"transfer": "other"}).value_counts()
    rows = [("attached", n_all, n_all), ("waiting", counts.get("waiting", 0), n_all),
            ("currently_attached", counts.get("active", 0), n_all),
            ("ended", len(ended), n_all)]
    rows += [(f"ended_{r}", int(reasons.get(r, 0)), len(ended)) for r in END_REASONS]
    out = pd.DataFrame(rows, columns=["status", "n", "of"])
    out["n"] = out["n"].astype(int)
    out["share"] = np.where(out["of"] > 0, out["n"] / out["of"].where(out["of"] > 0, 1), np.nan)
    return out.drop(columns="of")


def protect_flow(flow: pd.DataFrame, min_count: int = disclosure.MIN_COUNT, *,
                 force: set[str] | frozenset[str] = frozenset()) -> disclosure.Suppressed:
    """Disclosure control for :func:`outcome_flow`: the four end reasons add up to
    ``ended`` and waiting + current + ended add up to ``attached``, so both sums get
    secondary suppression; shares follow their counts. ``force`` names statuses another
    published table hides (they are hidden and protected here too)."""
    f = flow.set_index("status")
    parts = [("attached", ["waiting", "currently_attached", "ended"]),
             ("ended", [f"ended_{r}" for r in END_REASONS])]
    hidden = pd.Series(False, index=f.index)
    for status in force:
        hidden[status] = True
    changed = True
    while changed:  # "ended" is a cell of one sum and the total of the other
        changed = False
        for total, cells in parts:
            labels = [*cells, total]
            forced = np.array([hidden[labels].to_numpy()] * 2)
            # the headline counts (attached = ever offered, current = active caseload) are
            # published in the metrics too: hide them only when nothing else protects
            avoid = np.array([[s in ("attached", "currently_attached") for s in labels]] * 2)
            t = disclosure.protect_table(f.loc[cells, ["n"]].T, min_count=min_count,
                                         force=forced, avoid=avoid).mask.to_numpy()
            new = pd.Series(t[0] | t[1], index=labels)
            changed |= bool((new & ~hidden[labels]).any())
            hidden[labels] |= new
    out = flow[["status", "n", "share"]].reset_index(drop=True)
    mask = pd.DataFrame(False, index=out.index, columns=out.columns)
    mask["n"] = hidden.reindex(out["status"]).to_numpy()
    mask["share"] = mask["n"]
    if hidden["ended"]:  # the reasons' shares would reveal their denominator
        mask.loc[out["status"].str.startswith("ended_"), "share"] = True
    primary = pd.DataFrame(False, index=out.index, columns=out.columns)
    primary["n"] = (out["n"] > 0) & (out["n"] < min_count)
    return disclosure.Suppressed(out.mask(mask), mask, primary)


def outcome_flow_by_quarter(caseload: pd.DataFrame, start: Any = None,
                            end: Any = None) -> pd.DataFrame:
    """:func:`outcome_flow` at every quarter end (long table with a ``quarter`` column)."""
    ep = _prepare_caseload(caseload)
    first = _quarter(start) if start is not None else ep["referral_date"].min().to_period("Q")
    last = _quarter(end) if end is not None else pd.concat(
        [ep[c] for c in _DATES]).max().to_period("Q")
    frames = [outcome_flow(caseload, q.end_time.normalize()).assign(quarter=str(q))
              for q in pd.period_range(first, last, freq="Q")]
    out = pd.concat(frames, ignore_index=True)
    return out[["quarter", "status", "n", "share"]]


def plot_outcome_flow(flow: pd.DataFrame, ax=None):
    """Stacked bars of the job seekers' status by quarter (or at one date).

    ``flow`` is :func:`outcome_flow_by_quarter` (or :func:`outcome_flow`) output, already
    disclosure-controlled: suppressed (NaN) cells are drawn as gaps, never estimated.
    Returns the matplotlib ``Axes``.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    f = flow if "quarter" in flow else flow.assign(quarter="")
    parts = ["waiting", "currently_attached"] + [f"ended_{r}" for r in END_REASONS]
    wide = f.pivot(index="quarter", columns="status", values="n").reindex(columns=parts)
    bottom = np.zeros(len(wide))
    colours = ["0.85", "0.45", "tab:green", "tab:blue", "tab:red", "0.7"]
    for part, colour in zip(parts, colours):
        h = wide[part].to_numpy(dtype=float)
        ax.bar(range(len(wide)), np.nan_to_num(h), bottom=bottom, color=colour,
               label=part.replace("_", " "))
        bottom += np.nan_to_num(h)
    ax.set_xticks(range(len(wide)), wide.index, rotation=90, fontsize=7)
    ax.set_ylabel("Job seekers")
    if wide.isna().to_numpy().any():
        ax.text(0.0, -0.3, "Suppressed cells (fewer than the minimum number of persons, or "
                "revealing one) are not drawn.", transform=ax.transAxes, fontsize=6)
    ax.legend(fontsize=7, frameon=False)
    ax.set_title("Job seekers by status")
    return ax
