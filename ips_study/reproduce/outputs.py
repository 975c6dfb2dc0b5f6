"""The single list of outputs of the analysis: file stem -> step -> function that makes it.

Each ``make_*`` function receives the :class:`~ips_study.reproduce.context.Context` and returns a
DataFrame (a table: written by :func:`save_table` as CSV through
:func:`ips_study.disclosure.export_table`, which refuses small counts and identifiers, and as
paper-ready Markdown and LaTeX through :func:`ips_study.tables.paper_table`) or a
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

from ips_study import disclosure, progress  # noqa: E402

MAIN_OUTCOMES = ["workdays", "ltbd", "health_benefit", "disability", "employed"]
#: the main DiD under every inference method; the first (ips_study.designs.did.DEFAULT_INFERENCE)
#: is the headline, the others show how the naive methods fail and how conservative the rest are
INFERENCES = ["placebo-t", "placebo", "ferman-pinto", "conley-taber", "cluster", "wild"]


def _write_atomically(stem: Path, write: Callable[[Path], list[Path]]) -> list[Path]:
    """Write under a temporary stem, then rename each file into place (no half-written output)."""
    final = []
    for p in write(stem.with_name(stem.name + ".part")):
        target = stem.with_suffix(p.suffix)
        os.replace(p, target)
        final.append(target)
    return final


def save_table(df: pd.DataFrame | disclosure.Suppressed, stem: Path, min_count: int, *, caption: str | None = None,
               lang: str = "en") -> list[Path]:
    """Every analysis table goes through here: CSV for machines, Markdown and LaTeX for the paper.

    The CSV is written by :func:`ips_study.disclosure.export_table` and stays machine-readable
    (snake_case columns, outcome/design/inference codes, plain numbers) because scripts and the
    tests read it; only term names are made consistent (:func:`~ips_study.figures.labels.canonical_term`).
    Markdown and LaTeX come from :func:`ips_study.tables.paper_table`: human headers and labels,
    fixed decimals, thousands separators, booktabs with caption and notes; the disclosure
    checker reads them again after writing.
    """
    from ips_study.figures.labels import canonical_term
    from ips_study.tables import paper_table

    frame = df.to_frame() if isinstance(df, disclosure.Suppressed) else df.copy()
    if "term" in frame.columns:
        frame["term"] = frame["term"].map(lambda t: canonical_term(t) if isinstance(t, str) else t)

    def write(tmp: Path) -> list[Path]:
        paths = disclosure.export_table(frame, tmp, min_count=min_count, formats=("csv",), name=stem.name)
        table = paper_table(frame, lang=lang, caption=caption, label=f"tab:{stem.name}",
                            notes=tuple(frame.attrs.get("notes", ())))
        return paths + table.save(tmp, ("md", "tex"), min_count=min_count)

    return _write_atomically(stem, write)


def _caption(make: Callable) -> str | None:
    """A table's caption: the first sentence of its ``make_*`` function's docstring."""
    doc = " ".join((make.__doc__ or "").split())
    first = doc.split(". ")[0].split(";")[0].rstrip(".")
    return first or None


def save_fig(fig, stem: Path) -> list[Path]:
    """PNG + PDF through the house style's deterministic writer."""
    from ips_study.figures import save

    return _write_atomically(stem, lambda tmp: save(fig, tmp, close=True))


class NotFitted(RuntimeError):
    """A design that cannot be fitted on the given data (too few events, not identified,
    no convergence): the output is written with the reason instead, and the run goes on."""

    def __init__(self, what: str, reason: str):
        super().__init__(f"{what}: {reason}")
        self.what, self.reason = what, reason


def _fit_errors() -> tuple:
    from ips_study.designs.survival.cox import ConvergenceError

    # data-dependent failures of an estimator; a TypeError/KeyError is a bug and still stops
    return (ValueError, ArithmeticError, ConvergenceError)


def _memo(ctx) -> dict:
    """The context's memo (a stand-in context in tests may have none yet)."""
    return vars(ctx).setdefault("_memo", {})


def fit_or_reason(ctx, design: str, outcome: str, **kw):
    """``ctx.fit(...)``, or :class:`NotFitted` with the reason (remembered: not refitted)."""
    memo = _memo(ctx)
    key = "not-fitted:" + repr((design, outcome, sorted(kw.items())))
    if key in memo:
        raise memo[key]
    try:
        return ctx.fit(design, outcome, **kw)
    except _fit_errors() as e:
        err = NotFitted(f"{design} ({outcome})", f"{type(e).__name__}: {e}")
        memo[key] = err
        memo.setdefault("not_fitted", {})[err.what] = f"not fitted: {err.reason}"
        raise err from e


