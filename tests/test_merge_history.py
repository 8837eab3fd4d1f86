"""GET /merges: the merge history every manager shares (issue 6) — scoped by the surviving record, newest first,
keyset paged, each merge with who did it, both names and whether (and if not, why) it can still be undone."""

from __future__ import annotations

from conftest import assert_error


def _merge(api, user, kind="customer", survivor=None, other=None, **names):
    """Two fresh records of `user` merged; returns the merge id."""
    if kind == "customer":
        survivor = survivor or api.customer(user=user, name=names.get("s", "历史保留客户"))
        other = other or api.customer(user=user, name=names.get("o", "历史合并客户"))
    r = api.post(f"/{kind}s/{survivor['id']}/merge", {"other_id": other["id"], "version": survivor["version"]}, user=user)
    assert r.status_code == 200, r.text
    return r.json()["merge_id"]


def _ids(api, user, **params):
    r = api.get("/merges", params={"limit": 200, **params}, user=user)
    assert r.status_code == 200, r.text
    return [m["id"] for m in r.json()["items"]]


def test_each_rep_sees_the_merges_of_their_own_records_and_the_admin_all(api):
    north = _merge(api, "rep_north", s="北方保留", o="北方被并")
    east = _merge(api, "rep_east", s="东方保留", o="东方被并")
    admin = _merge(api, "admin")
    assert _ids(api, "rep_north") == [north]
    assert _ids(api, "rep_east") == [east]
    assert _ids(api, "admin") == [admin, east, north]  # newest first
    assert _ids(api, "manager_north") == [north]  # department tree: his rep's merge, not the east's
    # the same rule as the detail: a merge you cannot list is 404 there too, and its undo as well
    assert_error(api.get(f"/merges/{east}", user="rep_north"), 404)
    assert_error(api.post(f"/merges/{east}/undo", user="rep_north"), 404)

    page = api.get("/merges", user="manager_north").json()
    assert page["total"] == 1 and page["next_cursor"] is None
    item = page["items"][0]
    assert item == api.get(f"/merges/{north}", user="manager_north").json()  # each item as the detail answers it
    assert item["actor_name"] == "李销售" and item["survivor_name"] == "北方保留" and item["other_name"] == "北方被并"
    assert item["entity_type"] == "customer" and item["undoable"] is True and item["undo_blocked"] is None
    assert item["created_at"].endswith("+00:00") or item["created_at"].endswith("Z")


def test_a_colleague_undoes_a_merge_from_the_history_and_it_shows_as_not_undoable(api):
    mid = _merge(api, "rep_north", s="同事保留", o="同事被并")
    # the manager (another browser) finds it in the shared history and undoes it
    listed = api.get("/merges", params={"undoable": "true"}, user="manager_north").json()
    assert [m["id"] for m in listed["items"]] == [mid]
    assert api.post(f"/merges/{mid}/undo", user="manager_north").status_code == 200
    item = api.get("/merges", user="rep_north").json()["items"][0]
    assert item["id"] == mid and item["undoable"] is False and item["undone_at"] is not None
    assert item["undone_by_name"] == "王经理"
    assert item["undo_blocked"]["code"] == "merge_already_undone" and item["undo_blocked"]["message"]
    assert _ids(api, "rep_north", undoable="true") == []
    assert _ids(api, "rep_north", undoable="false") == [mid]
    assert api.get("/merges", params={"undoable": "false"}, user="rep_north").json()["total"] == 1


def test_a_later_change_blocks_the_undo_and_the_history_says_which_record(api):
    s = api.customer(user="rep_north", name="阻塞保留")
    o = api.customer(user="rep_north", name="阻塞被并")
    oc = api.contact(o["id"], user="rep_north", name="钱七")
    mid = _merge(api, "rep_north", survivor=s, other=o)
    free = _merge(api, "rep_north")
    contact = api.get(f"/contacts/{oc['id']}", user="rep_north").json()
    assert api.patch(f"/contacts/{oc['id']}", {"title": "总监", "version": contact["version"]}, user="rep_north").status_code == 200
    items = {m["id"]: m for m in api.get("/merges", user="rep_north", headers={"Accept-Language": "en"}).json()["items"]}
    blocked = items[mid]
    assert blocked["undoable"] is False and blocked["undone_at"] is None
    assert blocked["undo_blocked"]["code"] == "merge_undo_blocked" and blocked["undo_blocked"]["count"] == 1
    assert blocked["undo_blocked"]["blocking"] == [{"table": "contacts", "id": oc["id"]}]
    assert "changed since the merge" in blocked["undo_blocked"]["message"]
    assert blocked["moved"]["contacts"] == 1
    assert items[free]["undoable"] is True
    assert _ids(api, "rep_north", undoable="true") == [free]
    assert _ids(api, "rep_north", undoable="false") == [mid]
    # the undo refuses with the same blockers
    err = assert_error(api.post(f"/merges/{mid}/undo", user="rep_north"), 409, "merge_undo_blocked")
    assert err["details"]["blocking"] == blocked["undo_blocked"]["blocking"]


