"""Reports (issue 7): every metric on a small hand-built data set with a known answer, compared exactly;
scope (a manager = the sum of their reps, filters never widen), amount rights (a rep's payloads hold no
amount key anywhere), drill-down, xlsx export, dashboards and pins, the cache and its invalidation,
the weekly summary."""

from __future__ import annotations

import dataclasses
import io
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from conftest import assert_error
from kith.core import clock

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 18, 10, 0, tzinfo=SH).astimezone(timezone.utc)  # a Wednesday


def L(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH).astimezone(timezone.utc)


@pytest.fixture()
def data(api, world, db) -> dict[str, Any]:
    """The hand-built data set (see the expected figures in each test)."""
    from kith.activities.models import Event, Followup
    from kith.auth.models import User
    from kith.contacts.models import Contact
    from kith.contracts.models import Contract, Payment, PaymentPlan
    from kith.core.normalize import normalize_company
    from kith.customers.models import Customer
    from kith.opportunities.models import Opportunity, Stage, StageHistory

    clock.freeze(NOW)
    u = world.users
    users = {k: db.get(User, v) for k, v in u.items()}
    from kith.auth.models import Department

    def own(name: str) -> dict[str, Any]:
        usr = users[name]
        return {"owner_id": usr.id, "department_id": usr.department_id,
                "department_path": db.get(Department, usr.department_id).path, "created_by_id": usr.id}

    def customer(owner: str, name: str, created: datetime, **kw: Any) -> Customer:
        c = Customer(name=name, name_key=normalize_company(name), created_at=created, updated_at=created, **own(owner), **kw)
        db.add(c)
        db.flush()
        return c

    c1 = customer("rep_north", "完整客户", L(11, 2), industry="制造业", source="官网", level="A", province="北京",
                  address="北京市朝阳区1号", phone="010-12345678", website="https://a.example.cn", last_followup_at=NOW - timedelta(days=2))
    c2 = customer("rep_north", "三项客户", L(11, 10), source="展会", province="北京", last_followup_at=NOW - timedelta(days=10))
    c3 = customer("rep_north_bj", "上月客户", L(10, 15), industry="金融", source="官网", level="B", province="天津")
    c4 = customer("rep_east", "华东客户", L(11, 5), source="转介绍", last_followup_at=NOW - timedelta(days=1))
    c5 = customer("rep_north", "已删客户", L(10, 1), source="官网", deleted_at=L(10, 2))
    db.add_all([
        Contact(customer_id=c1.id, name="甲", mobile="13800000001", created_at=L(11, 2), updated_at=L(11, 2), **own("rep_north")),
        Contact(customer_id=c2.id, name="乙", wechat="wx_only", created_at=L(11, 10), updated_at=L(11, 10), **own("rep_north")),
        Contact(customer_id=c3.id, name="丙", email="c@example.cn", deleted_at=L(10, 16), created_at=L(10, 15),
                updated_at=L(10, 16), **own("rep_north_bj")),
    ])
    db.add_all([
        Followup(customer_id=c1.id, type="call", content="f1", occurred_at=L(11, 16), **own("rep_north")),
        Followup(customer_id=c2.id, type="call", content="f2", occurred_at=L(11, 8), **own("rep_north")),
        Followup(customer_id=c3.id, type="call", content="f3", occurred_at=L(10, 20), **own("rep_north_bj")),
        Followup(customer_id=c4.id, type="visit", content="f4", occurred_at=L(11, 17), **own("rep_east")),
        Followup(customer_id=c5.id, type="call", content="deleted customer's, itself deleted", occurred_at=L(11, 17),
                 deleted_at=L(11, 17), **own("rep_north")),
    ])
    from kith.opportunities.models import Pipeline

    pid = db.scalar(select(Pipeline.id).order_by(Pipeline.is_default.desc(), Pipeline.position, Pipeline.id))
    st = list(db.scalars(select(Stage).where(Stage.pipeline_id == pid).order_by(Stage.position)))
    s = {"s0": st[0], "s1": st[1], "s2": st[2], "s3": st[3], "won": st[4], "lost": st[5]}

    def opp(owner: str, cust: Customer, amount: int, created: datetime, path: list[tuple[str, datetime]], status: str = "open",
            expected: date | None = None) -> Opportunity:
        last = s[path[-1][0]]
        o = Opportunity(customer_id=cust.id, name=f"商机{amount}", amount=Decimal(amount), pipeline_id=pid, stage_id=last.id,
                        stage_changed_at=path[-1][1], status=status, expected_close_date=expected,
                        closed_at=path[-1][1] if status != "open" else None, created_at=created, updated_at=path[-1][1],
                        **own(owner))
        db.add(o)
        db.flush()
        prev = None
        for key, when in path:
            db.add(StageHistory(opportunity_id=o.id, from_stage_id=prev, to_stage_id=s[key].id, changed_at=when))
            prev = s[key].id
        return o

    o1 = opp("rep_north", c1, 100000, L(11, 3), [("s0", L(11, 3)), ("s1", L(11, 5)), ("s2", L(11, 9))], expected=date(2026, 11, 25))
    o2 = opp("rep_north", c2, 50000, L(11, 4), [("s0", L(11, 4)), ("s1", L(11, 6)), ("s2", L(11, 7)), ("s3", L(11, 8)),
                                                 ("won", L(11, 12))], status="won")
    o3 = opp("rep_north_bj", c3, 80000, L(11, 6), [("s0", L(11, 6)), ("lost", L(11, 10))], status="lost")
    o4 = opp("rep_east", c4, 200000, L(11, 2), [("s0", L(11, 2))], expected=date(2026, 12, 10))
    o5 = opp("rep_north_bj", c3, 30000, L(10, 1), [("s0", L(10, 1)), ("s1", L(10, 3)), ("won", L(10, 20))], status="won")
    k1 = Contract(customer_id=c1.id, number="HT-1", title="合同一", amount=Decimal("120000"), sign_date=date(2026, 11, 12),
                  status="signed", **own("rep_north"))
    k2 = Contract(customer_id=c4.id, number="HT-2", title="合同二", amount=Decimal("30000"), sign_date=date(2026, 10, 28),
                  status="signed", **own("rep_east"))
    db.add_all([k1, k2])
    db.flush()
    p1 = PaymentPlan(contract_id=k1.id, due_date=date(2026, 11, 20), amount=Decimal("60000"))
    p2 = PaymentPlan(contract_id=k1.id, due_date=date(2026, 12, 20), amount=Decimal("60000"))
    p3 = PaymentPlan(contract_id=k2.id, due_date=date(2026, 11, 5), amount=Decimal("30000"))
    db.add_all([p1, p2, p3])
    db.flush()
    pay1 = Payment(contract_id=k1.id, plan_id=p1.id, received_on=date(2026, 11, 15), amount=Decimal("40000"))
    pay2 = Payment(contract_id=k2.id, plan_id=p3.id, received_on=date(2026, 11, 6), amount=Decimal("30000"))
    db.add_all([pay1, pay2])
    for cust, typ, when in ((c2, "pool_returned", L(11, 11)), (c4, "pool_released", L(11, 12)), (c2, "pool_claimed", L(11, 13)),
                            (c3, "pool_returned", L(10, 10))):
        db.add(Event(customer_id=cust.id, entity_type="customer", entity_id=cust.id, type=typ, occurred_at=when, summary="", data={}))
    db.commit()
    return {"c": [None, c1.id, c2.id, c3.id, c4.id, c5.id], "o": [None, o1.id, o2.id, o3.id, o4.id, o5.id],
            "s": {k: v.id for k, v in s.items()}, "k": [k1.id, k2.id], "pay": [pay1.id, pay2.id], "u": u}


