"""Writing an export as one ZIP, streamed: Python's zipfile writes to an unseekable stream
(learning.storage.open_write), so each entry is followed by a data descriptor instead of a
seek back, and recordings are copied in pieces (`COPY_CHUNK_BYTES`) straight from storage.
Nothing is held whole in memory: records are read in chunks of rows, files in chunks of bytes.

Layout of the archive:

    README.txt                 what is where
    index.html                 open it in a browser: the exercises, offline
    exercises/<id>.html        one exercise: its demonstration next to its replies
    data/<table>.json|.csv     every record, once as JSON (a list of objects), once as CSV
    media/<media id>/<file>    every stored file: the original upload and what processing made
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import time
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import BinaryIO
from uuid import UUID

from learning import storage
from learning.exports.sections import Section

COPY_CHUNK_BYTES = 1024 * 1024
# Entries whose size may pass 2 GiB need ZIP64 headers up front (the size is not known when
# an unseekable stream writes the local header).
ZIP64_FROM_BYTES = 1024**3


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID | Decimal):
        return str(value)
    return value


# A text cell that starts like a formula would run as one when the CSV is opened in a
# spreadsheet (a comment reading "=HYPERLINK(…)"): it gets a leading apostrophe, which
# spreadsheets hide (OWASP's advice on CSV injection). The JSON keeps the exact text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """How one value is written in the CSV files."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return str(value)


class ArchiveWriter:
    """One export being written to `out` (an unseekable, write-only stream)."""

    def __init__(self, out: BinaryIO, *, on_bytes: Callable[[int], None] = lambda n: None):
        self.zip = zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.on_bytes = on_bytes
        self.entries: list[str] = []
        self.stamp = time.localtime()[:6]

    def _info(self, name: str, compress: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = compress
        info.external_attr = 0o644 << 16
        self.entries.append(name)
        return info

    def text(self, name: str, text: str) -> None:
        with self.zip.open(self._info(name, zipfile.ZIP_DEFLATED), "w") as entry:
            entry.write(text.encode())

    def section(self, section: Section) -> int:
        """`data/<name>.json` and `data/<name>.csv`; returns how many rows it holds."""
        count = 0
        with self.zip.open(
            self._info(f"data/{section.name}.json", zipfile.ZIP_DEFLATED), "w"
        ) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
            out.write("[")
            for row in section.rows():
                out.write(",\n" if count else "\n")
                out.write(
                    json.dumps(
                        {k: _plain(v) for k, v in row.items()}, ensure_ascii=False, default=str
                    )
                )
                count += 1
            out.write("\n]\n" if count else "]\n")
            out.flush()
            out.detach()
        with self.zip.open(
            self._info(f"data/{section.name}.csv", zipfile.ZIP_DEFLATED), "w"
        ) as raw:
            out = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(out)
            writer.writerow(section.fields)
            for row in section.rows():
                writer.writerow([csv_cell(row[name]) for name in section.fields])
            out.flush()
            out.detach()
        return count

    def stored_file(self, name: str, *, key: str, size: int) -> bool:
        """Copy the stored object `key` into the archive as `name`, a piece at a time;
        False when it is gone (a reply deleted while the export runs). Recordings are
        compressed already: they are stored, not deflated."""
        with contextlib.ExitStack() as stack:
            try:
                source = stack.enter_context(storage.open_read(key))
            except storage.ObjectMissing:
                return False
            info = self._info(name, zipfile.ZIP_STORED)
            with self.zip.open(info, "w", force_zip64=size >= ZIP64_FROM_BYTES) as entry:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    entry.write(chunk)
                    self.on_bytes(len(chunk))
        return True

    def rows_text(self, name: str, lines: Iterable[str]) -> None:
        with self.zip.open(self._info(name, zipfile.ZIP_DEFLATED), "w") as raw:
            for line in lines:
                raw.write(line.encode())

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> ArchiveWriter:
        return self

    def __exit__(self, error_type, error, traceback) -> None:
        """Finish the archive, or on an error leave it unfinished: its stream is being thrown
        away, and a ZipFile collected later would write its end record to a closed stream."""
        if error_type is None:
            self.close()
        else:
            self.zip.fp = None  # ZipFile.close() (and __del__) write nothing without a file