def not_fitted_table(reason: str, **cols) -> pd.DataFrame:
    """The rows an output gets when its model could not be fitted."""
    return pd.DataFrame([{**cols, "status": "not fitted", "reason": reason}])


def not_fitted_figure(title: str, reason: str):
    """A figure that says why it has no content."""
    import textwrap

    fig, ax = plt.subplots(figsize=(8, 3))
    ax.axis("off")
    ax.text(0.5, 0.5, f"{title}\n" + textwrap.fill(reason, 90),
            ha="center", va="center", fontsize=9, transform=ax.transAxes)
    return fig


@dataclass(frozen=True)
class Output:
    name: str
    step: str
    make: Callable
    kind: str = "table"  # or "figure", or "etable" (models side by side, ips_study.tables)
    when: Callable | None = None  # predicate on the context; None = always

    def applies(self, ctx) -> bool:
        return self.when is None or bool(self.when(ctx))

    def build(self, ctx) -> list[Path]:
        stem = ctx.out / self.name
        try:
            obj = self.make(ctx)
        except (NotFitted, *_fit_errors()) as e:
            reason = e.reason if isinstance(e, NotFitted) else f"{type(e).__name__}: {e}"
            return self._placeholder(ctx, stem, "not fitted", reason)
        except disclosure.DisclosureError:
            return self._placeholder(ctx, stem, "not published", self._small(ctx))
        if self.kind == "figure":
            return save_fig(obj, stem)
        try:
            if self.kind == "etable":  # an ips_study.tables.Table, already paper-ready
                return _write_atomically(stem, lambda tmp: obj.save(
                    tmp, ("md", "tex", "html"), min_count=ctx.config.min_count))
            return save_table(obj, stem, ctx.config.min_count, caption=_caption(self.make),
                              lang=getattr(ctx, "lang", "en"))
        except disclosure.DisclosureError:
            return self._placeholder(ctx, stem, "not published", self._small(ctx))

    @staticmethod
    def _small(ctx) -> str:
        # no number from the refused output: it may be the small count itself
        return (f"rests on fewer than {ctx.config.min_count} persons or units somewhere: not "
                "published on these data (disclosure control)")

    def _placeholder(self, ctx, stem: Path, status: str, reason: str) -> list[Path]:
        """The output written with the reason it has no content (small or unfit data); the
        run goes on and the manifest lists it."""
        _memo(ctx).setdefault("not_fitted", {})[self.name] = f"{status}: {reason}"
        if self.kind == "figure":
            return save_fig(not_fitted_figure(self.name, f"{status}: {reason}"), stem)
        return save_table(not_fitted_table(reason, output=self.name).assign(status=status), stem,
                          ctx.config.min_count)


# -- registers and cohort ------------------------------------------------------------------------
def make_register_accounting(ctx) -> pd.DataFrame:
    """Row accounting per register table (rows, not persons: data-quality counts)."""
    rep = ctx.registers.report.to_frame().reset_index()
    rep.columns = [str(c) for c in rep.columns]
    keep = [c for c in rep.columns if c in ("table", "read", "kept", "merged", "quarantined")]
    out = rep[keep].rename(columns={c: f"rows_{c}" for c in keep if c != "table"})
    return out


def _flow(ctx) -> pd.DataFrame:
    return ctx.participant_flow()


_FLOW_COUNTS = {"treated": "n_treated", "controls": "n_controls", "total": "n_total"}


def _controlled_flow(ctx):
    """The flow after disclosure control, shared by table 2 and figure 1 (so they agree)."""
    flow = _flow(ctx).rename(columns=_FLOW_COUNTS)
    # A funnel discloses its differences too (persons excluded at each step), so counts are
    # published rounded to base 5 after primary suppression.
    # n_total = n_treated + n_controls: one hidden part next to both others is protected too
    return ctx.memo("flow_controlled", lambda: disclosure.protect_sums(disclosure.suppress_small(
        flow, min_count=ctx.config.min_count, round_base=5), {"n_total": ["n_treated", "n_controls"]}))


def make_flow_table(ctx) -> pd.DataFrame:
    """Participant flow at the baseline date: persons left after each selection step."""
    return _controlled_flow(ctx).to_frame()