def rep(api, name: str, user: str = "admin", **params: Any) -> dict[str, Any]:
    r = api.get(f"/reports/{name}", params={"period": "month", **params}, user=user)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def drill(api, name: str, bucket: str | None, user: str = "admin", **params: Any) -> set[int]:
    q = {"period": "month", **params}
    if bucket is not None:
        q["bucket"] = bucket
    r = api.get(f"/reports/{name}/records", params=q, user=user)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return {i["id"] for i in body["items"]}


def test_completeness(api, data):
    d = rep(api, "completeness")
    assert d["customers"] == 4
    assert d["average"] == 52.78  # (9 + 3 + 5 + 2) / (4 × 9)
    assert d["distribution"] == [{"bucket": "0-20", "customers": 0}, {"bucket": "20-40", "customers": 2},
                                 {"bucket": "40-60", "customers": 1}, {"bucket": "60-80", "customers": 0},
                                 {"bucket": "80-100", "customers": 1}]
    by = {r["owner_id"]: (r["customers"], r["average"]) for r in d["by_owner"]}
    u = data["u"]
    assert by == {u["rep_north"]: (2, 66.67), u["rep_north_bj"]: (1, 55.56), u["rep_east"]: (1, 22.22)}
    c = data["c"]
    assert drill(api, "completeness", "20-40") == {c[2], c[4]}
    items = api.get("/reports/completeness/records", params={"bucket": "80-100"}).json()["items"]
    assert [(i["id"], i["completeness"]) for i in items] == [(c[1], 100.0)]


