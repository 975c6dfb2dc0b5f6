"""Study configuration: one ``study.toml`` file says everything a run depends on.

Defaults follow data contract, section 3: treated municipality 1804 (Bodø) with IPS from January 2013,
controls are the municipalities with no IPS start before the end of the window, window
2008-01 to 2019-12, target group "mental-health contact in the previous 24 months" at ages
18-40, not on disability pension.

Example ``study.toml``::

    treated_municipality = "1804"
    ips_start = "2013-01"
    window = ["2008-01", "2019-12"]
    freq = "year"
    target_rule = "mental_health"        # or "work_assessment" (the published design)
    design = "open"                      # or "closed" (cohort at baseline_date)
    controls = "never_treated"           # or a list of municipality codes
    ltbd_months = 6
    min_count = 5
    seed = 20130101

Study files shipped with the package (``ips_study/studies/<name>.toml``) load by name:
``StudyConfig.load("published_design")``, ``ips-study reproduce --study published_design``.

>>> cfg = StudyConfig()
>>> cfg.treated_municipality, str(cfg.ips_start.date())
('1804', '2013-01-01')
>>> StudyConfig.load("published_design").target_rule
'work_assessment'
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

TARGET_RULES = ("mental_health", "work_assessment")
POPULATION_DESIGNS = ("open", "closed")
#: the study files shipped with the package, loadable by name
STUDIES_DIR = Path(__file__).resolve().parent / "studies"
FREQS = ("month", "year")


class ConfigError(ValueError):
    """An invalid study file: unknown key, bad value, or inconsistent with the data."""


def _month(value: Any, *, end: bool = False) -> pd.Timestamp:
    """Parse ``YYYY-MM`` / ``YYYYMM`` / ``YYYY-MM-DD`` to the first (or last) day of the month."""
    s = str(value).strip()
    m = re.fullmatch(r"(\d{4})-?(\d{2})(?:-(\d{2}))?", s)
    try:
        if m is None:
            raise ValueError(s)
        ts = pd.Timestamp(year=int(m[1]), month=int(m[2]), day=int(m[3] or 1))
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read {value!r} as a month (use YYYY-MM)") from exc
    ts = ts.normalize()
    if end:
        return ts + pd.offsets.MonthEnd(0)
    return ts


@dataclass(frozen=True)
class StudyConfig:
    """All settings of a study run (see module docstring for the TOML form)."""

    treated_municipality: str = "1804"
    ips_start: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2013-01-01"))
    controls: str | tuple[str, ...] = "never_treated"
    window_start: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2008-01-01"))
    window_end: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2019-12-31"))
    freq: str = "year"
    target_rule: str = "mental_health"
    design: str = "open"
    baseline_date: pd.Timestamp = field(default_factory=lambda: pd.Timestamp("2012-01-01"))
    age_min: int = 18
    age_max: int = 40
    mh_lookback_months: int = 24
    ltbd_months: int = 6
    min_count: int = 5
    #: a ``min_count`` below 5 publishes smaller groups than the project's rule allows; it
    #: takes this explicit override, which the run manifest records (its ``study`` entry)
    min_count_override: bool = False
    seed: int = 20130101
    #: months of consecutive health benefit that mark onset of long-term dependence
    onset_months: int = 12
    #: months of consecutive work without health benefit that count as sustained work
    sustained_work_months: int = 6
    #: inputs of the health-economic model (``[economics]`` table; see ips_study.economics)
    economics: dict = field(default_factory=dict)
    #: delivered variable names per register table (``[columns.<table>]``: spec = "DELIVERED";
    #: ips_study.columnmap), applied by read_registers before validation
    columns: dict = field(default_factory=dict)
    #: published estimates the study's own table is shown beside (``[published]``: estimate,
    #: conf_low, conf_high, event_time, event_estimate, outcome; ips_study.published)
    published: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.freq not in FREQS:
            raise ConfigError(f"freq must be one of {FREQS}, got {self.freq!r}")
        if self.target_rule not in TARGET_RULES:
            raise ConfigError(f"target_rule must be one of {TARGET_RULES}, got {self.target_rule!r}")
        if self.design not in POPULATION_DESIGNS:
            raise ConfigError(f"design must be one of {POPULATION_DESIGNS}, got {self.design!r}")
        if self.window_end <= self.window_start:
            raise ConfigError("window end must be after window start")
        if not (self.window_start <= self.ips_start <= self.window_end):
            raise ConfigError("ips_start must lie inside the window")
        if not (0 <= self.age_min < self.age_max):
            raise ConfigError("need 0 <= age_min < age_max")
        if self.min_count < 1:
            raise ConfigError("min_count must be at least 1")
        if self.min_count < 5 and not self.min_count_override:
            raise ConfigError(f"min_count = {self.min_count} is below 5, the smallest count the disclosure"
                              " rules publish; set min_count_override = true in the study file to allow it"
                              " (the run manifest records the override)")
        if not (1 <= self.ltbd_months <= 12):
            raise ConfigError("ltbd_months must be between 1 and 12")

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "StudyConfig":
        known = {f.name for f in dataclasses.fields(cls)} | {"window"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown key(s) in study file: {', '.join(unknown)}; "
                              f"known keys: {', '.join(sorted(known))}")
        kw = dict(data)
        if "window" in kw:
            window = kw.pop("window")
            if not (isinstance(window, (list, tuple)) and len(window) == 2):
                raise ConfigError("window must be a list [start, end] of months")
            kw["window_start"], kw["window_end"] = window
        for key in ("ips_start", "window_start", "baseline_date"):
            if key in kw:
                kw[key] = _month(kw[key])
        if "window_end" in kw:
            kw["window_end"] = _month(kw["window_end"], end=True)
        if "treated_municipality" in kw:
            kw["treated_municipality"] = str(kw["treated_municipality"]).zfill(4)
        for table in ("economics", "published"):
            if table in kw and not isinstance(kw[table], dict):
                raise ConfigError(f"{table} must be a TOML table ([{table}])")
        if "columns" in kw:
            from .columnmap import ColumnMapError, parse_columns

            try:
                kw["columns"] = parse_columns(kw["columns"])
            except ColumnMapError as exc:
                raise ConfigError(str(exc)) from None
        if "controls" in kw and not isinstance(kw["controls"], str):
            kw["controls"] = tuple(str(c).zfill(4) for c in kw["controls"])
        elif "controls" in kw and kw["controls"] not in ("never_treated", "not_yet_treated"):
            raise ConfigError("controls must be 'never_treated', 'not_yet_treated' or a list of codes")
        return cls(**kw)

    @classmethod
    def from_toml(cls, path: str | Path) -> "StudyConfig":
        path = Path(path)
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError as exc:
            raise ConfigError(f"study file not found: {path}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
        try:
            return cls.from_dict(data)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    @classmethod
    def from_study(cls, name: str) -> "StudyConfig":
        """A study file shipped with the package, by name (see :func:`shipped_studies`)."""
        path = STUDIES_DIR / f"{name}.toml"
        if not path.is_file():
            raise ConfigError(f"no study named {name!r} ships with the package; "
                              f"known: {', '.join(shipped_studies()) or 'none'}")
        return cls.from_toml(path)

    @classmethod
    def load(cls, path: str | Path | None) -> "StudyConfig":
        """Read a study file, or a shipped study by name, or return the defaults for ``None``.

        A bare name without suffix or folder (``"published_design"``) that is not a file in
        the working directory is looked up among the shipped studies.
        """
        if path is None:
            return cls()
        p = Path(path)
        if not p.exists() and p.suffix == "" and p.name == str(path):
            return cls.from_study(str(path))
        return cls.from_toml(p)

    def replace(self, **changes: Any) -> "StudyConfig":
        return dataclasses.replace(self, **changes)

    # -- derived --------------------------------------------------------------------------
    def control_municipalities(self, municipalities: pd.DataFrame) -> list[str]:
        """Control units given the ``municipalities`` table.

        ``never_treated``: no ``ips_start`` on or before the window end. A named list is
        checked against the table.
        """
        codes = set(municipalities["municipality"])
        if self.treated_municipality not in codes:
            raise ConfigError(f"treated municipality {self.treated_municipality} is not in the data")
        if isinstance(self.controls, tuple):
            missing = sorted(set(self.controls) - codes)
            if missing:
                raise ConfigError(f"control municipalities not in the data: {', '.join(missing)}")
            return sorted(c for c in self.controls if c != self.treated_municipality)
        m = municipalities
        start = pd.to_datetime(m["ips_start"])
        if self.controls == "never_treated":
            keep = start.isna() | (start > self.window_end)
        else:  # not_yet_treated: anyone not treated at the treated unit's start
            keep = start.isna() | (start > self.ips_start)
        return sorted(c for c in m.loc[keep, "municipality"] if c != self.treated_municipality)

    def check_data(self, tables) -> None:
        """Check the study against the data: treated unit and controls present, window in the data.

        A window that no residence spell reaches is an error (a typo in the study file would
        otherwise give an empty panel); an empty residence table gives an empty panel.
        """
        munis = tables["municipalities"]
        self.control_municipalities(munis)  # raises if the treated unit or a control is unknown
        res = tables["residence"]
        if len(res) == 0:
            return
        first = pd.to_datetime(res["start_date"]).min()
        ends = pd.to_datetime(res["end_date"])
        last = pd.Timestamp.max if ends.isna().any() else ends.max()
        if first > self.window_end or last < self.window_start:
            raise ConfigError(
                f"window {self.window_start:%Y-%m} to {self.window_end:%Y-%m} is outside the data "
                f"(residence spells from {first:%Y-%m}); set window in the study file")

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, pd.Timestamp):
                v = v.strftime("%Y-%m-%d")
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        return out


def shipped_studies() -> list[str]:
    """Names of the study files shipped with the package.

    >>> "published_design" in shipped_studies()
    True
    """
    return sorted(p.stem for p in STUDIES_DIR.glob("*.toml"))
