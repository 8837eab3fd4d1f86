"""Every path that takes a record id answers 404 to a user who may not see the record, and changes nothing.
The paths come from the OpenAPI schema, so new endpoints are covered automatically."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

SCOPED = {"customers", "contacts", "opportunities", "contracts", "followups", "tasks", "attachments"}
TABLES = ["tasks", "attachments", "customers", "contacts", "opportunities", "contracts", "followups", "payments", "payment_plans", "quote_lines",
          "opportunity_contacts", "events", "taggings", "opportunity_stage_history"]


def _example(schema: dict, components: dict, depth: int = 0):
    """A minimal valid value for a JSON schema (required properties only)."""
    if "$ref" in schema:
        return _example(components[schema["$ref"].split("/")[-1]], components, depth)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"]
            return _example(options[0], components, depth) if options else None
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {k: _example(props[k], components, depth + 1) for k in schema.get("required", []) if k in props}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if fmt == "date":
        return "2026-12-01"
    if fmt == "date-time":
        return "2026-12-01T10:00:00+08:00"
    return "x" * max(2, schema.get("minLength", 2))


def _snapshot(engine) -> dict[str, list]:
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES}


@pytest.fixture()
def rep_north_records(api):
    c = api.customer(user="rep_north", name="李的私有客户")
    k = api.contact(c["id"], user="rep_north", name="私有联系人")
    o = api.opportunity(c["id"], user="rep_north")
    api.put(f"/opportunities/{o['id']}/contacts/{k['id']}", {"role": "buyer"}, user="rep_north")
    line = api.post(f"/opportunities/{o['id']}/quote-lines", {"description": "服务", "unit_price": "10"}, user="rep_north").json()["items"][0]
    contract = api.post("/contracts", {"customer_id": c["id"], "title": "私有合同"}, user="rep_north").json()
    f = api.post("/followups", {"customer_id": c["id"], "type": "call", "content": "私有记录"}, user="rep_north").json()
    t = api.post("/tasks", {"title": "私有任务", "customer_id": c["id"]}, user="rep_north").json()
    att = api.post(f"/followups/{f['id']}/attachments", user="rep_north", files={"file": ("a.txt", b"secret", "text/plain")}).json()
    return {"customers": c["id"], "contacts": k["id"], "opportunities": o["id"], "contracts": contract["id"], "followups": f["id"],
            "tasks": t["id"], "attachments": att["id"], "contact_id": k["id"], "line_id": line["id"]}


def test_every_record_path_is_404_for_an_outsider(api, app, engine, rep_north_records):
    schema = app.openapi()
    calls = 0
    before = _snapshot(engine)
    for path, ops in schema["paths"].items():
        m = re.match(r"^/api/v1/([a-z-]+)/\{record_id\}", path)
        if not m or m.group(1) not in SCOPED:
            continue
        resource = m.group(1)
        url = path.replace("/api/v1", "").replace("{record_id}", str(rep_north_records[resource]))
        url = url.replace("{contact_id}", str(rep_north_records["contact_id"])).replace("{line_id}", str(rep_north_records["line_id"]))
        url = url.replace("{user_id}", str(api.world.users["rep_east"]))
        assert "{" not in url, url
        for method, op in ops.items():
            body = None
            files = None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body = _example(content["application/json"]["schema"], schema["components"]["schemas"])
            elif "multipart/form-data" in content:
                files = {"file": ("probe.txt", b"probe", "text/plain")}
            r = api.client.request(method.upper(), f"/api/v1{url}", json=body, files=files, headers=api.headers("rep_east"))
            assert r.status_code == 404, f"{method.upper()} {url}: {r.status_code} {r.text}"
            assert r.json()["error"]["code"] == "not_found"
            calls += 1
    assert calls >= 20, calls
    assert _snapshot(engine) == before


def test_outsider_never_counts_or_finds_them(api, rep_north_records):
    for resource in SCOPED - {"attachments"}:
        r = api.get(f"/{resource}", user="rep_east")
        assert r.status_code == 200
        assert r.json() == {"items": [], "next_cursor": None, "total": 0}, resource
    assert api.get("/search", params={"q": "私有"}, user="rep_east").json()["items"] == []
    assert api.get("/contacts", params={"customer_id": rep_north_records["customers"]}, user="rep_east").json()["total"] == 0
    # the owner's manager sees them all
    for resource in SCOPED - {"attachments"}:
        assert api.get(f"/{resource}", user="manager_north").json()["total"] >= 1, resource