def test_a_department_move_carries_the_customer_counts(api, data, db):
    """The state reports read the per-department customer counts (ADR 0017); a department move rewrites every
    path with bulk UPDATEs, the counts' too: north_bj's customer now counts for the east, not the north."""
    from kith.reports.rollup import CustomerCount, rebuild

    before = {m: rep(api, "completeness", user=m)["customers"] for m in ("manager_north", "manager_east")}
    w = api.world.depts
    r = api.patch(f"/departments/{w['north_bj']}", {"parent_id": w["east"],
                                                     "version": api.get(f"/departments/{w['north_bj']}").json()["version"]})
    assert r.status_code == 200, r.text
    after = {m: rep(api, "completeness", user=m)["customers"] for m in ("manager_north", "manager_east")}
    assert after == {"manager_north": before["manager_north"] - 1, "manager_east": before["manager_east"] + 1}
    assert rep(api, "completeness", department_id=w["east"])["customers"] == after["manager_east"]
    db.expire_all()
    kept = sorted(tuple(r) for r in db.execute(select(CustomerCount.owner_id, CustomerCount.department_path, CustomerCount.pooled,
                                                          CustomerCount.filled, CustomerCount.n).where(CustomerCount.n != 0)))
    rebuild(db.connection())
    recount = sorted(tuple(r) for r in db.execute(select(CustomerCount.owner_id, CustomerCount.department_path, CustomerCount.pooled,
                                                             CustomerCount.filled, CustomerCount.n)))
    db.rollback()
    assert kept == recount


def test_followup_timeliness_and_followups_per_rep(api, data):
    d = rep(api, "followup_timeliness")
    assert (d["days"], d["customers"], d["timely"], d["overdue"], d["share"]) == (7, 4, 2, 2, 0.5)
    assert d["followups"] == 3 and d["previous"] == {"followups": 1}
    u = data["u"]
    by = {r["owner_id"]: (r["customers"], r["timely"], r["followups"]) for r in d["by_owner"]}
    assert by == {u["rep_north"]: (2, 1, 2), u["rep_north_bj"]: (1, 0, 0), u["rep_east"]: (1, 1, 1)}
    c = data["c"]
    assert drill(api, "followup_timeliness", "overdue") == {c[2], c[3]}
    assert drill(api, "followup_timeliness", "timely") == {c[1], c[4]}
    # a 1-day window: only c4 (followed up yesterday... 24 h ago exactly counts)
    assert rep(api, "followup_timeliness", days=3)["timely"] == 2
    assert rep(api, "followup_timeliness", days=1)["timely"] == 1


def test_new_customers_by_source_industry_region_with_previous_period(api, data):
    d = rep(api, "new_customers")
    assert d["total"] == 3 and d["previous"] == {"total": 1}
    assert d["by_source"] == [{"bucket": "官网", "customers": 1}, {"bucket": "展会", "customers": 1}, {"bucket": "转介绍", "customers": 1}]
    assert d["by_industry"] == [{"bucket": "", "customers": 2}, {"bucket": "制造业", "customers": 1}]
    assert d["by_region"] == [{"bucket": "北京", "customers": 2}, {"bucket": "", "customers": 1}]
    c = data["c"]
    assert drill(api, "new_customers", "source:官网") == {c[1]}
    assert drill(api, "new_customers", "industry:") == {c[2], c[4]}
    assert drill(api, "new_customers", None) == {c[1], c[2], c[4]}
    # custom period = October: c3 (c5 is deleted), compared with September
    oc = rep(api, "new_customers", period="custom", **{"from": "2026-10-01", "to": "2026-10-31"})
    assert oc["total"] == 1 and oc["previous"] == {"total": 0}
    assert rep(api, "new_customers", period="year")["total"] == 4


def test_funnel_counts_amounts_conversion_days(api, data):
    d = rep(api, "funnel")
    s = data["s"]
    by = {x["stage_id"]: x for x in d["stages"]}
    assert [by[s[k]]["count"] for k in ("s0", "s1", "s2", "s3", "won", "lost")] == [1, 0, 1, 0, 1, 1]
    assert [by[s[k]]["amount"] for k in ("s0", "s2", "won", "lost")] == ["200000.00", "100000.00", "50000.00", "80000.00"]
    assert [by[s[k]]["reached"] for k in ("s0", "s1", "s2", "s3", "won")] == [4, 2, 2, 1, 1]
    assert [by[s[k]]["conversion_to_next"] for k in ("s0", "s1", "s2", "s3")] == [0.5, 1.0, 0.5, 1.0]
    assert [by[s[k]]["avg_days_in_stage"] for k in ("s0", "s1", "s2", "s3")] == [6.0, 2.5, 5.0, 4.0]
    assert d["cohort"] == 4
    o = data["o"]
    assert drill(api, "funnel", str(s["s2"])) == {o[1]}
    assert drill(api, "funnel", str(s["won"])) == {o[2]}


def test_win_rate_and_sales_cycle_with_previous(api, data):
    d = rep(api, "win_rate")
    assert d["won"] == 1 and d["lost"] == 1 and d["win_rate"] == 0.5 and d["avg_cycle_days"] == 8.0
    assert d["won_amount"] == "50000.00"
    assert d["previous"] == {"won": 1, "lost": 0, "win_rate": 1.0, "avg_cycle_days": 19.0, "won_amount": "30000.00"}
    o = data["o"]
    assert drill(api, "win_rate", "won") == {o[2]} and drill(api, "win_rate", "lost") == {o[3]}


