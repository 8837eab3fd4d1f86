"""Property-based fuzzing of every write operation (POST/PATCH/PUT) in the OpenAPI schema.

The operations are enumerated from `create_app().openapi()`, so a new endpoint is fuzzed without
touching this file. Bodies come from schemathesis (schema-conforming and deliberately negative
cases) plus our own mutations (wrong types, missing required fields, huge strings, nulls, odd
unicode, negative/huge numbers) and raw garbage that is not JSON at all. Requests are signed as
admin (mostly) or rep_north, and path ids point at records that exist or ids that do not.

What must hold for every request (API.md):
* never a 5xx ("Bad input is 400/422, never 500");
* every 4xx body is exactly the one error shape;
* a successful create answers 201 with a Location header pointing at the new record.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hsettings, strategies as st
from schemathesis.generation import GenerationMode
from sqlalchemy import text

from kith.app import create_app
from kith.config import Settings

API = "/api/v1"
WRITE_METHODS = ("post", "patch", "put")
MAX_EXAMPLES = int(os.environ.get("KITH_FUZZ_EXAMPLES", "12"))  # raise it for a longer hunt


def _build_schema() -> dict[str, Any]:
    # An app object only to read its schema at collection time (no database is touched).
    app = create_app(Settings(database_url="sqlite:///:memory:", environment="test", secret_key="s" * 40, _env_file=None))  # type: ignore[call-arg]
    return app.openapi()


SCHEMA = _build_schema()
def _is_json_op(op: dict) -> bool:
    body = op.get("requestBody")
    return body is None or "application/json" in body.get("content", {})


OPERATIONS = sorted(
    (method.upper(), path)
    for path, ops in SCHEMA["paths"].items()
    for method in ops
    if method in WRITE_METHODS and _is_json_op(ops[method])
)
# file uploads (multipart) are swept separately below
UPLOADS = sorted(
    (method.upper(), path)
    for path, ops in SCHEMA["paths"].items()
    for method in ops
    if method in WRITE_METHODS and not _is_json_op(ops[method])
)
_ST_SCHEMA = schemathesis.openapi.from_dict(SCHEMA)

# Endpoints that only exist to be called before/without a session: the bearer token is irrelevant.
_NO_CREATE = {"/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout"}


def _is_create(method: str, path: str) -> bool:
    op = SCHEMA["paths"][path][method.lower()]
    if method != "POST" or path in _NO_CREATE:
        return False
    collection = "{" not in path and path.count("/") == 3  # /api/v1/<things>
    return collection or op.get("operationId", "").startswith("create_")


# ---- generated pieces ------------------------------------------------------------------------
MISSING_IDS = [0, -1, 987_654_321, 2**31, 2**63 - 1]

WEIRD_STRINGS = [
    "",
    " ",
    "x" * 100_000,
    "客户" * 5_000,
    "\u0000",
    "a\u0000b",
    "\ud800",  # lone surrogate (valid JSON escape, invalid unicode)
    "😀🇨🇳𝔘\u202e\u200b",
    "'; DROP TABLE customers; --",
    "%s%n{0}{name}",
    "1e999999",
    "NaN",
    "-Infinity",
    "-0",
    "99999999999999999999999999999999.99",
    "0.000000001",
    "１２３",  # full-width digits
    "2026-02-30",
    "2026-01-31T25:61:00+08:00",
    "9999-12-31T23:59:59+14:00",
    "13812345678",
    "not-an-email@",
]
WEIRD_VALUES: list[Any] = [
    None, True, False, 0, -1, -(10**30), 10**30, 2**63, -(2**63) - 1, 1.5, -1e308, 1e308,
    [], {}, [None], {"a": {"b": {"c": []}}}, ["x"] * 500, *WEIRD_STRINGS,
]

GARBAGE_BODIES: list[tuple[bytes, str]] = [
    (b"", "application/json"),
    (b"{", "application/json"),
    (b"null", "application/json"),
    (b"[]", "application/json"),
    (b'"just a string"', "application/json"),
    (b"12345", "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"name": NaN, "amount": Infinity}', "application/json"),
    (b'{"a": 1, "a": 2}', "application/json"),
    (b"[" * 5000 + b"]" * 5000, "application/json"),
    (b'{"name": "x"}', "text/plain"),
    (b"name=x&customer_id=1", "application/x-www-form-urlencoded"),
    (b"<xml/>", "application/xml"),
]


def _positive(op) -> st.SearchStrategy:
    return op.as_strategy(generation_mode=GenerationMode.POSITIVE)


def _negative(op) -> st.SearchStrategy:
    return op.as_strategy(generation_mode=GenerationMode.NEGATIVE)


def _body_schema(method: str, path: str) -> bool:
    return "requestBody" in SCHEMA["paths"][path][method.lower()]


@st.composite
def requests(draw, method: str, path: str) -> dict[str, Any]:
    """One request: who, which path ids (existing or not), which If-Match, which body."""
    op = _ST_SCHEMA[path][method]
    has_body = _body_schema(method, path)
    kinds = ["positive", "mutated", "negative", "garbage"] if has_body else ["positive", "garbage"]
    kind = draw(st.sampled_from(kinds), label="kind")
    req: dict[str, Any] = {"kind": kind, "user": draw(st.sampled_from(["admin", "admin", "admin", "rep_north"]), label="user")}
    req["ids"] = {}
    for name in _path_params(path):
        req["ids"][name] = draw(st.one_of(st.just("existing"), st.just("existing"), st.just("existing"), st.sampled_from(MISSING_IDS)), label=name)
    req["if_match"] = draw(st.sampled_from(["fresh", "fresh", "fresh", "none", "stale", "garbage"]), label="if_match")
    req["ref_ids"] = draw(st.booleans(), label="use existing reference ids")
    if kind == "garbage":
        req["raw"] = draw(st.sampled_from(GARBAGE_BODIES))
        return req
    if kind == "negative":
        try:
            case = draw(_negative(op))
        except Exception:  # noqa: BLE001 - nothing in this operation can be negated; fall back to positive
            case = draw(_positive(op))
    else:
        case = draw(_positive(op))
    body = case.body if has_body else None
    if kind == "mutated" and isinstance(body, dict):
        body = dict(body)
        props = list(SCHEMA_PROPS.get((method, path), [])) or list(body) or ["name"]
        for _ in range(draw(st.integers(1, 3), label="mutations")):
            key = draw(st.sampled_from(props + list(body) if body else props), label="field")
            action = draw(st.sampled_from(["drop", "set", "set", "set"]), label="action")
            if action == "drop":
                body.pop(key, None)
            else:
                body[key] = draw(st.sampled_from(WEIRD_VALUES), label="value")
    req["body"] = body
    req["has_body"] = has_body
    return req


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{")]


def _schema_props() -> dict[tuple[str, str], list[str]]:
    out = {}
    for method, path in OPERATIONS:
        rb = SCHEMA["paths"][path][method.lower()].get("requestBody")
        if not rb:
            continue
        schema = rb["content"]["application/json"]["schema"]
        if "$ref" in schema:
            schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        out[(method, path)] = list(schema.get("properties", {}))
    return out


SCHEMA_PROPS = _schema_props()


# ---- seed records the path ids can point at ------------------------------------------------------
class Pool:
    """Records created through the API, on first use, that path ids and reference fields point at.
    Never the seed users, built-in roles or the default pipeline: fuzzing them would break other tests."""

    def __init__(self, api, db) -> None:
        self.api, self.db = api, db
        self.uid = uuid.uuid4().hex[:6]
        self._ids: dict[str, list[int]] = {}
        self._extra: dict[str, int] = {}

    def _create(self, path: str, body: dict[str, Any], user: str = "admin") -> dict[str, Any]:
        r = self.api.post(path, body, user=user)
        assert r.status_code == 201, (path, r.text)
        return r.json()

    def _make(self, kind: str) -> list[int]:
        a, uid = self.api, self.uid
        if kind == "customers":
            gone = a.customer()
            assert a.delete(f"/customers/{gone['id']}").status_code == 204  # one in the recycle bin, for restore
            return [a.customer()["id"], a.customer(user="rep_north")["id"], gone["id"]]
        if kind == "contacts":
            c, c_rep = self.ids("customers")[:2]
            return [a.contact(c)["id"], a.contact(c_rep, user="rep_north")["id"]]
        if kind == "opportunities":
            c, c_rep = self.ids("customers")[:2]
            return [a.opportunity(c)["id"], a.opportunity(c_rep, user="rep_north")["id"]]
        if kind == "contracts":
            return [a.contract(self.ids("customers")[0])["id"]]
        if kind == "products":
            return [self._create("/products", {"name": f"产品{uid}", "price": "99.50"})["id"]]
        if kind == "tags":
            return [self._create("/tags", {"name": f"标签{uid}"})["id"]]
        if kind == "followups":
            c, c_rep = self.ids("customers")[:2]
            return [self._create("/followups", {"customer_id": c, "type": "call", "content": "电话沟通需求"})["id"],
                    self._create("/followups", {"customer_id": c_rep, "type": "visit", "content": "上门拜访"}, user="rep_north")["id"]]
        if kind == "custom-fields":
            return [self._create("/custom-fields", {"entity_type": "customer", "name": f"fz{uid}", "label": "模糊测试", "field_type": "text"})["id"]]
        if kind == "pipelines":
            return [self._create("/pipelines", {"name": f"流程{uid}", "stages": [{"name": "开始", "probability": 10},
                                                                                  {"name": "赢单", "probability": 100, "kind": "won"}]})["id"]]
        if kind == "departments":
            return [self._create("/departments", {"name": f"部门{uid}", "parent_id": a.world.depts["hq"]})["id"]]
        if kind == "users":
            return [self._create("/users", {"username": f"fuzz_{uid}", "display_name": "模糊用户", "password": "fuzz-pass-2026"})["id"]]
        if kind == "roles":
            return [self._create("/roles", {"code": f"fuzz_{uid}", "name": "模糊角色"})["id"]]
        if kind == "line_id":
            r = a.post(f"/opportunities/{self.ids('opportunities')[0]}/quote-lines", {"description": "实施服务", "quantity": "2", "unit_price": "500"})
            assert r.status_code == 201, r.text
            return [r.json()["items"][0]["id"]]
        if kind == "plan_id":
            r = a.post(f"/contracts/{self.ids('contracts')[0]}/payment-plans", {"due_date": "2026-06-30", "amount": "60000"})
            assert r.status_code == 201, r.text
            return [r.json()["plans"][0]["id"]]
        if kind == "stages":
            return [row[0] for row in self.db.execute(text("SELECT id FROM stages ORDER BY id"))]
        if kind == "seed_users":
            return list(a.world.users.values())
        if kind == "seed_departments":
            return list(a.world.depts.values())
        # A collection this file does not know how to fill yet: whatever the API lists (possibly nothing,
        # then only ids that do not exist are sent).
        r = a.get(f"/{kind}", params={"limit": 5})
        return [item["id"] for item in r.json().get("items", [])] if r.status_code == 200 else []

    def ids(self, kind: str) -> list[int]:
        if kind not in self._ids:
            self._ids[kind] = self._make(kind)
        return self._ids[kind]

    # path parameter -> kind (record_id takes the collection it follows)
    PARAM_KIND = {"contact_id": "contacts", "line_id": "line_id", "user_id": "seed_users", "customer_id": "customers",
                  "opportunity_id": "opportunities", "contract_id": "contracts", "product_id": "products", "tag_id": "tags"}
    # body reference field -> kind
    REF_KIND = {"customer_id": "customers", "contact_id": "contacts", "opportunity_id": "opportunities", "contract_id": "contracts",
                "product_id": "products", "stage_id": "stages", "pipeline_id": "pipelines", "owner_id": "seed_users",
                "manager_id": "seed_users", "department_id": "seed_departments", "parent_id": "departments", "plan_id": "plan_id"}

    def resolve(self, path: str, choices: dict[str, Any], rnd) -> str:
        segs = path[len(API) + 1:].split("/")
        out = []
        for i, seg in enumerate(segs):
            if seg.startswith("{"):
                name = seg[1:-1]
                choice = choices[name]
                if choice == "existing":
                    kind = self.PARAM_KIND.get(name) or (segs[i - 1] if name == "record_id" else name.removesuffix("_id") + "s")
                    choice = rnd.choice(self.ids(kind) or MISSING_IDS)
                out.append(str(choice))
            else:
                out.append(seg)
        return f"{API}/" + "/".join(out)


@pytest.fixture()
def pool(api, db, engine):
    """Seed records, and afterwards put back what `world` does not reset: pipelines, stages, roles."""
    with engine.connect() as conn:
        pipelines = {row[0]: row[1] for row in conn.execute(text("SELECT id, is_default FROM pipelines"))}
        stages = {row[0] for row in conn.execute(text("SELECT id FROM stages"))}
        roles = {row[0] for row in conn.execute(text("SELECT id FROM roles"))}
    yield Pool(api, db)
    from conftest import _CLEAN

    with engine.begin() as conn:
        for table in _CLEAN:
            conn.execute(text(f"DELETE FROM {table}"))
        keep_st = ",".join(str(i) for i in stages) or "0"
        keep_pl = ",".join(str(i) for i in pipelines) or "0"
        keep_ro = ",".join(str(i) for i in roles) or "0"
        conn.execute(text(f"DELETE FROM stages WHERE id NOT IN ({keep_st})"))
        conn.execute(text(f"DELETE FROM pipelines WHERE id NOT IN ({keep_pl})"))
        conn.execute(text(f"DELETE FROM roles WHERE id NOT IN ({keep_ro})"))
        for pid, is_default in pipelines.items():
            conn.execute(text("UPDATE pipelines SET is_default = :d WHERE id = :i"), {"d": is_default, "i": pid})


# ---- checks ------------------------------------------------------------------------------------------
def check_error_shape(r, context: str) -> None:
    try:
        body = r.json()
    except ValueError:
        pytest.fail(f"{context}: {r.status_code} body is not JSON: {r.text[:300]!r}")
    assert isinstance(body, dict) and set(body) == {"error", "request_id"}, f"{context}: {r.status_code} wrong shape {body!r}"[:2000]
    err = body["error"]
    assert isinstance(err, dict), context
    assert {"code", "message", "fields"} <= set(err) <= {"code", "message", "fields", "details"}, f"{context}: {err!r}"[:2000]
    assert isinstance(err["code"], str) and err["code"], f"{context}: {err!r}"[:2000]
    assert isinstance(err["message"], str) and err["message"], f"{context}: {err!r}"[:2000]
    assert isinstance(err["fields"], list), f"{context}: {err!r}"[:2000]
    for f in err["fields"]:
        assert set(f) == {"field", "code", "message"} and all(isinstance(v, str) for v in f.values()), f"{context}: {f!r}"[:2000]
    assert isinstance(body["request_id"], str) and body["request_id"], context


def _replace_refs(body: Any, pool: Pool, rnd) -> Any:
    if isinstance(body, dict):
        out = {}
        for k, v in body.items():
            if k in pool.REF_KIND and (v is None or isinstance(v, int)):
                out[k] = rnd.choice(pool.ids(pool.REF_KIND[k]))
            else:
                out[k] = _replace_refs(v, pool, rnd)
        return out
    if isinstance(body, list):
        return [_replace_refs(v, pool, rnd) for v in body]
    return body


def _describe(method: str, url: str, req: dict[str, Any], body: Any) -> str:
    shown = body if not isinstance(body, (bytes, str)) else body[:200]
    return f"{method} {url} as {req['user']} ({req['kind']}) body={json.dumps(shown, ensure_ascii=False, default=str)[:600]}"


def run_one(api, pool: Pool, method: str, path: str, req: dict[str, Any], rnd) -> None:
    client = api.client
    url = pool.resolve(path, req["ids"], rnd)
    headers = api.headers(req["user"], {"Accept-Language": rnd.choice(["en", "zh-CN"])})
    if method == "PATCH" or path.endswith("/stage"):
        if req["if_match"] == "fresh":
            got = client.get(url.removesuffix("/stage"), headers=headers)
            if got.status_code == 200 and "ETag" in got.headers:
                headers["If-Match"] = got.headers["ETag"]
        elif req["if_match"] == "stale":
            headers["If-Match"] = '"0"'
        elif req["if_match"] == "garbage":
            headers["If-Match"] = "W/not-a-version"
    if req["kind"] == "garbage":
        content, ctype = req["raw"]
        headers["Content-Type"] = ctype
        r = client.request(method, url, content=content, headers=headers)
        body: Any = content
    else:
        body = req.get("body")
        if req["ref_ids"]:
            body = _replace_refs(body, pool, rnd)
        if req.get("has_body"):
            # allow_nan and lone surrogates reach the server as a JSON client might send them
            content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=True, allow_nan=True, default=str).encode()
            headers["Content-Type"] = "application/json"
            r = client.request(method, url, content=content, headers=headers)
        else:
            r = client.request(method, url, headers=headers)
    context = _describe(method, url, req, body)
    assert r.status_code < 500, f"{context}\n-> {r.status_code} {r.text[:500]}"
    if 400 <= r.status_code < 500:
        check_error_shape(r, context)
    if 200 <= r.status_code < 300 and _is_create(method, path):
        assert r.status_code == 201, f"{context}\n-> {r.status_code} (a create must answer 201)"
        location = r.headers.get("Location")
        assert location, f"{context}\n-> 201 without a Location header"
        assert client.get(location, headers=api.headers("admin")).status_code == 200, f"{context}\n-> Location {location} does not resolve"


def test_every_write_operation_is_enumerated():
    """The fuzz set is the schema: the core write endpoints of API.md are all in it."""
    ops = set(OPERATIONS)
    for expected in [("POST", "/api/v1/customers"), ("PATCH", "/api/v1/customers/{record_id}"), ("POST", "/api/v1/contacts"),
                     ("POST", "/api/v1/opportunities"), ("POST", "/api/v1/opportunities/{record_id}/stage"), ("POST", "/api/v1/contracts"),
                     ("POST", "/api/v1/followups"), ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh")]:
        assert expected in ops


def test_schema_matches_the_served_app(app):
    served = sorted((m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops if m in WRITE_METHODS)
    assert served == sorted(OPERATIONS + UPLOADS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p[len(API):]}" for m, p in OPERATIONS])
@hsettings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
                                  HealthCheck.data_too_large, HealthCheck.large_base_example])
@given(data=st.data())
def test_fuzz_write_operation(api, pool, method, path, data):
    req = data.draw(requests(method, path), label="request")
    rnd = data.draw(st.randoms(use_true_random=False), label="rnd")
    run_one(api, pool, method, path, req, rnd)


# ---- a deterministic sweep: one nasty value in one field of an otherwise plausible body ----------------
# Random search rarely lands a lone surrogate in exactly the field that reaches the database; this sweep
# does, for every top-level field of every write operation.
NASTY_STRINGS = ["a\ud800b", "a\u0000b"]
NASTY_INTS = [2**31, 2**64, -(2**63) - 1]
NASTY_DECIMALS = ["NaN", "-Infinity", "1e999999", "1" * 40]
HUGE_ID = 2**64


def _deref(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _alternatives(schema: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _deref(schema)
    alts = schema.get("anyOf") or schema.get("oneOf") or [schema]
    return [a for a in (_deref(x) for x in alts) if a.get("type") != "null"]


def _plausible(name: str, schema: dict[str, Any], pool: Pool) -> Any:
    alts = _alternatives(schema)
    s = alts[0] if alts else {}
    if "enum" in s:
        return s["enum"][0]
    t = s.get("type")
    if t == "integer":
        if name in pool.REF_KIND:
            return pool.ids(pool.REF_KIND[name])[0]
        return max(s.get("minimum", 1), 1) if s.get("maximum", 10) >= 1 else s.get("minimum", 0)
    if t == "number":
        return 100
    if t == "boolean":
        return False
    if t == "array":
        return [_plausible(name, s.get("items", {}), pool)] if s.get("minItems") else []
    if t == "object" or "properties" in s:
        return {k: _plausible(k, v, pool) for k, v in s.get("properties", {}).items() if k in s.get("required", [])}
    fmt = s.get("format")
    if fmt == "date":
        return "2026-03-01"
    if fmt == "date-time":
        return "2026-03-01T09:00:00+08:00"
    known = {"email": "fuzz@example.com", "mobile": "13800138000", "password": "long-password-2026", "new_password": "long-password-2026",
             "current_password": "wrong-password", "currency": "CNY", "username": f"sweep_{pool.uid}", "code": f"sweep_{pool.uid}",
             "timezone": "Asia/Shanghai", "refresh_token": "not-a-token", "color": "#336699", "type": "call"}
    if name in known:
        return known[name]
    if "pattern" in s:
        return f"sw{pool.uid}"
    return f"测试{name}"[: s.get("maxLength", 50)]


def _kinds(schema: dict[str, Any]) -> set[str]:
    kinds = set()
    for a in _alternatives(schema):
        if a.get("type") == "string" and "enum" not in a:
            kinds.add("string")
        if a.get("type") == "integer":
            kinds.add("integer")
        if a.get("type") == "number":
            kinds.add("number")
    return kinds


def _send(api, method: str, url: str, body: Any, headers: dict[str, str]):
    content = json.dumps(body, ensure_ascii=True).encode()
    return api.client.request(method, url, content=content, headers={**headers, "Content-Type": "application/json"})


def _check(r, context: str) -> None:
    assert r.status_code < 500, f"{context}\n-> {r.status_code} {r.text[:300]}"
    if 400 <= r.status_code < 500:
        check_error_shape(r, context)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p[len(API):]}" for m, p in OPERATIONS])
def test_edge_values(api, pool, method, path):
    """Deterministic: path ids beyond 64 bits (a record that does not exist: 404 or 422), then each field of a
    plausible body in turn set to a lone surrogate, a NUL, an out-of-range integer or a decimal that is not one."""
    import random

    rnd = random.Random(0)
    failures = []
    has_body = _body_schema(method, path)
    schema = _deref(SCHEMA["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]) if has_body else {}
    base = _plausible("body", schema, pool) if has_body else {}
    headers = api.headers("admin")

    for name in _path_params(path):
        choices = {n: ("existing" if n != name else HUGE_ID) for n in _path_params(path)}
        url = pool.resolve(path, choices, rnd)
        r = _send(api, method, url, base, {**headers, "If-Match": '"1"'})
        try:
            _check(r, f"{method} {url}")
        except AssertionError as exc:
            failures.append(str(exc).splitlines()[0] + f" -> {r.status_code}")

    url = pool.resolve(path, {name: "existing" for name in _path_params(path)}, rnd)
    etag = None
    if method == "PATCH":
        etag = api.client.get(url, headers=headers).headers.get("ETag")
    if has_body and _is_create(method, path):
        r = _send(api, method, url, base, headers)
        if 200 <= r.status_code < 300 and (r.status_code != 201 or not r.headers.get("Location")):
            failures.append(f"{method} {url} plausible body -> {r.status_code}, Location={r.headers.get('Location')!r} (a create answers 201 + Location)")
    for name, prop in schema.get("properties", {}).items():
        kinds = _kinds(prop)
        values: list[Any] = []
        if "string" in kinds:
            values += NASTY_STRINGS
        if "integer" in kinds:
            values += NASTY_INTS
        if "number" in kinds:
            values += NASTY_DECIMALS
        for value in values:
            h = dict(headers)
            if etag:
                h["If-Match"] = etag
            r = _send(api, method, url, {**base, name: value}, h)
            if r.status_code < 300 and r.headers.get("ETag"):
                etag = r.headers["ETag"]
            try:
                _check(r, f"{method} {url} {name}={value!r:.60}")
            except AssertionError as exc:
                failures.append(str(exc).splitlines()[0] + f" -> {r.status_code}")
    assert not failures, "\n".join(failures)


def test_uploads_never_500(api):
    """Every multipart endpoint, with missing, empty, hostile and oversized-name uploads: 4xx in the error shape, never 5xx."""
    assert UPLOADS, "expected at least one upload endpoint"
    c = api.customer()
    f = api.post("/followups", {"customer_id": c["id"], "type": "note", "content": "上传测试"}).json()
    cases = [
        None,
        {"file": ("", b"", "text/plain")},
        {"file": ("../../etc/passwd.txt", b"root", "text/plain")},
        {"file": ("a\x00b.txt", b"x", "text/plain")},
        {"file": ("\ud800.txt".encode("utf-8", "surrogatepass").decode("utf-8", "replace"), b"x", "text/plain")},
        {"file": ("x" * 5000 + ".txt", b"x", "text/plain")},
        {"other": ("a.txt", b"x", "text/plain")},
        {"file": ("doc.pdf", b"not a pdf", "application/pdf")},
    ]
    for method, path in UPLOADS:
        for record_id in (f["id"], 999999, 2**64):
            url = path.replace("/api/v1", "").replace("{record_id}", str(record_id))
            for files in cases:
                r = api.client.request(method, f"/api/v1{url}", files=files, headers=api.headers("admin"))
                assert r.status_code < 500, (method, url, files and list(files.values())[0][0][:40], r.text)
                if r.status_code >= 400:
                    body = r.json()
                    assert set(body) == {"error", "request_id"} and {"code", "message", "fields"} <= set(body["error"])
