"""Read an uploaded spreadsheet: xlsx / xls (python-calamine) or csv (BOM, UTF-8, else GB18030 — a
superset of GBK). Sheets are listed; the header row is detected within the first rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

MAX_BYTES = 50 * 1024 * 1024
HEADER_SCAN_ROWS = 20
XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class ParseError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Sniffed:
    file_type: str  # xlsx | xls | csv
    encoding: str | None


def sniff(data: bytes, file_name: str) -> Sniffed:
    """The file type from its content (never trusting the name alone) and, for csv, its encoding."""
    name = file_name.lower()
    if data.startswith(XLSX_MAGIC):
        if not name.endswith((".xlsx", ".xlsm")):
            raise ParseError("unsupported_file_type")
        return Sniffed("xlsx", None)
    if data.startswith(XLS_MAGIC):
        if not name.endswith(".xls"):
            raise ParseError("unsupported_file_type")
        return Sniffed("xls", None)
    if not name.endswith((".csv", ".txt")):
        raise ParseError("unsupported_file_type")
    if b"\x00" in data[:4096]:
        raise ParseError("unsupported_file_type")
    return Sniffed("csv", detect_encoding(data))


def detect_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        raise ParseError("unknown_encoding") from None


def _cell(value: Any) -> Any:
    """Spreadsheet cells as plain values: text trimmed, whole floats as int, dates kept."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return int(value) if value.is_integer() and abs(value) < 1e15 else value
    if isinstance(value, str):
        return value if value.strip() else None  # kept as typed: the preview shows the trimming
    if isinstance(value, (datetime, date, time, int, bool)):
        return value
    return str(value)


def _csv_rows(data: bytes, encoding: str) -> list[list[Any]]:
    text = data.decode(encoding)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


class Workbook:
    """All sheets of a file, read lazily; rows are lists of plain cell values."""

    def __init__(self, path: Path, file_type: str, encoding: str | None) -> None:
        self.path, self.file_type, self.encoding = path, file_type, encoding
        self._book = None
        if file_type in ("xlsx", "xls"):
            from python_calamine import CalamineWorkbook

            try:
                self._book = CalamineWorkbook.from_path(str(path))
            except Exception as exc:  # noqa: BLE001 - a damaged file is the user's input
                raise ParseError("unreadable_file") from exc

    @property
    def sheets(self) -> list[str]:
        if self._book is None:
            return ["csv"]
        return list(self._book.sheet_names)

    def rows(self, sheet: str | None = None) -> list[list[Any]]:
        if self._book is None:
            return _csv_rows(self.path.read_bytes(), self.encoding or "utf-8")
        names = self.sheets
        name = sheet if sheet in names else names[0]
        try:
            data = self._book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001
            raise ParseError("unreadable_file") from exc
        return [[_cell(v) for v in row] for row in data]


def detect_header(rows: list[list[Any]], score_header) -> int:
    """0-based index of the header row among the first rows: the row whose cells best match known
    field names; failing that, the first row with two or more text cells."""
    best, best_score = None, 0.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        texts = [c for c in row if isinstance(c, str)]
        if len(texts) < 2:
            continue
        score = score_header(texts)
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        if sum(1 for c in row if isinstance(c, str)) >= 2:
            return i
    return 0


def header_names(row: list[Any]) -> list[str]:
    names = []
    for i, c in enumerate(row):
        text = "" if c is None else str(c).strip()
        names.append(text or f"#{i + 1}")
    return names


def data_rows(rows: list[list[Any]], header_index: int, width: int) -> Iterator[tuple[int, list[Any]]]:
    """(1-based source row number, cells padded to the header width); wholly empty rows are dropped."""
    for i in range(header_index + 1, len(rows)):
        row = rows[i]
        if not any(c is not None and c != "" for c in row):
            continue
        cells = list(row[:width]) + [None] * max(0, width - len(row))
        yield i + 1, cells