def test_weighted_forecast_by_month(api, data):
    d = rep(api, "forecast")
    assert d == {"months": [{"bucket": "2026-11", "count": 1, "amount": "100000.00", "weighted_amount": "50000.00"}],
                 "count": 1, "amount": "100000.00", "weighted_amount": "50000.00"}
    q = rep(api, "forecast", period="quarter")
    assert [(m["bucket"], m["count"], m["weighted_amount"]) for m in q["months"]] == [("2026-11", 1, "50000.00"), ("2026-12", 1, "20000.00")]
    assert q["weighted_amount"] == "70000.00"
    assert drill(api, "forecast", "2026-12", period="quarter") == {data["o"][4]}


def test_sales_ranking(api, data):
    d = rep(api, "ranking")
    u = data["u"]
    assert [(r["owner_id"], r["won"], r["won_amount"], r["new_customers"], r["followups"]) for r in d["rows"]] == [
        (u["rep_north"], 1, "50000.00", 2, 2), (u["rep_east"], 0, "0.00", 1, 1)]
    assert d["totals"] == {"won": 1, "won_amount": "50000.00", "new_customers": 3, "followups": 3}
    c = data["c"]
    assert drill(api, "ranking", f"new:{u['rep_north']}") == {c[1], c[2]}
    assert drill(api, "ranking", f"won:{u['rep_north']}") == {data["o"][2]}


def test_contracts_and_payments_against_the_plan(api, data):
    d = rep(api, "contracts_payments")
    assert (d["contracts"], d["contract_amount"]) == (1, "120000.00")
    assert (d["payments"], d["received_amount"], d["planned"], d["planned_amount"]) == (2, "70000.00", 2, "90000.00")
    assert d["collection_rate"] == 0.7778
    assert d["previous"] == {"contracts": 1, "contract_amount": "30000.00", "payments": 0, "planned": 0,
                             "received_amount": "0.00", "planned_amount": "0.00", "collection_rate": None}
    assert d["by_month"] == [{"bucket": "2026-11", "contracts": 1, "contract_amount": "120000.00"}]
    assert drill(api, "contracts_payments", "payments") == set(data["pay"])
    assert drill(api, "contracts_payments", "contracts") == {data["k"][0]}
    fin = rep(api, "contracts_payments", user="finance")
    assert fin["received_amount"] == "70000.00"


def test_pool_inflow_and_claims(api, data):
    d = rep(api, "pool")
    assert d == {"inflow": 2, "claims": 1, "previous": {"inflow": 1, "claims": 0}}
    c = data["c"]
    assert drill(api, "pool", "inflow") == {c[2], c[4]}
    assert drill(api, "pool", "claims") == {c[2]}
    # the rep sees only their own customers' pool events
    assert rep(api, "pool", user="rep_north") == {"inflow": 1, "claims": 1, "previous": {"inflow": 0, "claims": 0}}


def _count_figures(api, user: str) -> dict[str, Any]:
    nc = rep(api, "new_customers", user=user)
    ft = rep(api, "followup_timeliness", user=user)
    wr = rep(api, "win_rate", user=user)
    fu = rep(api, "funnel", user=user)
    cp = rep(api, "contracts_payments", user=user)
    return {"new": nc["total"], "new_prev": nc["previous"]["total"], "customers": ft["customers"], "timely": ft["timely"],
            "followups": ft["followups"], "won": wr["won"], "lost": wr["lost"], "contracts": cp["contracts"],
            "payments": cp["payments"], **{f"stage{x['stage_id']}": x["count"] for x in fu["stages"]},
            **{f"reached{x['stage_id']}": x.get("reached", 0) for x in fu["stages"]}}


def test_manager_equals_the_sum_of_their_reps(api, data):
    manager = _count_figures(api, "manager_north")
    reps = [_count_figures(api, r) for r in ("rep_north", "rep_north_bj", "rep_north2")]
    assert manager == {k: sum(r[k] for r in reps) for k in manager}
    assert manager["new"] == 2 and manager["won"] == 1 and manager["lost"] == 1  # not the east's
    east = _count_figures(api, "manager_east")
    admin = _count_figures(api, "admin")
    assert admin == {k: manager[k] + east[k] for k in admin}


