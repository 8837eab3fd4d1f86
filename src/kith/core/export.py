"""Export any list, with the caller's filters and field rights, to xlsx or csv (safe against formula injection)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from sqlalchemy.orm import Session

from kith.access import Actor

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 100_000


def neutralise(value: Any) -> Any:
    """A cell that a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def flat(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "owner" and isinstance(value, dict):
            out["owner"] = value.get("display_name")
        elif key == "tags" and isinstance(value, list):
            out["tags"] = "、".join(t.get("name", "") for t in value if isinstance(t, dict))
        elif key == "stage" and isinstance(value, dict):
            out["stage"] = value.get("name")
        elif isinstance(value, list):
            out[key] = "、".join(str(v) for v in value)
        elif isinstance(value, dict):
            continue
        else:
            out[key] = value
    return out


def render(rows: list[dict[str, Any]], fmt: str, sheet: str) -> tuple[bytes, str]:
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([neutralise("" if row.get(c) is None else row.get(c)) for c in columns])
        return ("\ufeff" + buf.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet[:31])
    ws.append(columns)
    for row in rows:
        ws.append([neutralise(row.get(c)) for c in columns])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def collect(session: Session, actor: Actor, resource: Any, params: dict[str, str]) -> list[dict[str, Any]]:
    """Every matching record (keyset pages of 500), serialised through the access gate."""
    from kith.core.listing import ListQuery

    rows: list[dict[str, Any]] = []
    cursor = None
    base = {k: v for k, v in params.items() if k not in ("format", "cursor", "limit")}
    while len(rows) < MAX_ROWS:
        page_params = {**base, "limit": "200"}
        if cursor:
            page_params["cursor"] = cursor
        lq = ListQuery(session, actor, resource.list_spec, page_params)
        items, cursor, _total = lq.run(resource.list_extra, count=False)
        rows.extend(flat(r) for r in resource.serialize_many(session, actor, items))
        if not cursor:
            break
    return rows[:MAX_ROWS]
