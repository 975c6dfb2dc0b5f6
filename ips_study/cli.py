"""Command line interface: ``ips-study <command>`` (data contract, section 5).

Commands (``ips-study --version`` prints the version; ``COMMAND --help`` the options)::

    ips-study synth     --out DIR [--persons N] [--seed S] [--format csv|parquet]
    ips-study validate  DIR [--json] [--quarantine-dir Q]
    ips-study panel     DIR --out PANEL.parquet [--freq month|year] [--design open|closed]
                        [--study STUDY.toml] [--scope study|all]
                        [--partitions N --work DIR]
    ips-study estimate  PANEL.parquet --design DESIGN --outcome NAME [--inference M] [--study STUDY.toml] [--json OUT.json]
    ips-study reproduce [--data DIR] [--out DIR] [--study STUDY.toml] [--work DIR] [--lang en|no]
    ips-study check-outputs DIR [--min-count N]
    ips-study caseload-report DIR --quarter 2014Q3 --out OUTDIR

Every command takes ``--progress``/``--no-progress`` (default: on when stderr is a terminal):
step names, running times and progress bars on stderr only (:mod:`ips_study.progress`).

Errors in the input (a bad study file, a register problem) are reported as one line on
stderr with exit code 2 (1 for ``validate``/``check-outputs`` findings), never as a traceback
and never with a person identifier.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import warnings
from pathlib import Path

from . import progress


def _config(args):
    from .config import StudyConfig

    return StudyConfig.load(getattr(args, "study", None))


def _design_of(filename: str) -> str | None:
    """The design a warning comes from, read off the module that raised it."""
    m = re.search(r"designs[/\\](survival)[/\\]|designs[/\\]([a-z]+?)(?:_[a-z]+)?\.py$",
                  str(filename))
    return (m.group(1) or m.group(2)) if m else None


def _warnings_once(func):
    """Run a command printing each distinct warning once, naming the design it concerns.

    Python's own "once per location" bookkeeping is reset by every ``catch_warnings`` block
    inside the analysis, so the same warning came back for every fit (the staggered design's
    six times and more in ``reproduce``). Here the command dedups by category and text.
    """
    @functools.wraps(func)
    def run(args):
        seen: set[tuple[type, str]] = set()

        def show(message, category, filename, lineno, file=None, line=None):
            key = (category, str(message))
            if key in seen:
                return
            seen.add(key)
            design = _design_of(filename)
            where = f" ({design} design)" if design else ""
            print(f"ips-study {args.command}: {category.__name__}{where}: {message}",
                  file=sys.stderr)

        with warnings.catch_warnings():
            warnings.simplefilter("always")  # every warning reaches show(), which dedups
            warnings.showwarning = show
            return func(args)

    return run


#: designs that need the month panel of the closed cohort
SURVIVAL_DESIGNS = ("km", "cox", "cuminc", "finegray", "dthazard")


def _panel_checked(func):
    """Refuse a survival design on a panel that cannot carry it, with the command that can.

    Reads the ``.summary.json`` that ``ips-study panel`` writes beside the panel (design and
    frequency); a panel without one passes unchecked.
    """
    @functools.wraps(func)
    def run(args):
        summary = Path(args.panel).with_suffix(".summary.json")
        if args.design in SURVIVAL_DESIGNS and summary.is_file():
            info = json.loads(summary.read_text())
            design, freq = info.get("design"), info.get("freq")
            if design == "open" or freq == "year":
                raise ValueError(
                    f"--design {args.design} needs a month panel of the closed cohort, but "
                    f"{args.panel} is a {freq or '?'} panel of the {design or '?'} population "
                    f"(an open population drops a person's months once the target rule fails, "
                    f"so follow-up ends before the event). Build one with: ips-study panel DIR "
                    f"--out PANEL.parquet --freq month --design closed")
        return func(args)

    return run


def _unbounded_notes(res) -> list[str]:
    """A note for every table holding an infinite interval end, saying why."""
    tables = [res.tidy()]
    et = res.event_time() if hasattr(res, "event_time") else None
    if et is not None:
        tables.append(et)
    if not any(t[["conf_low", "conf_high"]].abs().eq(float("inf")).to_numpy().any()
               for t in tables if {"conf_low", "conf_high"} <= set(t.columns)):
        return []
    return [f"Note: -inf/inf means the {res.inference} interval is unbounded at the "
            f"{res.level:.0%} level: a rank test over J placebo units cannot give a p-value "
            f"below 1/(J+1), and when that exceeds {1 - res.level:.2f} no effect is rejected "
            f"(here {res.n_units} units). Read the p-value, or use a lower level or more "
            f"control municipalities."]


def cmd_synth(args) -> int:
    from .synthetic import write_synthetic

    with progress.step(f"writing synthetic registers to {args.out}"):
        out = write_synthetic(args.out, persons=args.persons, seed=args.seed, format=args.format,
                              progress=progress.enabled())
    print(f"synthetic registers written to {out}")
    return 0


def cmd_validate(args) -> int:
    from .registers import validate_directory

    with progress.step(f"reading and validating {args.dir}"):
        report = validate_directory(args.dir, quarantine_dir=args.quarantine_dir,
                                    columns=_config(args).columns)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=True, default=str))
    else:
        print(report.to_text())
    return 1 if report.fatal else 0


def cmd_panel(args) -> int:
    from .panel import write_panel, write_panel_partitioned
    from .registers import read_registers

    config = _config(args)
    if args.freq:
        config = config.replace(freq=args.freq)
    if args.design:
        config = config.replace(design=args.design)
    if args.partitions:
        if not args.work:
            raise ValueError("--partitions needs --work DIR (a confidential area for the partition files)")
        summary = write_panel_partitioned(args.dir, args.out, config, n_parts=args.partitions, work=args.work,
                                          scope=args.scope, quarantine_dir=args.quarantine_dir,
                                          progress=progress.enabled())
        print(json.dumps({k: v for k, v in summary.items() if k != "registers"}, indent=2, sort_keys=True))
        return 0
    with progress.step(f"reading registers from {args.dir}"):
        registers = read_registers(args.dir, quarantine_dir=args.quarantine_dir,
                                   columns=config.columns)
    with progress.step(f"building the {config.freq} panel ({config.design} population)"):
        summary = write_panel(registers, args.out, config, scope=args.scope,
                              progress=progress.enabled())
    summary["registers"] = registers.report.to_dict() if registers.report is not None else None
    Path(args.out).with_suffix(".summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "registers"}, indent=2, sort_keys=True))
    return 0


def parse_option(item: str) -> tuple[str, object]:
    """``KEY=VALUE`` of ``--option``: VALUE as JSON when it is JSON (numbers, lists, true,
    false, null, quoted strings), else the text itself (``small_sample=fixest``,
    ``weights=n_persons``, ``group=treated_era``)."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"--option expects KEY=VALUE, got {item!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


#: designs whose ``fit_panel`` forwards ``**options`` to a function with named options
_FORWARDS = {"did": "ips_study.inference:method_options",
             "event": "ips_study.inference:method_options",
             "synth": "ips_study.designs.synth:synth",
             "sdid": "ips_study.designs.sdid:sdid",
             "staggered": "ips_study.designs.staggered:att_gt"}
#: arguments the CLI itself supplies (or that name the data), never valid as ``--option``
_FIXED = {"panel", "outcome", "config", "inference", "data", "y", "unit", "time", "treat",
          "treated", "placebo", "group"}
#: options ``staggered``'s ``fit_panel`` reads itself before forwarding the rest
_STAGGERED_OWN = ["level", "aggregation", "weight_by_population", "n_boot", "seed", "n_draws"]


def design_options(design: str, fit, inference: str | None) -> list[str] | None:
    """Option names a design accepts from ``--option``; ``None`` when they cannot be known."""
    import importlib
    import inspect

    params = inspect.signature(fit).parameters.values()
    names = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in _FIXED]
    if not any(p.kind is p.VAR_KEYWORD for p in params):
        return names
    if design not in _FORWARDS:
        return None
    module, func = _FORWARDS[design].split(":")
    target = getattr(importlib.import_module(module), func)
    if design in ("did", "event"):
        from .designs.did_results import DEFAULT_INFERENCE

        extra = target(inference or DEFAULT_INFERENCE)
    else:
        extra = [p.name for p in inspect.signature(target).parameters.values()
                 if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
                 and p.name not in _FIXED]
        if design == "staggered":
            extra += _STAGGERED_OWN
    return sorted(set(names) | set(extra))