def _keys(obj: Any) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_a_reps_payloads_contain_no_amount(api, data):
    from openpyxl import load_workbook

    names = [i["name"] for i in api.get("/reports", user="rep_north").json()["items"]]
    assert set(names) >= {"funnel", "forecast", "win_rate", "ranking", "contracts_payments"}
    for name in names:
        r = api.get(f"/reports/{name}", params={"period": "year"}, user="rep_north")
        assert r.status_code == 200, r.text
        assert not [k for k in _keys(r.json()) if "amount" in k], name
        wb = load_workbook(io.BytesIO(api.get(f"/reports/{name}.xlsx", params={"period": "year"}, user="rep_north").content))
        cells = {str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None}
        assert not [c for c in cells if "amount" in c], name
    funnel = rep(api, "funnel", user="rep_north")
    assert sum(x["count"] for x in funnel["stages"]) == 2  # o1 open, o2 won: counts, not sums
    items = api.get("/reports/funnel/records", params={"bucket": str(data["s"]["s2"])}, user="rep_north").json()["items"]
    assert items and all("amount" not in i for i in items)
    assert "50000" not in api.get("/reports/win_rate", user="rep_north").text
    # the manager sees the sums
    assert rep(api, "win_rate", user="manager_north")["won_amount"] == "50000.00"


def test_filters_never_widen_the_scope(api, data):
    u, w = data["u"], api.world.depts
    assert rep(api, "new_customers", user="rep_north", department_id=w["hq"])["total"] == 2
    assert rep(api, "new_customers", user="rep_north", owner_id=u["rep_east"])["total"] == 0
    assert rep(api, "new_customers", user="manager_north", department_id=w["east"])["total"] == 0
    assert rep(api, "new_customers", user="manager_north", department_id=w["north_bj"], period="year")["total"] == 1
    assert rep(api, "new_customers", department_id=w["north"])["total"] == 2
    assert rep(api, "new_customers", owner_id=u["rep_east"])["total"] == 1
    assert drill(api, "new_customers", None, user="rep_north", owner_id=u["rep_east"]) == set()


def test_bad_parameters_are_422_naming_the_field(api, data):
    assert_error(api.get("/reports/new_customers", params={"period": "decade"}), 422, field="period")
    assert_error(api.get("/reports/new_customers", params={"period": "custom", "from": "2026-11-01"}), 422, field="to")
    assert_error(api.get("/reports/new_customers", params={"period": "custom", "from": "x", "to": "2026-11-01"}), 422, field="from")
    assert_error(api.get("/reports/new_customers", params={"department_id": "999999"}), 422, field="department_id")
    assert_error(api.get("/reports/new_customers", params={"owner_id": "abc"}), 422, field="owner_id")
    assert_error(api.get("/reports/completeness/records", params={"bucket": "nope"}), 422, field="bucket")
    assert_error(api.get("/reports/funnel/records", params={"bucket": "x"}), 422, field="bucket")
    assert_error(api.get("/reports/nothing"), 404)
    assert_error(api.get("/reports/new_customers", user="support"), 403)
    assert_error(api.get("/reports/contracts_payments", user="marketing"), 403)
    assert api.get("/reports/new_customers").status_code == 200
    assert api.get("/reports/new_customers", headers={"Authorization": ""}, user=None).status_code == 401


