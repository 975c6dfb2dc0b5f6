"""What the two CSV readers must agree on: encoding, physical line numbers and reading notes.

A CSV file is read whole (:func:`.readers.read_file`) or streamed block by block into person
partitions (:mod:`.partition`). Both must report the same thing for the same file, so the
rules live here once:

* :func:`file_encoding`: UTF-8 if every byte of the file is valid UTF-8, else Windows-1252
  (Norwegian Excel); a single ``ø`` written by Excel on line 90,000 makes the whole file
  cp1252, however the first line looks;
* :data:`NEWLINES_IN_VALUES`: quoted line breaks are followed across block boundaries;
* :class:`PhysicalLines`: the physical line of every row. Arrow numbers *records* (the header
  is record 1); a quoted field holding a line break makes its record span several physical
  lines, and every later row starts further down the file. Rows with the wrong field count
  (quarantined as ``malformed_row``) are placed the same way, their own line breaks included;
* :func:`reading_notes`: the report notes of a CSV file (byte order mark, delimiter,
  encoding, blank lines, header only).

Example
-------
>>> lines = PhysicalLines()
>>> lines.add_bad(4, "3,y,extra")            # record 4 has one field too many
>>> lines.rows(3, np.array([0, 2, 0])).tolist()  # record 3 spans three physical lines
[2, 3, 7]
>>> lines.finish()
[(6, '3,y,extra')]
"""

from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: bytes decoded at a time when checking a file for UTF-8
_SCAN_BYTES = 1 << 22

#: Arrow's ``newlines_in_values``. Without it Arrow cuts its blocks at the last line break of
#: a block without looking at quotes; when that break is inside a quoted value, the value is
#: split into a malformed row and a wrong row -- silently, or with "out of sync" -- at a place
#: that depends on the block size, so that the whole and the streaming reader (1 and 4 MiB
#: blocks) disagreed. With it the chunker follows quotes. Measured on the 173 MB benefits file
#: of the 1.5-million-person delivery (every field quoted): no difference in CPU time beyond
#: the noise of a shared machine, streaming or multi-threaded (docs/benchmarks.md).
NEWLINES_IN_VALUES = True


def file_encoding(file: Path, first_line: str) -> str:
    """``"utf8"`` if the whole file is valid UTF-8, else ``"cp1252"``.

    ``first_line``: the encoding the header line alone suggests; a header that is not UTF-8
    decides without reading further. Otherwise the file is decoded in blocks (memory: one
    block), so that a non-UTF-8 byte anywhere -- also inside a row later quarantined -- gives
    the same answer to the whole and the streaming reader.
    """
    if first_line != "utf8":
        return first_line
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(file, "rb") as fh:
            while block := fh.read(_SCAN_BYTES):
                if not block.isascii():
                    decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf8"


def newlines_per_row(table) -> np.ndarray:
    """Line breaks inside each row's values (an all-text Arrow table or record batch)."""
    extra = np.zeros(table.num_rows, np.int64)
    for col in table.columns:
        if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            if pc.any(pc.match_substring(col, "\n")).as_py():
                n = pc.count_substring(col, "\n")
                extra += pc.fill_null(n, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    return extra


class PhysicalLines:
    """Physical line numbers of a CSV file's rows, given in order (see the module docstring).

    Feed the invalid rows Arrow reports (:meth:`add_bad`, record number and raw text) as they
    come, and ask for the lines of the next ``n`` good rows with their line-break counts
    (:meth:`rows`); Arrow reports every invalid row of a block before it hands out the block's
    good rows. :meth:`finish` places the invalid rows after the last good one and returns every
    invalid row as ``(physical line, text)``.
    """

    def __init__(self):
        self._pending: dict[int, str] = {}  # invalid records not yet placed
        self._seen: set[int] = set()
        self.placed: list[tuple[int, str]] = []
        self._next = 2  # the header is record and line 1
        self._shift = 0  # line breaks inside all records before ``_next``

    def add_bad(self, number: int, text: str) -> None:
        """An invalid record; a record reported again (a reader restarted) is ignored."""
        if number not in self._seen:
            self._seen.add(number)
            self._pending[number] = text

    def rows(self, n: int, extra: np.ndarray) -> np.ndarray:
        """Physical lines of the next ``n`` good records; ``extra``: line breaks in each."""
        if n == 0:
            return np.empty(0, np.int64)
        skip = sorted(r for r in self._pending if r >= self._next)
        cand = np.arange(self._next, self._next + n + len(skip), dtype=np.int64)
        good = cand[~np.isin(cand, skip)][:n] if skip else cand[:n]
        last = int(good[-1])
        bad = [r for r in skip if r < last]
        if not bad and not extra.any():
            lines = good + self._shift
            self._next = last + 1
            return lines
        records = np.concatenate([good, np.array(bad, np.int64)])
        breaks = np.concatenate([np.asarray(extra, np.int64),
                                 np.array([self._pending[r].count("\n") for r in bad], np.int64)])
        order = np.argsort(records, kind="stable")
        before = np.empty(len(order), np.int64)  # line breaks in the earlier records of this run
        before[order] = np.concatenate([[0], np.cumsum(breaks[order])[:-1]])
        phys = records + self._shift + before
        for i, r in enumerate(bad, start=n):
            self.placed.append((int(phys[i]), self._pending.pop(r)))
        self._shift += int(breaks.sum())
        self._next = last + 1
        return phys[:n]

    def finish(self) -> list[tuple[int, str]]:
        """Place the invalid records after the last good row; all invalid rows, in order."""
        for r in sorted(self._pending):
            text = self._pending.pop(r)
            self.placed.append((r + self._shift, text))
            self._shift += text.count("\n")
        return sorted(self.placed)


def reading_notes(*, encoding: str, delimiter: str, bom: bool, blank: int, header_only: bool) -> dict[str, int]:
    """The report notes of a CSV file (:data:`.report.NOTES`), the same for both readers."""
    notes: dict[str, int] = {}
    if bom:
        notes["utf8_bom"] = 1
    if delimiter == ";":
        notes["semicolon_delimited"] = 1
    if encoding == "cp1252":
        notes["encoding_cp1252"] = 1
    if blank:
        notes["blank_lines_skipped"] = int(blank)
    if header_only:
        notes["header_only"] = 1
    return notes