def check_options(design: str, fit, options: dict, inference: str | None) -> None:
    """One-line error for an ``--option`` key the design does not take."""
    valid = design_options(design, fit, inference)
    if valid is None:
        return
    unknown = sorted(set(options) - set(valid))
    if unknown:
        raise ValueError(f"unknown --option {unknown[0]!r} for design {design!r}; valid: "
                         f"{', '.join(valid)}")


def panel_population(panel) -> str | None:
    """The population a person panel was built for, read off the panel itself.

    A closed-cohort panel carries each period's ``current_municipality`` beside the baseline
    ``municipality`` (``ips_study.panel``); an open-population panel does not. ``None`` for a
    table that is not a person panel (an aggregate), whose population cannot be told.
    """
    if "person_id" not in panel.columns:
        return None
    return "closed" if "current_municipality" in panel.columns else "open"


def cmd_estimate(args) -> int:
    from .designs import get_design
    from .panel import read_panel

    config = _config(args)
    with progress.step(f"reading panel {args.panel}"):
        panel = read_panel(args.panel)
    # the survival designs' time scale and notes depend on the population: take it from the
    # panel, not from the study file (whose default is the open population)
    population = panel_population(panel)
    if population is not None and population != config.design:
        config = config.replace(design=population)
    fit = get_design(args.design)
    options = dict(parse_option(item) for item in args.option or [])
    check_options(args.design, fit, options, args.inference)
    with progress.step(f"fitting {args.design} on {args.outcome} "
                       f"({args.inference or 'default'} inference)"):
        res = fit(panel, outcome=args.outcome, config=config, inference=args.inference,
                  **options)
    try:
        from .disclosure import check_results
        check_results(res, config.min_count)
    except ImportError:  # pragma: no cover - disclosure always ships with the package
        pass
    if args.json:
        res.to_json(args.json)
    print(res.summary().as_text())
    print(*_unbounded_notes(res), sep="\n")
    return 0