def make_flow_figure(ctx):
    """Participant flow (Bodø and the controls): the rounded, suppressed counts of table 2.

    Drawing the exact counts let two runs differing in one setting reveal a group of four
    persons (issue 20); the figure now shows only what table 2 publishes.
    """
    from ips_study import figures

    safe = _controlled_flow(ctx).frame.rename(columns={v: k for k, v in _FLOW_COUNTS.items()})
    ax = figures.plot_participant_flow(safe, lang=ctx.lang, min_count=ctx.config.min_count,
                                       treated_code=ctx.config.treated_municipality)
    return ax.figure


def make_trends_figure(ctx):
    """Long-term benefit dependence and workdays, Bodø against the pooled controls."""
    from ips_study import figures

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, outcome in zip(axes, ("ltbd", "workdays")):
        figures.plot_trends(ctx.aggregate("year"), outcome, ax=ax, lang=ctx.lang,
                            treated_code=ctx.config.treated_municipality,
                            ips_start=ctx.config.ips_start, min_count=ctx.config.min_count)
    fig.tight_layout()
    return fig


def make_descriptives(ctx) -> pd.DataFrame:
    """Outcome means by group and era on the year panel, with the persons behind each cell."""
    p = ctx.panel("year")
    p = p.assign(group=np.where(p["treated"] == 1, "treated", "controls"),
                 era=np.where(p["post"] == 1, "post", "pre"))
    g = p.groupby(["group", "era"], sort=True)
    out = g[MAIN_OUTCOMES].mean()
    out.insert(0, "n_persons", g["person_id"].nunique())
    out.insert(1, "n_person_years", g.size())
    # a share over few person-years publishes its small numerator (0.0122 x 152 = 2 person-years);
    # workdays, capped at a year's weekdays (at most 262), is a bounded mean: checked as a share of 262
    return disclosure.suppress_shares(out.reset_index(), min_count=ctx.config.min_count,
                                      bounds={"workdays": 262}).to_frame()


# -- difference-in-differences ---------------------------------------------------------------
# The main specification is the population-weighted municipality x year DiD on the
# open-population panel: its estimand is the average effect over the treated municipality's
# target-group person-years (the truth the synthetic generator reports). Person fixed effects
# in an open population identify from people who stay in the target group, a dynamically
# selected sample; that specification is reported as a sensitivity analysis (level="person").
MAIN_LEVEL = "municipality"


#: what the default inference is, in the notes of tables 5-7 (issue 19)
DEFAULT_NOTE = ("placebo-t (the default): each estimate divided by its standard deviation from "
                "the size-variance model A + B/M fitted on the controls' placebo estimates, "
                "against a t distribution with the Satterthwaite degrees of freedom of that fit "
                "(docs/inference.md).")


def event_breakdown(ctx, outcome: str = "workdays") -> dict:
    """Rambachan-Roth breakdown value of the main event study (average post-period effect).

    Relative magnitudes (:func:`ips_study.inference.honest.from_event_study`, covariance of
    the default placebo-t): the largest ratio Mbar of post-period to maximal pre-period
    violations of parallel trends at which the 95 % robust set for the average effect still
    excludes zero.
    """
    from ips_study.inference.honest import from_event_study

    def make():
        es = ctx.fit("event", outcome, level=MAIN_LEVEL)
        et = es.event_time()
        n_post = int((et["event_time"] >= 0).sum())
        hr = from_event_study(es, restriction="RM", l_vec=np.full(n_post, 1.0 / n_post))
        return {"outcome": outcome, "inference": es.inference, "mbar": float(hr.breakdown())}

    return ctx.memo(f"breakdown_{outcome}", make)


def _safe_breakdown(ctx) -> dict | None:
    """:func:`event_breakdown`, or None when it cannot be computed on these data; the tables
    and the figure stand without it (e.g. an event study that cannot be fitted on small data)."""
    try:
        return event_breakdown(ctx)
    except (NotFitted, np.linalg.LinAlgError, *_fit_errors()):
        return None


