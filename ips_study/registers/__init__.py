"""Register input: schema, readers, validation with full row accounting.

The one entry point is :func:`read_registers`, which reads a directory with one file per
table (CSV, Parquet, SAS ``.sas7bdat`` or Stata ``.dta``) and returns a :class:`RegisterSet`:
typed, validated tables plus the :class:`ValidationReport` that accounts for every input
row (kept, merged or quarantined with a reason).
"""

from __future__ import annotations

from .registerset import RegisterSet
from .schema import BENEFITS, HEALTH_BENEFITS, REQUIRED_TABLES, TABLES, Column, Table
from .report import REASONS, RegisterError, TableReport, ValidationReport
from .spells import merge_spells
from .validate import DEFAULT_AS_OF, read_registers, validate_directory

__all__ = [
    "BENEFITS", "HEALTH_BENEFITS", "REQUIRED_TABLES", "TABLES", "Column", "Table", "RegisterSet",
    "read_registers", "validate_directory", "merge_spells", "ValidationReport", "TableReport",
    "RegisterError", "REASONS", "DEFAULT_AS_OF",
]