def cmd_reproduce(args) -> int:
    from ips_study.reproduce.pipeline import run

    return run(data=args.data, out=args.out, study=args.study, quiet=args.quiet, work=args.work,
               lang=args.lang, workers=args.workers, progress=progress.enabled(), partitions=args.partitions)


def _ids_from(path: str, column: str) -> tuple[str, ...]:
    """The person ids in ``column`` of one table file (CSV, TSV or Parquet), read as text and
    kept in this process only (never printed: an error names the file and column)."""
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    from .disclosure import searchable_ids

    f = Path(path)
    if not f.is_file():
        raise ValueError(f"--ids-from {f}: no such file")
    try:
        if f.suffix.lower() == ".parquet":
            names = pq.read_schema(f).names
            values = pq.read_table(f, columns=[column]).column(0) if column in names else None
        else:
            delim = "\t" if f.suffix.lower() == ".tsv" else ","
            names = pcsv.open_csv(f, parse_options=pcsv.ParseOptions(delimiter=delim)).schema.names
            opts = pcsv.ConvertOptions(column_types={column: "string"}, include_columns=[column])
            values = (pcsv.read_csv(f, parse_options=pcsv.ParseOptions(delimiter=delim),
                                    convert_options=opts).column(0) if column in names else None)
    except Exception as exc:  # noqa: BLE001 - Arrow's messages (ArrowInvalid is a ValueError) may quote a row
        raise ValueError(f"--ids-from {f}: cannot read {column!r} ({type(exc).__name__})") from None
    if values is None:
        raise ValueError(f"--ids-from {f}: no column {column!r} (use --id-column)")
    return searchable_ids(v for v in values.cast("string").to_pylist() if v is not None)


def cmd_check_outputs(args) -> int:
    from .disclosure import check_outputs

    ids = _ids_from(args.ids_from, args.id_column) if args.ids_from else ()
    result = check_outputs(args.dir, min_count=args.min_count, ids=ids)
    print(result.to_text())
    return 0 if result.ok else 1


def cmd_caseload_report(args) -> int:
    from .caseload import quarterly_report
    from .registers import read_registers

    registers = read_registers(args.dir, quarantine_dir=args.quarantine_dir)
    if "ips_caseload" not in registers or "specialist_weeks" not in registers:
        raise ValueError("the register directory has no ips_caseload/specialist_weeks tables")
    paths = quarterly_report(registers["ips_caseload"], registers["specialist_weeks"], args.quarter,
                             args.out, min_count=_config(args).min_count)
    for p in paths:
        print(p)
    return 0


def _version() -> str:
    from . import __version__

    return __version__


#: designs of ``estimate --design`` (ips_study.designs.DESIGNS; listed here so that
#: ``--help`` does not import the design modules)
DESIGN_CHOICES = ("did", "event", "synth", "sdid", "staggered", "km", "cox", "cuminc",
                  "finegray", "dthazard")