def _breakdown_note(ctx) -> str:
    b = _safe_breakdown(ctx)
    if b is None:
        return "Breakdown value of the main event study: not available on these data."
    if not np.isfinite(b["mbar"]):
        meaning = ("no violation of parallel trends up to 1000 times the largest pre-period "
                   "one brings the 95 % interval of the average effect on workdays to zero")
    elif b["mbar"] == 0:
        meaning = ("the 95 % interval of the average post-period effect on workdays already "
                   "contains zero without allowing any violation of parallel trends")
    else:
        meaning = (f"the effect on workdays stays different from zero as long as post-period "
                   f"departures from parallel trends are at most {b['mbar']:.2f} times the "
                   "largest pre-period one")
    return (f"Breakdown value of the main event study (Rambachan & Roth 2023, relative "
            f"magnitudes, {b['inference']} covariance): Mbar = {b['mbar']:.2f}; {meaning}.")


def make_did_table(ctx) -> pd.DataFrame:
    """TWFE DiD for the main outcomes under every inference method (person FE as sensitivity)."""
    rows = []
    for outcome in MAIN_OUTCOMES:
        for level in (MAIN_LEVEL, "person"):
            base = ctx.fit("did", outcome, level=level)
            for inf in INFERENCES if level == MAIN_LEVEL else ["placebo-t"]:
                r = base if base.inference == inf else base.with_inference(inf)
                lo, hi = r.conf_int().loc[r.main_term]
                rows.append({"outcome": outcome, "level": level, "inference": inf,
                             "estimate": r.estimate,
                             "std_error": r.std_error, "conf_low": lo, "conf_high": hi,
                             "p_value": r.p_value, "n_obs": r.n_obs, "n_units": r.n_units})
    out = pd.DataFrame(rows)
    out.attrs["notes"] = (DEFAULT_NOTE, _breakdown_note(ctx))
    return out


def make_event_table(ctx) -> pd.DataFrame:
    """Event-study coefficients by year relative to IPS start (reference year -1)."""
    rows = []
    for outcome in ("workdays", "ltbd"):
        et = ctx.fit("event", outcome, level=MAIN_LEVEL).event_time()
        rows.append(et.assign(outcome=outcome))
    out = pd.concat(rows, ignore_index=True)
    out.attrs["notes"] = (DEFAULT_NOTE, _breakdown_note(ctx))
    return out


def make_event_figure(ctx):
    """Event study of workdays and long-term benefit dependence with confidence bands."""
    from ips_study import figures

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, outcome in zip(axes, ("workdays", "ltbd")):
        figures.plot_event_study(ctx.fit("event", outcome, level=MAIN_LEVEL), ax=ax, lang=ctx.lang,
                                 min_count=ctx.config.min_count)
    b = _safe_breakdown(ctx)
    if b is not None:
        axes[0].text(0.02, 0.02, f"{b['inference']}; breakdown " + r"$\bar M$" + f" = {b['mbar']:.2f}",
                     transform=axes[0].transAxes, fontsize=8, va="bottom")
    fig.tight_layout()
    return fig


# -- synthetic control, synthetic DiD, staggered adoption ----------------------------------------
SC_OUTCOMES = ["workdays", "ltbd"]


def make_synth_table(ctx) -> pd.DataFrame:
    """Synthetic control and synthetic DiD next to the DiD, with single-unit inference."""
    rows = []
    for outcome in SC_OUTCOMES:
        for design in ("synth", "sdid"):
            r = ctx.fit(design, outcome)
            lo, hi = r.conf_int().loc[r.main_term]
            rows.append({"outcome": outcome, "design": design, "inference": r.inference,
                         "estimate": r.estimate, "std_error": r.std_error, "conf_low": lo,
                         "conf_high": hi, "p_value": r.p_value, "n_units": r.n_units})
        d = ctx.fit("did", outcome, level=MAIN_LEVEL)
        lo, hi = d.conf_int().loc[d.main_term]
        rows.append({"outcome": outcome, "design": "did", "inference": d.inference, "estimate": d.estimate,
                     "std_error": d.std_error, "conf_low": lo, "conf_high": hi, "p_value": d.p_value,
                     "n_units": d.n_units})
    out = pd.DataFrame(rows)
    out.attrs["notes"] = (DEFAULT_NOTE,)
    return out


def make_synth_figure(ctx):
    """Synthetic control: Bodø against its synthetic twin, and the placebo gaps."""
    from ips_study import figures

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    r = ctx.fit("synth", "workdays")
    kw = dict(lang=ctx.lang, min_count=ctx.config.min_count)
    figures.plot_synth_gap(r, ctx.aggregate("year"), ax=axes[0], ips_start=ctx.config.ips_start, **kw)
    figures.plot_synth_placebos(r, ctx.aggregate("year"), ax=axes[1], **kw)
    fig.tight_layout()
    return fig


