"""The demo company loads into a fresh database and matches the contract in docs/API.md (Demo data)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kith import config
from kith.db import session as db_session

DEMO_USERS = ["admin", "manager_north", "rep_north", "manager_east", "rep_east", "service", "marketing", "finance", "support"]
DEPARTMENTS = ["总部", "华北销售部", "华东销售部", "客服部", "市场部", "财务部", "技术支持部"]


@pytest.fixture()
def demo_db(tmp_path, monkeypatch):
    monkeypatch.setenv("KITH_DATABASE_URL", f"sqlite:///{(tmp_path / 'demo.db').as_posix()}")
    config.reset_settings()
    db_session.dispose_engines()
    from kith.bootstrap import bootstrap
    from kith.db.migrate import upgrade

    engine = db_session.get_engine()
    upgrade(engine)
    with db_session.session_scope(engine) as session:
        bootstrap(session)
    yield engine
    db_session.dispose_engines()
    config.reset_settings()


def test_demo_loads_the_company(demo_db):
    from kith.auth.models import Department, User
    from kith.auth.security import verify_password
    from kith.customers.models import Customer
    from kith.demo import DEMO_PASSWORD, load_demo
    from kith.opportunities.models import Opportunity

    assert load_demo(customers=60) is True

    with db_session.session_scope(demo_db) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        for name in DEMO_USERS:
            assert name in users, name
            assert users[name].is_demo
            assert verify_password(users[name].password_hash, DEMO_PASSWORD), name
        assert {r.code for r in users["admin"].roles} == {"admin"}
        assert {r.code for r in users["rep_north"].roles} == {"sales_rep"}

        depts = {d.name: d for d in session.scalars(select(Department))}
        for name in DEPARTMENTS:
            assert name in depts, name
        assert depts["华北销售部"].manager_id == users["manager_north"].id
        assert depts["华东销售部"].manager_id == users["manager_east"].id
        assert users["rep_north"].department_id == depts["华北销售部"].id

        assert session.scalar(select(func.count()).select_from(Customer)) == 60
        owned = session.scalar(select(func.count()).select_from(Customer).where(Customer.owner_id == users["rep_north"].id))
        assert owned and owned > 0
        north_path = depts["华北销售部"].path
        assert session.scalar(select(func.count()).select_from(Customer).where(
            Customer.owner_id == users["rep_north"].id, Customer.department_path != north_path)) == 0

        opps = list(session.scalars(select(Opportunity)))
        assert {o.status for o in opps} == {"open", "won", "lost"}
        for opp in opps:
            if opp.status == "open":
                assert opp.next_action and opp.next_action_due, opp.id
            if opp.status == "lost":
                assert opp.lost_reason, opp.id

    assert load_demo(customers=60) is False
