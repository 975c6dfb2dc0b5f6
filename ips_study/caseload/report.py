"""Quarterly report for the partner organisations (health trust, municipality, NAV)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import disclosure
from .episodes import CASELOAD_LIMIT, _quarter
from .flow import outcome_flow_by_quarter, plot_outcome_flow
from .followup import flag_absent_specialist, flag_caseload_above_limit, flag_long_without_work
from .metrics import metrics_by_quarter
from .protect import _protect_consistently


def _pseudonyms(ids: Sequence[str]) -> dict[str, str]:
    """Specialist ids -> "specialist 1", "specialist 2", ... (sorted, stable across tables)."""
    return {s: f"specialist {k}" for k, s in enumerate(sorted(set(ids)), start=1)}


def quarterly_report(
    caseload: pd.DataFrame,
    weeks: pd.DataFrame | None,
    quarter: Any,
    out_dir: str | Path,
    *,
    min_count: int = disclosure.MIN_COUNT,
    fidelity: pd.DataFrame | None = None,
    absent_weeks: int = 2,
    days_without_work: int = 180,
) -> list[Path]:
    """Quarterly report for the partner organisations (health trust, municipality, NAV).

    Writes, through disclosure control (every count below ``min_count`` and every value
    resting on fewer persons suppressed, totals protected by secondary suppression):

    * ``ips_<Q>_metrics.csv/.md``: all metrics at the quarter end, overall and per service;
    * ``ips_<Q>_specialists.csv/.md``: per specialist (pseudonymised "specialist 1..k");
    * ``ips_<Q>_trend.csv/.md`` and ``.png``: overall metrics at every quarter end so far;
    * ``ips_<Q>_outcome_flow.csv/.md`` and ``.png``: status and end reasons by quarter;
    * ``ips_<Q>_follow_up.csv/.md``: numbers of job seekers flagged by each follow-up check;
    * with ``fidelity`` reviews: ``ips_<Q>_fidelity.csv/.md`` (totals, bands, change) and
      ``ips_<Q>_fidelity_profile.png``.

    Every written table is re-read by :func:`ips_study.disclosure.check_outputs`; a
    violation raises :class:`~ips_study.disclosure.DisclosureError`.

    Returns the written paths (sorted).

    Examples
    --------
    >>> import tempfile
    >>> cl = pd.DataFrame({"person_id": [f"p{i}" for i in range(12)],
    ...     "specialist_id": ["s1"] * 12, "service": ["psychosis team"] * 12,
    ...     "referral_date": ["2014-01-01"] * 12, "start_date": ["2014-01-10"] * 12,
    ...     "first_employer_contact_date": [None] * 12, "job_start_date": [None] * 12,
    ...     "end_date": [None] * 12, "end_reason": [None] * 12})
    >>> paths = quarterly_report(cl, None, "2014Q1", tempfile.mkdtemp())
    >>> sorted({p.suffix for p in paths})
    ['.csv', '.md', '.png']
    """
    import matplotlib.pyplot as plt

    from .. import fidelity as fid

    q = _quarter(quarter)
    d = q.end_time.normalize()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"ips_{q}"
    paths: list[Path] = []

    allq = metrics_by_quarter(caseload, weeks, end=q, by=["overall", "service", "specialist"])
    allq["group"] = allq["group"].where(allq["group_by"] != "specialist",
                                        allq["group"].map(_pseudonyms(allq.loc[
                                            allq["group_by"] == "specialist", "group"])))
    flows = outcome_flow_by_quarter(caseload, end=q)
    msup, fl = _protect_consistently(allq, flows, min_count)

    def part(rows: pd.Series, drop_quarter: bool) -> disclosure.Suppressed:
        cols = [c for c in allq.columns if not (drop_quarter and c == "quarter")]
        return disclosure.Suppressed(msup.frame.loc[rows, cols].reset_index(drop=True),
                                     msup.mask.loc[rows, cols].reset_index(drop=True),
                                     msup.primary.loc[rows, cols].reset_index(drop=True))

    now = allq["quarter"] == str(q)
    paths += disclosure.export_table(part(now & (allq["group_by"] != "specialist"), True),
                                     out / f"{stem}_metrics", min_count=min_count)
    paths += disclosure.export_table(part(now & (allq["group_by"] == "specialist"), True),
                                     out / f"{stem}_specialists", min_count=min_count)
    trend = part((allq["group_by"] == "overall")
                 & ~allq["statistic"].isin(["max"]), False)
    paths += disclosure.export_table(trend, out / f"{stem}_trend", min_count=min_count)
    paths.append(_plot_trend(trend.frame, out / f"{stem}_trend.png"))

    paths += disclosure.export_table(fl, out / f"{stem}_outcome_flow", min_count=min_count)
    fig, ax = plt.subplots(figsize=(8, 4))
    plot_outcome_flow(fl.assign(n=pd.to_numeric(fl["n"], errors="coerce")), ax=ax)
    fig.tight_layout()
    paths.append(disclosure.save_figure(fig, out / f"{stem}_outcome_flow.png"))
    plt.close(fig)

    # numbers of job seekers flagged (persons: suppressed below the minimum) and of their
    # specialists (staff, not protected persons)
    absent = (flag_absent_specialist(caseload, weeks, d, min_weeks=absent_weeks)
              if weeks is not None else pd.DataFrame({"specialist_id": []}))
    long = flag_long_without_work(caseload, d, days=days_without_work)
    over = flag_caseload_above_limit(caseload, d)
    follow = pd.DataFrame({
        "check": [f"specialist absent {absent_weeks}+ weeks",
                  f"followed {days_without_work}+ days without work",
                  f"caseload above {CASELOAD_LIMIT} job seekers"],
        "n": [len(absent), len(long), int(over["active"].sum())],
        "specialists_flagged": [absent["specialist_id"].nunique(),
                                long["specialist_id"].nunique(), len(over)],
    })
    fsup = disclosure.suppress_small(follow, min_count=min_count, counts=["n"], rates={})
    paths += disclosure.export_table(fsup, out / f"{stem}_follow_up", min_count=min_count)

    if fidelity is not None:
        scored = fid.score_reviews(fidelity)
        if len(scored) >= 2:
            change = fid.change_between_reviews(fidelity).loc["total"]
            scored["change_in_total"] = [np.nan] + list(change.to_numpy(dtype=float))
        paths += disclosure.export_table(scored, out / f"{stem}_fidelity", min_count=min_count)
        fig, ax = plt.subplots(figsize=(7, 8))
        fid.plot_item_profile(fidelity, ax=ax)
        fig.tight_layout()
        paths.append(disclosure.save_figure(fig, out / f"{stem}_fidelity_profile.png"))
        plt.close(fig)

    check = disclosure.OutputCheck(str(out), min_count)
    for p in paths:
        if p.suffix in disclosure.CHECKED_SUFFIXES:
            check.files.append(p.name)
            check.violations += disclosure.check_file(p, min_count)
    if not check.ok:
        raise disclosure.DisclosureError(check.to_text())
    return sorted(paths)


def _plot_trend(trend: pd.DataFrame, path: Path) -> Path:
    """Active caseload and share in work by quarter; suppressed points are left out."""
    import matplotlib.pyplot as plt

    t = trend[trend["group_by"] == "overall"]
    active = t[(t["metric"] == "active") & (t["statistic"] == "count")]
    share = t[(t["metric"] == "share_in_work") & (t["statistic"] == "share")]
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(active))
    ax.plot(x, active["value"].to_numpy(dtype=float), "o-", color="0.3", label="Active caseload")
    ax.set_ylabel("Job seekers")
    ax.set_xticks(x, active["quarter"], rotation=90, fontsize=7)
    ax2 = ax.twinx()
    ax2.plot(x, 100 * share["value"].to_numpy(dtype=float), "s--", color="tab:green",
             label="In ordinary work (%)")
    ax2.axhspan(40, 50, color="tab:green", alpha=0.1, label="Target 40-50 %")
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("% of active caseload")
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, frameon=False, loc="upper left")
    ax.set_title("IPS caseload by quarter")
    fig.tight_layout()
    disclosure.save_figure(fig, path)
    plt.close(fig)
    return path
