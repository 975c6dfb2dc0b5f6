"""Command line interface: ``ips-study <command>`` (data contract, section 5).

Commands::

    ips-study synth     --out DIR [--persons N] [--seed S] [--format csv|parquet]
    ips-study validate  DIR [--json] [--quarantine-dir Q]
    ips-study panel     DIR --out PANEL.parquet [--freq month|year] [--study STUDY.toml] [--scope study|all]
                        [--partitions N --work DIR]
    ips-study estimate  PANEL.parquet --design DESIGN --outcome NAME [--inference M] [--study STUDY.toml] [--json OUT.json]
    ips-study reproduce [--data DIR] [--out DIR] [--study STUDY.toml] [--work DIR] [--lang en|no]
    ips-study check-outputs DIR [--min-count N]
    ips-study caseload-report DIR --quarter 2014Q3 --out OUTDIR

Errors in the input (a bad study file, a register problem) are reported as one line on
stderr with exit code 2 (1 for ``validate``/``check-outputs`` findings), never as a traceback
and never with a person identifier.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _config(args):
    from .config import StudyConfig

    return StudyConfig.load(getattr(args, "study", None))


def cmd_synth(args) -> int:
    from .synthetic import write_synthetic

    out = write_synthetic(args.out, persons=args.persons, seed=args.seed, format=args.format)
    print(f"synthetic registers written to {out}")
    return 0


def cmd_validate(args) -> int:
    from .registers import validate_directory

    report = validate_directory(args.dir, quarantine_dir=args.quarantine_dir)
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
    if args.partitions:
        if not args.work:
            raise ValueError("--partitions needs --work DIR (a confidential area for the partition files)")
        summary = write_panel_partitioned(args.dir, args.out, config, n_parts=args.partitions, work=args.work,
                                          scope=args.scope, quarantine_dir=args.quarantine_dir,
                                          progress=not args.quiet)
        print(json.dumps({k: v for k, v in summary.items() if k != "registers"}, indent=2, sort_keys=True))
        return 0
    registers = read_registers(args.dir, quarantine_dir=args.quarantine_dir)
    summary = write_panel(registers, args.out, config, scope=args.scope, progress=not args.quiet)
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


def cmd_estimate(args) -> int:
    from .designs import get_design
    from .panel import read_panel

    config = _config(args)
    panel = read_panel(args.panel)
    fit = get_design(args.design)
    options = dict(parse_option(item) for item in args.option or [])
    check_options(args.design, fit, options, args.inference)
    res = fit(panel, outcome=args.outcome, config=config, inference=args.inference, **options)
    try:
        from .disclosure import check_results
        check_results(res, config.min_count)
    except ImportError:  # pragma: no cover - disclosure always ships with the package
        pass
    if args.json:
        res.to_json(args.json)
    print(res.summary().as_text())
    return 0


def cmd_reproduce(args) -> int:
    from ips_study.reproduce.pipeline import run

    return run(data=args.data, out=args.out, study=args.study, quiet=args.quiet, work=args.work,
               lang=args.lang, workers=args.workers)


def cmd_check_outputs(args) -> int:
    from .disclosure import check_outputs

    result = check_outputs(args.dir, min_count=args.min_count)
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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    p = argparse.ArgumentParser(prog="ips-study", description=__doc__.split("\n")[0])
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write synthetic registers with known true effects")
    s.add_argument("--out", required=True)
    s.add_argument("--persons", type=int, default=None)
    s.add_argument("--seed", type=int, default=None)
    s.add_argument("--format", choices=["csv", "parquet"], default="parquet")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("validate", help="validate a register directory and report row accounting")
    s.add_argument("dir")
    s.add_argument("--json", action="store_true")
    s.add_argument("--quarantine-dir", default=None)
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("panel", help="build a person-period panel")
    s.add_argument("dir")
    s.add_argument("--out", required=True)
    s.add_argument("--freq", choices=["month", "year"], default=None)
    s.add_argument("--study", default=None)
    s.add_argument("--scope", choices=["study", "all"], default="study")
    s.add_argument("--quarantine-dir", default=None)
    s.add_argument("--partitions", type=int, default=None,
                   help="split the delivery into N person partitions (deliveries larger than memory)")
    s.add_argument("--work", default=None, help="confidential work area for partition files")
    s.add_argument("--quiet", action="store_true")
    s.set_defaults(func=cmd_panel)

    s = sub.add_parser("estimate", help="fit a design on a panel")
    s.add_argument("panel")
    s.add_argument("--design", required=True)
    s.add_argument("--outcome", required=True)
    s.add_argument("--inference", default=None)
    s.add_argument("--study", default=None)
    s.add_argument("--json", default=None)
    s.add_argument("--option", action="append", metavar="KEY=VALUE",
                   help="design-specific option (repeatable)")
    s.set_defaults(func=cmd_estimate)

    s = sub.add_parser("reproduce", help="run the whole analysis: every figure and table")
    s.add_argument("--data", default=None)
    s.add_argument("--out", default=None)
    s.add_argument("--study", default=None)
    s.add_argument("--work", default=None, help="confidential work area for intermediates")
    s.add_argument("--lang", choices=["en", "no"], default="en")
    s.add_argument("--quiet", action="store_true")
    s.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local Dask worker processes for the simulations (default: the CPUs; "
                        "1 runs them in this process; the outputs are the same)")
    s.set_defaults(func=cmd_reproduce)

    s = sub.add_parser("check-outputs", help="disclosure check of a folder of outputs")
    s.add_argument("dir")
    s.add_argument("--min-count", type=int, default=5)
    s.set_defaults(func=cmd_check_outputs)

    s = sub.add_parser("caseload-report", help="quarterly programme report")
    s.add_argument("dir")
    s.add_argument("--quarter", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--study", default=None)
    s.add_argument("--quarantine-dir", default=None)
    s.set_defaults(func=cmd_caseload_report)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        # Input problems: one clear line, no traceback (tracebacks may carry data values).
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"ips-study {args.command}: error: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
