"""Delivered variable names -> the data contract's columns: the ``[columns.<table>]`` tables of a study file.

Register owners deliver their own variable names (Statistics Norway's FD-Trygd, NAV, the
Norwegian Patient Registry; ``docs/data_dictionary.md``). Instead of renaming files by hand on
the secure server, the study file says which delivered column is which data-contract column, and
:func:`ips_study.registers.read_registers` renames before it validates::

    [columns.benefits]
    person_id = "LOPENR"
    start_date = "STARTDATO"

Keys are the data contract's column names (section 2) (``ips_study.registers.schema.TABLES``), values the delivered
names, matched case-insensitively (exports change case between SAS, Stata and CSV).

Example
-------
>>> import pyarrow as pa
>>> cols = parse_columns({"benefits": {"person_id": "LOPENR", "start_date": "STARTDATO"}})
>>> rename_table(pa.table({"lopenr": ["a"], "STARTDATO": ["2012-01"]}), "benefits", cols).column_names
['person_id', 'start_date']
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping


class ColumnMapError(ValueError):
    """A ``[columns]`` table of a study file that cannot be applied."""


def parse_columns(value: Any) -> dict[str, dict[str, str]]:
    """Check a ``[columns]`` table: known tables and data-contract columns, one source per column.

    >>> parse_columns({"persons": {"sex": "KJOENN"}})
    {'persons': {'sex': 'KJOENN'}}
    >>> parse_columns({"persons": {"gender": "KJOENN"}})
    Traceback (most recent call last):
    ...
    ips_study.columnmap.ColumnMapError: columns.persons: 'gender' is not a column of persons; columns: person_id, birth_date, sex, death_date
    """
    from ips_study.registers.schema import TABLES

    if not isinstance(value, Mapping):
        raise ColumnMapError("columns must be a TOML table of tables ([columns.benefits], ...)")
    out: dict[str, dict[str, str]] = {}
    for table, mapping in value.items():
        if table not in TABLES:
            raise ColumnMapError(f"columns.{table}: no such register table; tables: "
                                 f"{', '.join(TABLES)}")
        if not isinstance(mapping, Mapping):
            raise ColumnMapError(f"columns.{table} must be a table of spec_column = \"DELIVERED\"")
        names = [c.name for c in TABLES[table].columns]
        seen: dict[str, str] = {}
        for spec, delivered in mapping.items():
            if spec not in names:
                raise ColumnMapError(f"columns.{table}: {spec!r} is not a column of {table}; "
                                     f"columns: {', '.join(names)}")
            if not isinstance(delivered, str) or not delivered.strip():
                raise ColumnMapError(f"columns.{table}.{spec} must be a delivered column name")
            key = delivered.strip().lower()
            if key in seen:
                raise ColumnMapError(f"columns.{table}: {delivered!r} is named for both "
                                     f"{seen[key]!r} and {spec!r}")
            seen[key] = spec
        out[str(table)] = {str(k): str(v).strip() for k, v in mapping.items()}
    return out


def rename_table(data, table: str, columns: Mapping[str, Mapping[str, str]] | None):
    """Rename the delivered columns of one Arrow table to the data contract's names (case-insensitive).

    A delivered name that is absent is left to the loader's own check, which then reports
    the data-contract column as missing from the file's header.
    """
    mapping = (columns or {}).get(table)
    if not mapping:
        return data
    wanted = {delivered.lower(): spec for spec, delivered in mapping.items()}
    names = [wanted.get(c.lower(), c) for c in data.column_names]
    return data.rename_columns(names)


def rename_delivered(raw, table: str, columns: Mapping[str, Mapping[str, str]] | None):
    """:func:`rename_table` on a register file as read (anything with an Arrow ``data``)."""
    if not columns or table not in columns:
        return raw
    return replace(raw, data=rename_table(raw.data, table, columns))