#: Inference for the staggered design in the report: every adoption group is one municipality,
#: where the analytic (influence-function) SEs omit the municipality's own variance and
#: under-cover (docs/inference.md: 13-21 % rejection of true nulls); placebo-in-space is valid
#: (conservative: 0.5-1.5 %). The analytic SE is shown beside it.
STAGGERED_INFERENCE = "placebo"


def make_staggered_table(ctx) -> pd.DataFrame:
    """Callaway–Sant'Anna aggregations (simple, group, dynamic, calendar), all municipalities;
    placebo-in-space intervals and p-values, with the analytic SE beside them."""
    rows = []
    for outcome in SC_OUTCOMES:
        for kind in ("simple", "group", "dynamic", "calendar"):
            r = ctx.fit("staggered", outcome, scope="all", aggregation=kind, inference=STAGGERED_INFERENCE)
            t = r.tidy().reset_index()
            t.insert(0, "aggregation", kind)
            t.insert(0, "outcome", outcome)
            analytic = r.extras.get("analytic_std_error", {})
            t["analytic_std_error"] = [analytic.get(str(term), np.nan) for term in t["term"]]
            rows.append(t[["outcome", "aggregation", "term", "estimate", "std_error", "conf_low",
                           "conf_high", "p_value", "analytic_std_error"]].assign(
                               n_units=r.n_units, inference=r.inference))
    return pd.concat(rows, ignore_index=True)


def make_staggered_figure(ctx):
    """Staggered adoption: effects by years since each municipality's IPS start."""
    from ips_study import figures

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, outcome in zip(axes, SC_OUTCOMES):
        # the same (placebo) inference as table 8: the analytic SE under-covers here
        figures.plot_staggered(ctx.fit("staggered", outcome, scope="all", aggregation="dynamic",
                                       inference=STAGGERED_INFERENCE), ax=ax,
                               lang=ctx.lang, min_count=ctx.config.min_count)
    fig.tight_layout()
    return fig


def make_bacon_table(ctx) -> pd.DataFrame:
    """Goodman-Bacon decomposition of the staggered TWFE estimate (workdays)."""
    from ips_study.designs.bacon import bacon_decomposition

    agg = ctx.aggregate("year", "all")
    units = agg.groupby("municipality")["period"].transform("size")
    bal = agg[units == agg["period"].nunique()]
    r = bacon_decomposition(bal, unit="municipality", time="period", outcome="workdays", treated="exposed")
    out = r.by_type().reset_index()
    out.columns = [str(c) for c in out.columns]
    return out.assign(n_units=bal["municipality"].nunique())


# -- survival ----------------------------------------------------------------------------------
# Survival designs follow the closed cohort on month panels: the open population drops a
# person's months once they are on disability pension, so most onsets would be unseen.
SURV = {"freq": "month", "population": "closed"}


def make_km_figure(ctx):
    """Kaplan–Meier and cumulative incidence (sustained work competing) of dependence onset."""
    from ips_study import figures

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    kw = dict(lang=ctx.lang, min_count=ctx.config.min_count)
    km = fit_or_reason(ctx, "km", "ltbd_onset", **SURV)
    figures.plot_km(km, ax=axes[0], **kw)
    # the same persons are at risk of either event: the KM risk table is exact for both
    figures.plot_cumulative_incidence(fit_or_reason(ctx, "cuminc", "ltbd_onset", **SURV), ax=axes[1],
                                      risk_table=km.risk_table(), **kw)
    fig.tight_layout()
    return fig


def _cox_inference_rows(r) -> pd.DataFrame:
    """The Cox exposure term under model, person-robust, municipality-cluster and placebo inference.

    One fit: the placebo result carries the three sandwich/model SEs in its tidy table; their
    rows use normal intervals and p-values, the placebo row its rank test and inverted interval.
    """
    from scipy import stats

    t = r.tidy().loc[r.main_term]
    z = stats.norm.ppf(0.5 + r.level / 2)
    rows = []
    for name, col in (("model", "model_std_error"), ("robust", "robust_std_error"),
                      ("cluster", "cluster_std_error")):
        se = float(t[col])
        rows.append({"inference": name, "std_error": se, "conf_low": t["estimate"] - z * se,
                     "conf_high": t["estimate"] + z * se,
                     "p_value": float(2 * stats.norm.sf(abs(t["estimate"]) / se))})
    rows.append({"inference": r.inference, "std_error": t["std_error"], "conf_low": t["conf_low"],
                 "conf_high": t["conf_high"], "p_value": t["p_value"]})
    out = pd.DataFrame(rows)
    out.insert(0, "estimate", float(t["estimate"]))
    out.insert(0, "term", r.main_term)
    out.insert(0, "design", "cox")
    return out