def test_keyset_pages_filters_and_bad_input(api, monkeypatch):
    mids = [_merge(api, "rep_north", s=f"分页保留{i}", o=f"分页被并{i}") for i in range(5)]
    c = api.customer(user="rep_north", name="联系人历史客户")
    a = api.contact(c["id"], user="rep_north", name="孙八", mobile="13600002222")
    b = api.contact(c["id"], user="rep_north", name="孙八")
    contact_merge = _merge(api, "rep_north", kind="contact", survivor=a, other=b)
    assert api.post(f"/merges/{mids[1]}/undo", user="rep_north").status_code == 200

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/merges", params=params, user="rep_north").json()
        assert page["total"] == 6 and len(page["items"]) <= 2
        seen += [m["id"] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [contact_merge, *reversed(mids)] and pages == 3

    assert _ids(api, "rep_north", entity_type="contact") == [contact_merge]
    assert _ids(api, "rep_north", entity_type="customer") == list(reversed(mids))
    # the undoable filter pages the same way (decided per merge, counted exactly)
    seen, cursor = [], None
    while True:
        page = api.get("/merges", params={"limit": 2, "undoable": "true", **({"cursor": cursor} if cursor else {})},
                       user="rep_north").json()
        assert page["total"] == 5 and "total_estimated" not in page
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [contact_merge, mids[4], mids[3], mids[2], mids[0]]
    # many candidates: scanned in chunks from the cursor on, the total then estimated (the candidates' count)
    from kith.dedup import router

    monkeypatch.setattr(router, "_UNDOABLE_EXACT_TOTAL", 0)
    monkeypatch.setattr(router, "_SCAN_CHUNK", 2)
    for flag, want in (("true", [contact_merge, mids[4], mids[3], mids[2], mids[0]]), ("false", [mids[1]])):
        seen, cursor = [], None
        while True:
            page = api.get("/merges", params={"limit": 2, "undoable": flag, **({"cursor": cursor} if cursor else {})},
                           user="rep_north").json()
            assert page["total_estimated"] is True and page["total"] == (5 if flag == "true" else 6)
            seen += [m["id"] for m in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == want, flag
    monkeypatch.setattr(router, "_SCAN_MAX", 2)  # a short page with a cursor to go on from
    page = api.get("/merges", params={"limit": 5, "undoable": "false"}, user="rep_north").json()
    assert page["items"] == [] and page["next_cursor"] is not None

    item = api.get("/merges", params={"entity_type": "contact"}, user="rep_north").json()["items"][0]
    assert item["survivor_id"] == a["id"] and item["other_id"] == b["id"] and item["other_name"] == "孙八"
    assert_error(api.get("/merges", params={"cursor": "nonsense"}, user="rep_north"), 400, "invalid_cursor")
    assert_error(api.get("/merges", params={"owner_id": "1"}, user="rep_north"), 400, "invalid_filter")
    assert api.get("/merges", params={"entity_type": "deal"}, user="rep_north").status_code == 422
    assert api.get("/merges", params={"undoable": "maybe"}, user="rep_north").status_code == 422
    assert api.get("/merges", params={"limit": 0}, user="rep_north").status_code == 422


def test_hidden_names_stay_hidden_and_a_role_without_the_module_sees_none(api, db):
    from kith.auth.models import Role

    mid = _merge(api, "rep_north", s="隐名保留", o="隐名被并")
    role = db.query(Role).filter_by(code="sales_rep").one()
    role.field_rights = {**role.field_rights, "customer": {"name": "hidden"}}
    db.commit()
    r = api.get("/merges", user="rep_north")
    assert r.status_code == 200 and [m["id"] for m in r.json()["items"]] == [mid]
    assert "survivor_name" not in r.json()["items"][0] and "隐名" not in r.text
    # a role that reads neither customers nor contacts gets an empty history, never someone else's merges
    from kith.auth.models import User

    role = Role(code="task_only", name="只看任务", permissions={"task": ["read"]}, data_scopes={}, field_rights={})
    user = User(username="task_only", display_name="任务员", password_hash="x", department_id=api.world.depts["north"])
    user.roles = [role]
    db.add(user)
    db.commit()
    api.world.users["task_only"] = user.id
    assert api.get("/merges", user="task_only").json() == {"items": [], "next_cursor": None, "total": 0}
    assert_error(api.get(f"/merges/{mid}", user="task_only"), 404)