def test_xlsx_export_is_readable(api, data):
    from openpyxl import load_workbook

    r = api.get("/reports/new_customers", params={"period": "month", "format": "xlsx"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    summary = wb["summary"]
    rows = list(summary.iter_rows(values_only=True))
    assert dict(zip(rows[0], rows[1]))["total"] == 3
    src = list(wb["by_source"].iter_rows(values_only=True))
    assert src[0] == ("bucket", "customers") and ("官网", 1) in src
    assert all(not (isinstance(c, str) and c.startswith("=")) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
               for c in row)


def test_cache_is_used_and_a_new_followup_invalidates_it(api, data, engine):
    first = rep(api, "followup_timeliness")
    assert first["followups"] == 3
    u = data["u"]
    # a row written behind the application's back is not seen: the answer comes from the cache
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO followups (customer_id, type, content, occurred_at, owner_id, department_id, department_path, "
                          "version, created_at, updated_at) SELECT customer_id, type, 'raw', occurred_at, owner_id, department_id, "
                          "department_path, 1, created_at, updated_at FROM followups WHERE content = 'f1'"))
        from kith.reports.followup_days import rebuild

        rebuild(conn)  # the per-day counts too (a bulk load does the same), only the cache generation is not bumped
    assert rep(api, "followup_timeliness")["followups"] == 3
    # a follow-up through the application bumps the generation: both new rows are counted now
    r = api.post("/followups", {"customer_id": data["c"][1], "type": "call", "content": "新跟进"}, user="rep_north")
    assert r.status_code == 201, r.text
    assert rep(api, "followup_timeliness")["followups"] == 5
    assert {x["owner_id"]: x["followups"] for x in rep(api, "followup_timeliness")["by_owner"]}[u["rep_north"]] == 4


def test_dashboards_by_role_and_pins(api, data):
    me = api.get("/dashboards/me", user="rep_north").json()
    assert me["role"] == "sales_rep" and [c["report"] for c in me["charts"]][:2] == ["followup_timeliness", "funnel"]
    assert me["pins"] == []
    assert api.get("/dashboards/me", user="finance").json()["role"] == "finance"
    mk = api.get("/dashboards/me", user="marketing").json()
    assert mk["role"] == "marketing" and [c["report"] for c in mk["charts"]] == ["new_customers", "completeness", "pool"]
    assert api.get("/dashboards/me", user="manager_north").json()["role"] == "sales_manager"
    assert len(api.get("/dashboards/me").json()["charts"]) == 9
    r = api.post("/dashboards/pins", {"report": "funnel", "params": {"period": "quarter"}}, user="rep_north")
    assert r.status_code == 201, r.text
    pin = r.json()
    assert api.get("/dashboards/me", user="rep_north").json()["pins"] == [pin]
    assert api.get("/dashboards/me", user="rep_east").json()["pins"] == []
    assert_error(api.post("/dashboards/pins", {"report": "nope"}, user="rep_north"), 422, field="report")
    assert_error(api.post("/dashboards/pins", {"report": "funnel", "params": {"period": "decade"}}, user="rep_north"), 422, field="period")
    assert_error(api.post("/dashboards/pins", {"report": "funnel", "params": {"colour": "red"}}, user="rep_north"), 422, field="params.colour")
    assert_error(api.post("/dashboards/pins", {"report": "contracts_payments"}, user="marketing"), 403)
    assert api.delete(f"/dashboards/pins/{pin['id']}", user="rep_east").status_code == 404
    assert api.delete(f"/dashboards/pins/{pin['id']}", user="rep_north").status_code == 204
    assert api.get("/dashboards/me", user="rep_north").json()["pins"] == []
    assert_error(api.get("/dashboards/me", user="support"), 403)


def test_weekly_summary_to_managers(api, data, db):
    from kith.notifications.models import Notification
    from kith.reports.service import weekly_summary

    result = weekly_summary(db, NOW)
    db.commit()
    assert result["sent"] == 2
    notes = {n.user_id: n for n in db.scalars(select(Notification).where(Notification.kind == "weekly_summary"))}
    u = data["u"]
    assert set(notes) == {u["manager_north"], u["manager_east"]}
    north = notes[u["manager_north"]].params
    # last week = 2026-11-09 … 11-15: c2 created, o2 won, no follow-ups
    assert (north["from"], north["to"], north["new_customers"], north["followups"], north["won"]) == ("2026-11-09", "2026-11-15", 1, 0, 1)
    assert north["won_amount"] == "50000.00"
    east = notes[u["manager_east"]].params
    assert (east["new_customers"], east["won"]) == (0, 0)
    inbox = api.get("/notifications", user="manager_north")
    if inbox.status_code == 200:
        assert "上周" in inbox.text


def test_funnel_pre_aggregates_equal_the_live_definition(api, data, db):
    """left_at and the deal's scope copy (StageHistory), reached_position (Opportunity) are kept on write
    (ADR 0017 part 3): after stage moves (forward, back, ties at one instant), won, lost and reopened, delete
    and restore, a customer transfer, a department move and a reordering of the pipeline's stages, the
    columns and the per-day sums (report_stage_days) equal their definitions and recounts, and the funnel's
    reached and days in stage equal the live computation
    from the history (a window function joined to the deals), for four scopes and four periods."""
    from kith.access import load_actor
    from kith.auth.models import User
    from kith.opportunities.models import Opportunity, Stage, StageHistory
    from kith.reports import service as rs
    from kith.reports import stage_days

    s, c, u = data["s"], data["c"], data["u"]
    due = "2026-12-20T10:00:00+08:00"

    def at(when: datetime) -> None:  # tokens are issued at the frozen time: new ones for each instant
        clock.freeze(when)
        for name in ("admin", "rep_north", "rep_east"):
            api.forget(name)

    def move(oid: int, key: str, user: str = "admin", **kw: Any) -> None:
        body = {"stage_id": s[key], "next_action": "回访", "next_action_due": due, **kw}
        r = api.post(f"/opportunities/{oid}/stage", body, user=user)
        assert r.status_code == 200, r.text

    def check() -> None:
        at(NOW)
        db.expire_all()
        hist = list(db.scalars(select(StageHistory).order_by(StageHistory.opportunity_id, StageHistory.changed_at, StageHistory.id)))
        stages = {st.id: st for st in db.scalars(select(Stage))}
        deals = {o.id: o for o in db.scalars(select(Opportunity))}
        for a, b in zip(hist, [*hist[1:], None]):
            assert a.left_at == (b.changed_at if b is not None and b.opportunity_id == a.opportunity_id else None), a.id
            o = deals[a.opportunity_id]
            assert (a.deal_owner_id, a.deal_department_path, a.deal_deleted_at) == (o.owner_id, o.department_path, o.deleted_at), a.id
        # the per-day sums equal a recount of the live deals' entries
        kept = {(r.day, r.stage_id, r.owner_id, r.department_path): [r.n, r.n_open, r.closed_us, r.open_start_us]
                for r in db.scalars(select(stage_days.StageDayCount))}
        expect: dict[Any, list[int]] = {}
        for h in hist:
            if deals[h.opportunity_id].deleted_at is None:
                stage_days._add(expect, (stage_days._day(h.changed_at), h.to_stage_id, h.deal_owner_id, h.deal_department_path),
                                h.changed_at, h.left_at)
        assert kept == expect
        for o in deals.values():
            pos = [stages[h.to_stage_id].position for h in hist if h.opportunity_id == o.id
                   and stages[h.to_stage_id].kind != "lost" and stages[h.to_stage_id].pipeline_id == o.pipeline_id]
            assert o.reached_position == (max(pos) if pos else None), o.id
        berlin = dataclasses.replace(load_actor(db, db.get(User, u["manager_north"])), timezone="Europe/Berlin")
        for user in ("admin", "manager_north", "rep_north", "manager_east", berlin):
            # Europe/Berlin: other day boundaries than the rollup's, so the per-entry query answers
            actor = user if not isinstance(user, str) else load_actor(db, db.get(User, u[user]))
            for period in ("week", "month", "quarter", "year"):
                fast = rs.run(db, actor, "funnel", {"period": period}, use_cache=False)["data"]
                ctx = rs.resolve(db, actor, {"period": period})
                st = rs._stages(ctx)
                reached, days = rs._reached_live(ctx, st), rs._avg_days_live(ctx, st)
                via_rollup = rs._avg_days_rollup(ctx, [x.id for x in st if x.kind == "open"])
                assert (via_rollup is None) == (actor is berlin)  # which path answered
                pos = {x.id: x.position for x in st}
                for item in fast["stages"]:
                    if item["kind"] != "lost":
                        assert item["reached"] == sum(n for p, n in reached.items() if p >= pos[item["stage_id"]]), (user, period)
                    if item["kind"] == "open":
                        assert item["avg_days_in_stage"] == days.get(item["stage_id"]), (user, period, item)
                db.rollback()

    check()  # the hand-built set (history written directly through the ORM)
    at(L(11, 13))
    o6 = api.opportunity(c[1], user="rep_north")["id"]
    o7 = api.opportunity(c[1], user="rep_north")["id"]
    at(L(11, 14, 9))
    move(o6, "s1", "rep_north")
    move(o7, "won", "rep_north")
    at(L(11, 15, 16))
    move(o6, "s3", "rep_north")
    o8 = api.opportunity(c[4], user="rep_east")["id"]
    at(L(11, 16, 11))
    move(o6, "s1", "rep_north")  # back: reached stays s3
    move(o8, "lost", "rep_east", lost_reason="价格")
    o9 = api.opportunity(c[4], user="rep_east")["id"]  # three entries at one instant: ordered by id
    move(o9, "s1", "rep_east")
    move(o9, "s2", "rep_east")
    check()
    at(L(11, 17, 8))
    move(o8, "s2", "rep_east")  # lost, reopened
    move(data["o"][1], "lost", lost_reason="预算取消")
    check()
    assert api.delete(f"/opportunities/{o6}").status_code == 204
    check()
    assert api.post(f"/opportunities/{o6}/restore").status_code == 200
    check()
    # the customer's transfer moves its open deals (o4, o8, o9) to the new owner
    r = api.post("/customers/bulk", {"ids": [c[4]], "action": "transfer", "owner_id": u["rep_north"]})
    assert r.status_code == 200 and r.json()["changed"] == [c[4]], r.text
    check()
    # a department move rewrites the paths with one bulk UPDATE per table: north_bj's deals now in the east's scope
    w = api.world.depts
    r = api.patch(f"/departments/{w['north_bj']}", {"parent_id": w["east"],
                                                     "version": api.get(f"/departments/{w['north_bj']}").json()["version"]})
    assert r.status_code == 200, r.text
    check()
    # reordering (and re-kinding) the stages changes every deal's highest position
    pid = db.get(Stage, s["s0"]).pipeline_id
    pipe = api.get(f"/pipelines/{pid}").json()
    order = {x["id"]: x for x in pipe["stages"]}
    new = [order[s[k]] for k in ("s0", "s2", "s1", "s3", "won", "lost")]
    body = {"stages": [{"id": x["id"], "name": x["name"], "probability": x["probability"], "kind": x["kind"]} for x in new]}
    r = api.patch(f"/pipelines/{pid}", body, headers={"If-Match": f'"{pipe["version"]}"'})
    assert r.status_code == 200, r.text
    check()
    by = {x["stage_id"]: x for x in rs.run(db, load_actor(db, db.get(User, u["admin"])), "funnel", {"period": "month"},
                                              use_cache=False)["data"]["stages"]}
    # o1 s0 s1 s2 → s1 (now 2nd); o2, o7 won; o3, o4 s0; o6 s0 s1 s3 s1 → s3; o8 s0 lost s2 → s2; o9 s0 s1 s2 → s1
    assert [by[s[k]]["reached"] for k in ("s0", "s2", "s1", "s3", "won")] == [8, 6, 5, 3, 2]


def test_contracts_payments_of_deleted_contracts_are_left_out_for_every_scope(api, data):
    """The whole-company scope sums the payment ranges without the contracts join and subtracts the deleted
    contracts' rows (ADR 0017 part 3): the same figures as the joined query the managers get."""
    r = api.delete(f"/contracts/{data['k'][0]}")
    assert r.status_code == 204, r.text
    d = rep(api, "contracts_payments")
    assert (d["contracts"], d["payments"], d["received_amount"], d["planned"], d["planned_amount"]) == (0, 1, "30000.00", 1, "30000.00")
    parts = [rep(api, "contracts_payments", user=u) for u in ("manager_north", "manager_east")]
    for k in ("payments", "planned"):
        assert d[k] == sum(x[k] for x in parts)
    assert d["received_amount"] == parts[1]["received_amount"] and parts[0]["received_amount"] == "0.00"


def test_followup_day_counts_stay_exact_through_every_write_path(api, data, db, engine):
    """The per-day follow-up counts behind follow-up timeliness and the ranking (ADR 0017 part 4) are kept on write:
    after a create, a change of day, a delete and restore, a customer transfer, a release to the pool and an
    assignment out of it, a department move, and a merge and its undo, they equal a recount; and the reports read
    them (a row written behind the application's back is not counted until a recount)."""
    from kith.access import load_actor
    from kith.activities.models import Followup
    from kith.auth.models import User
    from kith.pool.service import ensure_default_rules
    from kith.reports import service as rs
    from conftest import assert_followup_days_exact

    ensure_default_rules(db)
    db.commit()
    u, c, w = data["u"], data["c"], api.world.depts
    assert_followup_days_exact(engine)
    r = api.post("/followups", {"customer_id": c[1], "type": "call", "content": "新跟进"}, user="rep_north")
    assert r.status_code == 201, r.text
    fu = r.json()
    assert_followup_days_exact(engine)
    r = api.patch(f"/followups/{fu['id']}", {"occurred_at": "2026-11-03T02:00:00Z", "version": fu["version"]}, user="rep_north")
    assert r.status_code == 200, r.text
    assert_followup_days_exact(engine)
    assert api.delete(f"/followups/{fu['id']}", user="rep_north").status_code == 204
    assert_followup_days_exact(engine)
    assert api.post(f"/followups/{fu['id']}/restore").status_code == 200
    assert_followup_days_exact(engine)
    # a transfer moves the customer's follow-ups with one bulk UPDATE
    r = api.post("/customers/bulk", {"ids": [c[1]], "action": "transfer", "owner_id": u["rep_north_bj"]})
    assert r.status_code == 200 and r.json()["changed"] == [c[1]], r.text
    assert_followup_days_exact(engine)
    # into the pool: the follow-ups leave the owner's scope (pooled flag); assigned out again
    assert api.post(f"/customers/{c[1]}/release", {"reason": "暂无需求"}).status_code == 200
    assert_followup_days_exact(engine)
    assert api.post(f"/pool/{c[1]}/assign", {"owner_id": u["rep_north"]}).status_code == 200
    assert_followup_days_exact(engine)
    # a department move rewrites every path with bulk UPDATEs
    r = api.patch(f"/departments/{w['north_bj']}", {"parent_id": w["east"],
                                                     "version": api.get(f"/departments/{w['north_bj']}").json()["version"]})
    assert r.status_code == 200, r.text
    assert_followup_days_exact(engine)
    # a merge re-links (and re-owns) the other customer's follow-ups; the undo moves them back
    survivor = api.get(f"/customers/{c[2]}").json()
    r = api.post(f"/customers/{c[2]}/merge", {"other_id": c[4], "version": survivor["version"]})
    assert r.status_code == 200, r.text
    assert_followup_days_exact(engine)
    assert api.post(f"/merges/{r.json()['merge_id']}/undo").status_code == 200
    assert_followup_days_exact(engine)

    def count(user: str) -> int:
        actor = load_actor(db, db.get(User, u[user]))
        return rs.run(db, actor, "followup_timeliness", {"period": "month"}, use_cache=False)["data"]["followups"]

    before = count("admin")
    with engine.begin() as conn:
        conn.execute(Followup.__table__.insert().values(customer_id=c[1], type="note", content="raw", occurred_at=clock.now(),
                                                         owner_id=u["rep_north"], department_id=world_dept(db, u["rep_north"]),
                                                         department_path="/", version=1, created_at=clock.now(),
                                                         updated_at=clock.now()))
    db.expire_all()
    assert count("admin") == before  # read from the per-day counts, which this raw row bypassed
    with engine.begin() as conn:
        from kith.reports.followup_days import rebuild

        rebuild(conn)
    assert count("admin") == before + 1


def world_dept(db, user_id: int) -> int:
    from kith.auth.models import User

    return db.get(User, user_id).department_id