def make_survival_table(ctx) -> pd.DataFrame:
    """Cox (time-varying exposure), Fine–Gray and discrete-time hazard DiD coefficients.

    The Cox exposure term is shown under model, person-robust, municipality-cluster and
    placebo-in-space inference side by side (one treated municipality: the placebo row is
    the study's default, docs/survival.md); the other Cox terms with the person-robust SE.
    The dthazard ``treated_post`` term is shown under placebo (its default) and model
    inference; its other terms with the clustered SE.
    """
    rows = []
    keep = ["design", "term", "estimate", "std_error", "conf_low", "conf_high", "p_value"]
    for design in ("cox", "finegray", "dthazard"):
        try:
            r = fit_or_reason(ctx, design, "ltbd_onset", **SURV)
        except NotFitted as e:         # this design's row says why; the others still report
            rows.append(not_fitted_table(e.reason, design=design))
            continue
        t = r.tidy().reset_index()
        t.insert(0, "design", design)
        extra = dict(n_obs=r.n_obs, n_units=r.n_units)
        inference = r.inference
        if design == "cox" and r.inference == "placebo":
            rows.append(_cox_inference_rows(r).assign(**extra))
            t = t[t["term"] != r.main_term]
            inference = "robust"           # the placebo fit's other terms: person-robust sandwich
        if design == "dthazard" and r.inference == "placebo":
            main = t["term"] == r.main_term
            rows.append(t.loc[main, keep].assign(inference="placebo", **extra))
            m = fit_or_reason(ctx, design, "ltbd_onset", inference="model", **SURV).tidy().reset_index()
            m.insert(0, "design", design)
            rows.append(m.loc[m["term"] == r.main_term, keep].assign(inference="model", **extra))
            t, inference = t[~main], "cluster"  # the placebo fit's other terms: clustered SE
        rows.append(t[keep].assign(inference=inference, **extra))
    return pd.concat(rows, ignore_index=True)


def make_schoenfeld_figure(ctx):
    """Proportional-hazards check: smoothed scaled Schoenfeld residuals of the exposure."""
    from ips_study import figures

    ax = figures.plot_schoenfeld(fit_or_reason(ctx, "cox", "ltbd_onset", **SURV), lang=ctx.lang,
                                 min_count=ctx.config.min_count)
    return ax.figure


# -- programme metrics -------------------------------------------------------------------------
def _has_programme(ctx) -> bool:
    return ctx.has_table("ips_caseload") and ctx.has_table("specialist_weeks")


def make_table_3(ctx) -> pd.DataFrame:
    """The programme report's Table 3 at 2014-09-30, next to the published figures."""
    from ips_study import caseload

    t = caseload.table_3(ctx.registers["ips_caseload"], ctx.registers["specialist_weeks"])
    return disclosure.suppress_small(t, min_count=ctx.config.min_count,
                                     rates={"value": "n", "exact": "n"}).to_frame()


def make_programme_figure(ctx):
    """Programme metrics by quarter: share of the caseload in work, time in the community."""
    from ips_study import caseload, figures

    m = caseload.metrics_by_quarter(ctx.registers["ips_caseload"], ctx.registers["specialist_weeks"])
    ax = figures.plot_programme_metrics(m, lang=ctx.lang, min_count=ctx.config.min_count)
    return ax.figure


def make_programme_flow(ctx) -> pd.DataFrame:
    """Outcome flow of the programme's job seekers (attached, ended, by reason)."""
    from ips_study import caseload

    flow = caseload.outcome_flow(ctx.registers["ips_caseload"])
    return caseload.protect_flow(flow, ctx.config.min_count)


# -- health economics and power -----------------------------------------------------------------
def _economics(ctx):
    from ips_study import economics

    def make():
        inputs = economics.EconomicInputs.from_dict(ctx.config.economics or {})
        effects = {name: ctx.fit("did", name, level=MAIN_LEVEL)
                   for name in ("workdays", "disability", "work_assessment", "sickness")}
        return economics.evaluate(effects, inputs, seed=ctx.config.seed)

    return ctx.memo("economics", make)


