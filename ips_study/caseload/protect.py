"""Disclosure control of the programme tables: metrics and outcome flow, consistently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import disclosure
from .flow import protect_flow

#: Person count behind each person-based metric row (its ``n``).
_DENOMINATOR = {"ever_offered": "ever_offered", "active": "active", "in_work": "active",
                "share_in_work": "active", "caseload_per_specialist": "active",
                "days_to_job_search": "n_job_search", "days_to_first_meeting": "n_first_meeting"}


_GET_COUNT = {
    "ever_offered": ("ever_offered", "count", "value"), "active": ("active", "count", "value"),
    "in_work": ("in_work", "count", "value"),
    "n_job_search": ("days_to_job_search", "median", "n"),
    "n_first_meeting": ("days_to_first_meeting", "median", "n"),
}
_COUNT_COLS = (*_GET_COUNT, "not_in_work")


def _base_counts(m: pd.DataFrame) -> pd.DataFrame:
    """Person counts of every (quarter, group_by, group): the cells disclosure protects."""
    key = ["quarter", "group_by", "group"]
    cols = {}
    for name, (metric, stat, col) in _GET_COUNT.items():
        rows = m[(m["metric"] == metric) & (m["statistic"] == stat)]
        cols[name] = rows.set_index(key)[col].astype(float)
    b = pd.DataFrame(cols)
    b["not_in_work"] = b["active"] - b["in_work"]
    return b


def _protect_lines(vals: np.ndarray, hidden: np.ndarray, rows: list[int], cols: list[int],
                   min_count: int) -> bool:
    """Protect the additive table ``vals[rows][:, cols]`` (last row and column are its
    totals) and merge its mask into ``hidden``; True if anything new was hidden."""
    sub = np.ix_(rows, cols)
    before = hidden.copy()
    after = disclosure.protect_array(vals[sub], min_count=min_count, force=hidden[sub])
    # a row or column may appear twice (a lone row is its own total): merge the copies
    for i, j in zip(*np.nonzero(after)):
        hidden[rows[i], cols[j]] = True
    return bool((hidden & ~before).any())


def protect_metrics(metrics: pd.DataFrame, min_count: int = disclosure.MIN_COUNT, *,
                    force: dict[tuple[str, str], set[str]] | None = None) -> disclosure.Suppressed:
    """Disclosure control of a :func:`caseload_metrics` / :func:`metrics_by_quarter` table.

    Person counts are protected as the tables they form: for every quarter and grouping
    (service, specialist) the groups' counts add up to the overall count, and in every
    group ``in_work + not in work = active`` ("not in work" is never printed but follows by
    subtraction). Each such table gets primary and secondary suppression
    (:func:`ips_study.disclosure.protect_array`), iterated across tables until stable, so no
    hidden count can be recovered by subtraction. A median, mean or share is hidden when
    its person count (or, for the share in work, its numerator) is hidden or below
    ``min_count``; weekly metrics when they rest on fewer than ``min_count``
    specialist-weeks.

    ``force`` maps ``(quarter, "overall")`` to overall counts (``ever_offered``, ``active``)
    that another published table hides; they are hidden here too.

    Returns a :class:`~ips_study.disclosure.Suppressed` aligned with ``metrics``.
    """
    m = metrics if "quarter" in metrics else metrics.assign(quarter="")
    b = _base_counts(m)
    pos = {k: i for i, k in enumerate(b.index)}
    col = {c: j for j, c in enumerate(_COUNT_COLS)}
    vals = b[list(_COUNT_COLS)].to_numpy(dtype=float)
    hidden = (vals > 0) & (vals < min_count)
    for (q, _), names in (force or {}).items():
        for name in names:
            hidden[pos[(q, "overall", "all")], col[name]] = True
    tables: list[tuple[list[int], list[int]]] = []
    for q in b.index.get_level_values("quarter").unique():
        o = pos[(q, "overall", "all")]
        for g in [x for x in m["group_by"].unique() if x != "overall"]:
            rows = [pos[k] for k in b.index if k[0] == q and k[1] == g]
            if not rows:
                continue
            full = [*rows, o]
            tables.append((full, [col["in_work"], col["not_in_work"], col["active"]]))
        # ever offered etc. per group add up to the overall: a one-column table whose
        # total column repeats the column
        for g in [x for x in m["group_by"].unique() if x != "overall"]:
            rows = [pos[k] for k in b.index if k[0] == q and k[1] == g]
            for name in ("ever_offered", "n_job_search", "n_first_meeting"):
                if rows:
                    tables.append(([*rows, o], [col[name], col[name]]))
        # no breakdown: in work + not in work = active overall (the total row repeats it)
        tables.append(([o, o], [col["in_work"], col["not_in_work"], col["active"]]))
    changed = True
    while changed:
        changed = False
        for rows, cols in tables:
            changed |= _protect_lines(vals, hidden, rows, cols, min_count)
    hid = pd.DataFrame(hidden, index=b.index, columns=list(_COUNT_COLS))
    keys = pd.MultiIndex.from_frame(m[["quarter", "group_by", "group"]])
    den = m["metric"].map(_DENOMINATOR)
    person = den.notna().to_numpy()
    n = m["n"].to_numpy(dtype=float)
    small_n = (n > 0) & (n < min_count)

    def lookup(names: pd.Series) -> np.ndarray:
        out = np.zeros(len(m), dtype=bool)
        ok = names.notna().to_numpy()
        if ok.any():
            r = hid.index.get_indexer(keys[ok])
            c = [hid.columns.get_loc(x) for x in names[ok]]
            out[ok] = hid.to_numpy()[r, c]
        return out

    n_hidden = np.where(person, lookup(den) | small_n, small_n)
    is_count = (m["statistic"] == "count").to_numpy()
    own = lookup(m["metric"].where(m["statistic"] == "count"))
    numer = lookup(m["metric"].map({"share_in_work": "in_work"}))
    v_hidden = np.where(is_count & person, own, n_hidden | (n < min_count) | numer)
    mask = pd.DataFrame(False, index=m.index, columns=metrics.columns)
    mask["value"] = v_hidden
    mask["n"] = n_hidden
    primary = pd.DataFrame(False, index=m.index, columns=metrics.columns)
    primary["n"] = small_n
    return disclosure.Suppressed(metrics.mask(mask), mask, primary)


def _protect_consistently(metrics: pd.DataFrame, flows: pd.DataFrame, min_count: int
                          ) -> tuple[disclosure.Suppressed, pd.DataFrame]:
    """Protect the metrics and the outcome flow so that they hide the same overall counts.

    Both publish the overall number ever offered (= attached) and active (= currently
    attached); a count hidden in one table must be hidden in the other, or it could be read
    there. Alternate until neither table hides anything new.
    """
    link = {"ever_offered": "attached", "active": "currently_attached"}
    force: dict[tuple[str, str], set[str]] = {}
    while True:
        msup = protect_metrics(metrics, min_count, force=force)
        hidden_m = {}
        for i in metrics.index[(metrics["group_by"] == "overall")
                               & (metrics["statistic"] == "count")]:
            name = metrics.at[i, "metric"]
            if name in link and msup.mask.at[i, "value"]:
                hidden_m.setdefault(metrics.at[i, "quarter"], set()).add(link[name])
        parts, grew = [], False
        for label, f in flows.groupby("quarter", sort=True):
            sup = protect_flow(f.drop(columns="quarter").reset_index(drop=True), min_count,
                               force=hidden_m.get(label, set()))
            frame = sup.to_frame().assign(quarter=label)
            parts.append(frame)
            for name, status in link.items():
                row = sup.mask[sup.frame["status"] == status]
                if bool(row["n"].any()) and name not in force.get((label, "overall"), set()):
                    force.setdefault((label, "overall"), set()).add(name)
                    grew = True
        if not grew:
            fl = pd.concat(parts, ignore_index=True)[["quarter", "status", "n", "share"]]
            return msup, fl