#: inference methods some design accepts (each design checks its own: DiD and event study
#: the first six, Cox also robust/model, synth/sdid/staggered placebo, bootstrap, jackknife,
#: analytic)
INFERENCE_CHOICES = ("placebo-t", "placebo", "ferman-pinto", "conley-taber", "cluster", "wild",
                     "robust", "model", "analytic", "bootstrap", "jackknife", "none", "default")


class _WithCommon:
    """The subparsers action, adding the options every command shares to each new command."""

    def __init__(self, sub, common: argparse.ArgumentParser):
        self.sub, self.common = sub, common

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        return self.sub.add_parser(name, parents=[self.common], **kwargs)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="ips-study", description=__doc__.split("\n")[0],
        epilog="Run 'ips-study COMMAND --help' for the options of one command.")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}",
                   help="print the package version and exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # every command takes --progress/--no-progress (a parent parser, so it follows the command)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="step names, running times and progress bars on stderr (never in "
                             "the outputs); default: on when stderr is a terminal")
    sub = _WithCommon(sub, common)
    study_help = "study TOML file (default: the data contract's study defaults; see docs/study.example.toml)"
    quarantine_help = ("folder for rows that fail validation (they hold person ids); default: "
                       "the confidential work area ($IPS_STUDY_WORK or ~/.cache/ips_study/work), "
                       "never beside the input data")

    s = sub.add_parser("synth", help="write synthetic registers with known true effects")
    s.add_argument("--out", required=True, metavar="DIR", help="folder to write the registers to")
    s.add_argument("--persons", type=int, default=None, metavar="N",
                   help="number of persons (default: the generator's default population)")
    s.add_argument("--seed", type=int, default=None, metavar="S",
                   help="random seed (default: the generator's fixed seed)")
    s.add_argument("--format", choices=["csv", "parquet"], default="parquet",
                   help="file format of the register tables (default: %(default)s)")
    s.set_defaults(func=_warnings_once(cmd_synth))

    s = sub.add_parser("validate", help="validate a register directory and report row accounting")
    s.add_argument("dir", help="register directory (one file per register table)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("--quarantine-dir", default=None, metavar="Q", help=quarantine_help)
    s.add_argument("--study", default=None, metavar="STUDY.toml",
                   help=study_help + "; its [columns.<table>] tables rename delivered variables")
    s.set_defaults(func=_warnings_once(cmd_validate))

    s = sub.add_parser("panel", help="build a person-period panel")
    s.add_argument("dir", help="register directory")
    s.add_argument("--out", required=True, metavar="PANEL.parquet", help="panel file to write")
    s.add_argument("--freq", choices=["month", "year"], default=None,
                   help="one row per person-month or person-year (default: the study file's)")
    s.add_argument("--design", choices=["open", "closed"], default=None,
                   help="population: 'open' (everyone in the target group each period) or "
                        "'closed' (the cohort at the baseline date, followed through; what the "
                        "survival designs need); default: the study file's")
    s.add_argument("--study", default=None, metavar="STUDY.toml", help=study_help)
    s.add_argument("--scope", choices=["study", "all"], default="study",
                   help="'study': Bodø and its controls; 'all': every municipality (staggered "
                        "adoption); default: %(default)s")
    s.add_argument("--quarantine-dir", default=None, metavar="Q", help=quarantine_help)
    s.add_argument("--partitions", type=int, default=None, metavar="N",
                   help="split the delivery into N person partitions (deliveries larger than memory)")
    s.add_argument("--work", default=None, metavar="DIR",
                   help="confidential work area for partition files")
    s.add_argument("--quiet", action="store_true", help="no progress (as --no-progress)")
    s.set_defaults(func=_warnings_once(cmd_panel))

    s = sub.add_parser("estimate", help="fit a design on a panel")
    s.add_argument("panel", help="panel file written by 'ips-study panel'")
    s.add_argument("--design", required=True, choices=DESIGN_CHOICES,
                   help="design to fit: %(choices)s (survival designs: km, cox, cuminc, "
                        "finegray, dthazard need a month panel of the closed cohort)")
    s.add_argument("--outcome", required=True, metavar="NAME",
                   help="outcome column (data contract, section 4, e.g. workdays, ltbd; ltbd_onset for "
                        "the survival designs)")
    s.add_argument("--inference", default=None, choices=INFERENCE_CHOICES,
                   help="inference method (default: the design's; for one treated "
                        "municipality that is a placebo method); choices: %(choices)s")
    s.add_argument("--study", default=None, metavar="STUDY.toml", help=study_help)
    s.add_argument("--json", default=None, metavar="OUT.json",
                   help="also write the results as JSON (data contract, section 5)")
    s.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="design-specific option (repeatable)")
    s.set_defaults(func=_warnings_once(_panel_checked(cmd_estimate)))

    s = sub.add_parser("reproduce", help="run the whole analysis: every figure and table")
    s.add_argument("--data", default=None, metavar="DIR",
                   help="register directory (default: the embedded synthetic registers)")
    s.add_argument("--out", default=None, metavar="DIR",
                   help="output folder for figures and tables (default: figures/)")
    s.add_argument("--study", default=None, metavar="STUDY.toml", help=study_help)
    s.add_argument("--work", default=None, metavar="DIR",
                   help="confidential work area for intermediates (default: $IPS_STUDY_WORK or "
                        "~/.cache/ips_study/work)")
    s.add_argument("--lang", choices=["en", "no"], default="en",
                   help="language of figure and table labels (default: %(default)s)")
    s.add_argument("--quiet", action="store_true",
                   help="no progress and no summary lines at the end (progress: unless --progress)")
    s.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="local Dask worker processes for the simulations (default: the CPUs; "
                        "1 runs them in this process; the outputs are the same)")
    s.add_argument("--partitions", type=int, default=None, metavar="K",
                   help="read the registers and build the panels in K person partitions (memory "
                        "bounded by one partition; the analysis still reads each panel whole; "
                        "0: in memory; default: $IPS_STUDY_PARTITIONS, else in memory; the outputs are the same)")
    s.set_defaults(func=_warnings_once(cmd_reproduce))

    s = sub.add_parser("check-outputs", help="disclosure check of a folder of outputs")
    s.add_argument("dir", help="output folder to scan (tables in every text format, PNG and PDF figures)")
    s.add_argument("--min-count", type=int, default=5, metavar="N",
                   help="smallest publishable count of persons (default: %(default)s)")
    s.add_argument("--ids-from", metavar="FILE",
                   help="a table of the delivery's persons (CSV, TSV or Parquet): its ids of any format "
                        "are looked for in every output (without it only 10- and 11-digit numbers are)")
    s.add_argument("--id-column", default="person_id", metavar="NAME",
                   help="the id column of --ids-from (default: %(default)s)")
    s.set_defaults(func=_warnings_once(cmd_check_outputs))

    s = sub.add_parser("caseload-report", help="quarterly programme report")
    s.add_argument("dir", help="register directory with ips_caseload and specialist_weeks")
    s.add_argument("--quarter", required=True, metavar="YYYYQn",
                   help="reporting quarter, e.g. 2014Q3")
    s.add_argument("--out", required=True, metavar="OUTDIR", help="folder for the report tables")
    s.add_argument("--study", default=None, metavar="STUDY.toml", help=study_help)
    s.add_argument("--quarantine-dir", default=None, metavar="Q", help=quarantine_help)
    s.set_defaults(func=_warnings_once(cmd_caseload_report))
    return p


def main(argv: list[str] | None = None) -> int:
    from .disclosure import DisclosureError
    from .reproduce.lock import FolderBusy

    args = build_parser().parse_args(argv)
    quiet = getattr(args, "quiet", False)
    progress.configure(False if args.progress is None and quiet else args.progress)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError, DisclosureError, FolderBusy) as exc:
        # Input problems, refused outputs, a busy folder: one clear line, no traceback
        # (tracebacks may carry data values).
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ips-study {args.command}: error: {msg}", file=sys.stderr)
        return 2
    except OSError as exc:
        # a read-only folder, a full disk: say which file and why; rerunning resumes
        print(f"ips-study {args.command}: error: {_os_error(exc)}", file=sys.stderr)
        return 2


def _os_error(exc: OSError) -> str:
    """``cannot write FILE: No space left on device (ENOSPC)``, naming what the OS names."""
    import errno

    what = exc.strerror or type(exc).__name__
    code = f" ({errno.errorcode[exc.errno]})" if exc.errno in errno.errorcode else ""
    where = f" {exc.filename}" if exc.filename else ""
    hint = "; free space or choose another folder, then run again to resume" if exc.errno in (
        errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT) else ""
    return f"cannot write{where}: {what}{code}{hint}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