def make_cost_benefit_table(ctx) -> pd.DataFrame:
    """Net present value, cost per work year and ROI with Monte Carlo intervals."""
    t = _economics(ctx).tidy().reset_index()
    return t[["term", "estimate", "std_error", "conf_low", "conf_high"]]


def make_cost_benefit_figure(ctx):
    """Cost-effectiveness acceptability curve and one-way sensitivity (tornado)."""
    from ips_study import figures

    res = _economics(ctx)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    figures.plot_ceac(res, ax=axes[0], lang=ctx.lang)
    figures.plot_tornado(res, ax=axes[1], lang=ctx.lang)
    fig.tight_layout()
    return fig


def _power(ctx):
    from ips_study import power

    return ctx.memo("power", lambda: power.power_report(ctx.panel("year"), outcome="workdays",
                                                        config=ctx.config, client=ctx.client,
                                                        progress=progress.enabled()))


def make_power_table(ctx) -> pd.DataFrame:
    """Power by inference method and effect size, and the minimum detectable effects."""
    rep = _power(ctx)
    return rep["compare"].reset_index() if rep["compare"].index.name else rep["compare"]


def make_power_figure(ctx):
    """Power curves by method; minimum detectable effect against controls and follow-up."""
    from ips_study import figures

    return figures.plot_power_report(_power(ctx), outcome="workdays", lang=ctx.lang)


# -- the main results side by side ----------------------------------------------------------------
def make_main_results(ctx):
    """Main results side by side: DiD, synthetic control, synthetic DiD and Cox.

    One column per model (ips_study.tables.etable), each naming its own inference method.
    """
    import re

    from ips_study.figures.labels import canonical_term
    from ips_study.tables import etable

    models = [ctx.fit("did", o, level=MAIN_LEVEL) for o in ("workdays", "ltbd", "employed")]
    models += [ctx.fit(d, "workdays") for d in ("synth", "sdid")]
    models.append(ctx.fit("cox", "ltbd_onset", **SURV))
    keep = list(dict.fromkeys(f"^{re.escape(canonical_term(m.main_term))}$" for m in models))
    return etable(models, stat="ci", keep=keep, lang=ctx.lang, caption=_caption(make_main_results),
                  label="tab:main_results", min_count=ctx.config.min_count,
                  notes=("Cox: log hazard ratio of long-term benefit dependence onset, closed "
                         "cohort." if ctx.lang == "en" else
                         "Cox: log hasardrate for start av langvarig trygdeavhengighet, lukket "
                         "kohort.",))


# -- truth recovery (synthetic data only) -------------------------------------------------------
# Each design is compared with the estimand it identifies (docs/designs.md, "Estimands"): the
# open-population designs with the change of the target-group mean (att_population; synthetic
# control and synthetic DiD average their post years equally, the population-weighted DiD by
# person-years), the closed-cohort DiD with the intention-to-treat effect on the baseline
# cohort (att_cohort), Callaway-Sant'Anna with its cells aggregated by the same weights.
def _truth_rows(truth: dict) -> list[tuple[str, str, dict, str, float]]:
    """(outcome, design, fit options, estimand name, true value) of every comparison."""
    rows = []
    pop, equal = truth["att_population"], truth["att_population_year_mean"]
    for outcome in MAIN_OUTCOMES:
        rows.append((outcome, "did", {"level": MAIN_LEVEL}, "att_population", pop[outcome]))
        rows.append((outcome, "did", {"level": MAIN_LEVEL, "population": "closed"}, "att_cohort",
                     truth["att_cohort"][outcome]))
        if outcome in SC_OUTCOMES:
            for design in ("synth", "sdid"):
                rows.append((outcome, design, {}, "att_population_year_mean", equal[outcome]))
            for kind in ("simple", "dynamic"):
                rows.append((outcome, "staggered", {"scope": "all", "aggregation": kind,
                                                     "inference": STAGGERED_INFERENCE},
                             f"staggered.att_{kind}", truth["staggered"][f"att_{kind}"][outcome]))
    hazard = truth.get("hazard_ratio_ltbd_onset")
    if hazard:
        # log hazard ratio of exposure: the Cox design's estimand (closed cohort, month panel)
        rows.append(("ltbd_onset", "cox", dict(SURV), "hazard_ratio_ltbd_onset", hazard["log_hr"]))
    return rows


