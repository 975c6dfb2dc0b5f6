"""The single list of outputs of the analysis: file stem -> step -> function that makes it.

Each ``make_*`` function receives the :class:`~analysis.context.Context` and returns a
DataFrame (a table: written as CSV, Markdown and LaTeX through
:func:`ips_study.disclosure.export_table`, which refuses small counts and identifiers) or a
matplotlib Figure (written as PNG and PDF with fixed metadata). Every table that reports a
mean or rate carries its denominator in a count column (``n_*``) so the disclosure checker can
verify it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ips_study import disclosure  # noqa: E402

MAIN_OUTCOMES = ["workdays", "ltbd", "health_benefit", "disability", "employed"]
INFERENCES = ["cluster", "wild", "placebo", "conley-taber", "ferman-pinto"]


def save_table(df: pd.DataFrame, stem: Path, min_count: int) -> list[Path]:
    tmp = stem.with_name(stem.name + ".part")
    written = disclosure.export_table(df, tmp, min_count=min_count, formats=("csv", "md", "tex"))
    final = []
    for p in written:
        target = stem.with_suffix(p.suffix)
        os.replace(p, target)
        final.append(target)
    return final


def save_fig(fig, stem: Path) -> list[Path]:
    paths = []
    for ext, meta in ((".png", {"Software": None}),
                      (".pdf", {"Creator": None, "Producer": None, "CreationDate": None})):
        target = stem.with_suffix(ext)
        tmp = stem.with_name(stem.name + ".part" + ext)
        fig.savefig(tmp, dpi=150, metadata=meta, bbox_inches="tight")
        os.replace(tmp, target)
        paths.append(target)
    plt.close(fig)
    return paths


@dataclass(frozen=True)
class Output:
    name: str
    step: str
    make: Callable
    kind: str = "table"  # or "figure"
    when: Callable | None = None  # predicate on the context; None = always

    def applies(self, ctx) -> bool:
        return self.when is None or bool(self.when(ctx))

    def build(self, ctx) -> list[Path]:
        obj = self.make(ctx)
        stem = ctx.out / self.name
        if self.kind == "figure":
            return save_fig(obj, stem)
        return save_table(obj, stem, ctx.config.min_count)


# -- registers and cohort ------------------------------------------------------------------------
def make_register_accounting(ctx) -> pd.DataFrame:
    """Row accounting per register table (rows, not persons: data-quality counts)."""
    rep = ctx.registers.report.to_frame().reset_index()
    rep.columns = [str(c) for c in rep.columns]
    keep = [c for c in rep.columns if c in ("table", "read", "kept", "merged", "quarantined")]
    out = rep[keep].rename(columns={c: f"rows_{c}" for c in keep if c != "table"})
    return out


def make_flow_table(ctx) -> pd.DataFrame:
    from ips_study.cohort import participant_flow

    flow = participant_flow(ctx.registers.tables, ctx.config)
    flow = flow.rename(columns={"treated": "n_treated", "controls": "n_controls", "total": "n_total"})
    # A funnel discloses its differences too (persons excluded at each step), so counts are
    # published rounded to base 5 after primary suppression.
    return disclosure.suppress_small(flow, min_count=ctx.config.min_count, round_base=5).to_frame()


def make_descriptives(ctx) -> pd.DataFrame:
    """Outcome means by group and era on the year panel, with the persons behind each cell."""
    p = ctx.panel("year")
    p = p.assign(group=np.where(p["treated"] == 1, "treated", "controls"),
                 era=np.where(p["post"] == 1, "post", "pre"))
    g = p.groupby(["group", "era"], sort=True)
    out = g[MAIN_OUTCOMES].mean()
    out.insert(0, "n_persons", g["person_id"].nunique())
    out.insert(1, "n_person_years", g.size())
    return out.reset_index()


# -- difference-in-differences ---------------------------------------------------------------
# The main specification is the population-weighted municipality x year DiD on the
# open-population panel: its estimand is the average effect over the treated municipality's
# target-group person-years (the truth the synthetic generator reports). Person fixed effects
# in an open population identify from people who stay in the target group, a dynamically
# selected sample; that specification is reported as a sensitivity analysis (level="person").
MAIN_LEVEL = "municipality"


def make_did_table(ctx) -> pd.DataFrame:
    rows = []
    for outcome in MAIN_OUTCOMES:
        for level in (MAIN_LEVEL, "person"):
            base = ctx.fit("did", outcome, level=level)
            for inf in INFERENCES if level == MAIN_LEVEL else ["placebo"]:
                r = base if base.inference == inf else base.with_inference(inf)
                lo, hi = r.conf_int().loc[r.main_term]
                rows.append({"outcome": outcome, "level": level, "inference": inf,
                             "estimate": r.estimate,
                             "std_error": r.std_error, "conf_low": lo, "conf_high": hi,
                             "p_value": r.p_value, "n_obs": r.n_obs, "n_units": r.n_units})
    return pd.DataFrame(rows)


def make_event_table(ctx) -> pd.DataFrame:
    rows = []
    for outcome in ("workdays", "ltbd"):
        et = ctx.fit("event", outcome, level=MAIN_LEVEL).event_time()
        rows.append(et.assign(outcome=outcome))
    return pd.concat(rows, ignore_index=True)


def make_event_figure(ctx):
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for ax, outcome in zip(axes, ("workdays", "ltbd")):
        ctx.fit("event", outcome, level=MAIN_LEVEL).plot(ax=ax)
    return fig


OUTPUTS: list[Output] = [
    Output("table_1_register_accounting", "registers", make_register_accounting),
    Output("table_2_participant_flow", "cohort", make_flow_table),
    Output("table_4_descriptives", "panels", make_descriptives),
    Output("table_5_difference_in_differences", "did", make_did_table),
    Output("table_6_event_study", "did", make_event_table),
    Output("figure_2_event_study", "did", make_event_figure, kind="figure"),
]
