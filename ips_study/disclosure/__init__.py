"""Statistical disclosure control (statistisk avsløringskontroll) for every exported output.

Register microdata may leave the secure server only as aggregates that do not reveal
anything about an individual. This module holds the rules the whole project exports
through (the naming convention is described in ``docs/disclosure.md``):

* **Count columns are recognised by name** (:func:`is_count_name`): ``n``, ``n_*``,
  ``*_n``, ``count``, ``*_count``, ``persons``, ``*_persons``, ``cases``, ... A count
  column holds numbers of *persons* behind the row. Every rate or mean in an exported
  table names its denominator in such a column (``share_in_work`` next to ``n_active``,
  or a long table's ``value`` next to ``n``).
* **Primary suppression**: a count cell with ``0 < value < min_count`` is suppressed, and so
  is every rate/mean whose denominator is below ``min_count`` (:func:`suppress_small`).
* **Secondary suppression** for tables published with totals (:func:`protect_table`): a
  suppressed cell must not be recoverable as total minus the other cells, so every row and
  column equation with exactly one suppressed cell gets a second one (the next-smallest
  cell), iterated to a fixed point (Cox 1980, "Suppression methodology and statistical
  disclosure control", JASA 75:377-385). :func:`audit_suppression` bounds every suppressed
  cell by linear programming to confirm it cannot be pinned down exactly.
* **Shares and means of 0/1 outcomes** (:func:`suppress_shares`): suppressed when the
  numerator ``share x n`` (or its complement) is a count below ``min_count``.
* Optional rounding of counts to a base (:func:`round_counts`).
* Figures carry a record of every text and bar they draw (:mod:`.drawn`), checked by
  :func:`check_outputs`; bars are person counts unless declared otherwise
  (:func:`mark_measures`). :func:`mask_small` drops points resting on fewer than ``min_count`` persons,
  :func:`coarsen_bins` merges neighbouring bins until each has enough,
  :func:`truncate_survival` ends a survival curve where its risk set falls below the minimum,
  and :func:`coarsen_survival` also merges its steps until each rests on enough events.
* Regression outputs: :func:`check_results` refuses a :class:`~ips_study.results.Results`
  whose ``n_obs``, ``n_units`` or ``n_min`` is below the minimum.
* Identifiers never leave the process: :func:`redact` and :class:`RedactingFilter` scrub
  person ids from text and logs; :func:`export_table` refuses identifier columns and small
  counts before it writes; :func:`check_outputs` scans a folder of finished outputs.

Suppressed cells are written as :data:`SUPPRESSED` (``":"``, Statistics Norway's symbol for
"not published for confidentiality reasons").

Example
-------
>>> import pandas as pd
>>> t = protect_table(pd.DataFrame({"work": [3, 20], "no work": [12, 30]},
...                                index=["psychosis team", "municipal"]), min_count=5)
>>> t.to_frame().loc["psychosis team"].tolist()
[':', ':', 15]
"""

from __future__ import annotations

from .checker import (CHECKED_SUFFIXES, OutputCheck, Violation, check_file, check_outputs,
                      export_table, format_number, searchable_ids)
from .drawn import mark_counts, mark_measures
from .figures import coarsen_bins, coarsen_survival, mask_small, save_figure, truncate_survival
from .identifiers import (RedactingFilter, assert_no_identifiers, check_results,
                          install_redaction, redact)
from .rules import (MIN_COUNT, SUPPRESSED, DisclosureError, is_birth_name, is_count_name,
                    is_identifier_name)
from .tables import (Suppressed, audit_suppression, dominated_cells, protect_array, protect_sums,
                     protect_table, round_counts, suppress_shares, suppress_small)

# report the public path in tracebacks and reprs
for _obj in (DisclosureError, Suppressed, OutputCheck, Violation, RedactingFilter):
    _obj.__module__ = __name__
del _obj

__all__ = [
    "CHECKED_SUFFIXES", "MIN_COUNT", "SUPPRESSED", "DisclosureError", "OutputCheck",
    "RedactingFilter", "Suppressed", "Violation", "assert_no_identifiers", "audit_suppression",
    "check_file", "check_outputs", "check_results", "coarsen_bins", "coarsen_survival", "dominated_cells",
    "export_table", "format_number",
    "install_redaction", "is_birth_name", "is_count_name", "is_identifier_name", "mask_small",
    "mark_counts", "mark_measures", "protect_array", "searchable_ids", "protect_sums", "protect_table", "redact", "round_counts", "save_figure",
    "suppress_shares", "suppress_small", "truncate_survival",
]