def make_truth_table(ctx) -> pd.DataFrame:
    """Estimates against the true effect each design identifies (synthetic data only)."""
    truth = ctx.truth
    if "att_population_year_mean" not in truth:
        raise ValueError("truth.json predates the estimand fields (att_population, att_cohort, "
                         "staggered); regenerate the synthetic data")
    rows = []
    for outcome, design, kw, estimand, true in _truth_rows(truth):
        label = design if kw.get("population") != "closed" else f"{design} (closed cohort)"
        if "aggregation" in kw:
            label = f"{design} ({kw['aggregation']})"
        try:
            r = fit_or_reason(ctx, design, outcome, **kw)
        except NotFitted as e:
            rows.append({"outcome": outcome, "design": label, "estimand": estimand,
                         "truth": true, "status": "not fitted", "reason": e.reason})
            continue
        lo, hi = r.conf_int().loc[r.main_term]
        rows.append({"outcome": outcome, "design": label, "estimand": estimand, "inference": r.inference,
                     "truth": true, "estimate": r.estimate, "conf_low": lo, "conf_high": hi,
                     "covers_truth": bool(lo <= true <= hi)})
    return pd.DataFrame(rows)


# -- the published design ----------------------------------------------------------------------
def make_published_design(ctx) -> pd.DataFrame:
    """The published design's DiD and event-year estimates beside the published numbers.

    Written for a study file with a ``[published]`` table (``--study published_design``):
    the main DiD (MAIN_LEVEL) of the published outcome under every inference method (the
    default first; with ten controls only the cluster and wild intervals are bounded at 95 %),
    the published method's interval (``person-cluster``: the same regression on person rows,
    SEs clustered on persons, :func:`ips_study.published.conventional_fit`), and the
    event-study coefficient at the published event year, next to the published values.
    """
    from ips_study.published import conventional_fit, published_table

    pub = ctx.config.published
    outcome = pub.get("outcome", "workdays")
    base = ctx.fit("did", outcome, level=MAIN_LEVEL)
    dids = [base] + [base.with_inference(inf) for inf in INFERENCES if inf != base.inference]
    conventional = conventional_fit(ctx.panel(), ctx.config, outcome=outcome)
    event = ctx.fit("event", outcome, level=MAIN_LEVEL) if "event_time" in pub else None
    return published_table(dids, event, pub, conventional=conventional).assign(outcome=outcome)


OUTPUTS: list[Output] = [
    Output("table_1_register_accounting", "registers", make_register_accounting),
    Output("table_2_participant_flow", "cohort", make_flow_table),
    Output("figure_1_participant_flow", "cohort", make_flow_figure, kind="figure"),
    Output("table_4_descriptives", "panels", make_descriptives),
    Output("figure_3_trends", "panels", make_trends_figure, kind="figure"),
    Output("table_5_difference_in_differences", "did", make_did_table),
    Output("table_6_event_study", "did", make_event_table),
    Output("figure_2_event_study", "did", make_event_figure, kind="figure"),
    Output("table_7_synthetic_control", "synth", make_synth_table),
    Output("figure_4_synthetic_control", "synth", make_synth_figure, kind="figure"),
    Output("table_8_staggered_adoption", "staggered", make_staggered_table),
    Output("figure_5_staggered_event_time", "staggered", make_staggered_figure, kind="figure"),
    Output("table_9_bacon_decomposition", "staggered", make_bacon_table),
    Output("figure_6_survival", "survival", make_km_figure, kind="figure"),
    Output("table_10_survival_models", "survival", make_survival_table),
    Output("figure_7_schoenfeld", "survival", make_schoenfeld_figure, kind="figure"),
    Output("table_3_programme_metrics", "programme", make_table_3, when=_has_programme),
    Output("figure_8_programme_metrics", "programme", make_programme_figure, kind="figure",
           when=_has_programme),
    Output("table_11_programme_outcome_flow", "programme", make_programme_flow, when=_has_programme),
    Output("table_13_cost_benefit", "economics", make_cost_benefit_table),
    Output("figure_9_cost_benefit", "economics", make_cost_benefit_figure, kind="figure"),
    Output("table_14_power", "power", make_power_table),
    Output("figure_10_power", "power", make_power_figure, kind="figure"),
    Output("table_12_truth_recovery", "truth", make_truth_table, when=lambda ctx: ctx.is_synthetic),
    Output("table_15_main_results", "survival", make_main_results, kind="etable"),
    Output("table_16_published_design", "did", make_published_design,
           when=lambda ctx: bool(ctx.config.published)),
]
