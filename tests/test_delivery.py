"""Notification delivery: the outbox (SMTP down then up), WeChat Work robots, signed webhooks, SSRF checks, preferences, SSE."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from conftest import assert_error
from kith.core import clock, jobs
from kith.notifications import delivery
from kith.notifications.models import Delivery, Notification
from kith.notifications.service import notify
from test_jobs import SmtpSink, free_port, job_settings, smtp  # noqa: F401  (fixtures)


class Hook:
    """A local HTTP server that records what it receives and answers as told."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                hook.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
                status, headers, out = hook.answers.get(self.path, (200, {"Content-Type": "application/json"}, b'{"ok":true}'))
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_POST = do_GET = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def hook():
    h = Hook()
    yield h
    h.close()


@pytest.fixture()
def allow_local(job_settings, monkeypatch):  # noqa: F811
    monkeypatch.setattr(job_settings, "webhook_allowlist", "127.0.0.1")
    return job_settings


def _mail_on(monkeypatch, settings, port: int) -> None:
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", port)


def _emails(db, world, **langs) -> None:
    from kith.auth.models import User

    for username, uid in world.users.items():
        u = db.get(User, uid)
        u.email = f"{username}@example.com"
        u.language = langs.get(username, "zh-CN")
    db.commit()


def _notify(db, world, username="rep_north", kind="approval_rejected", **params):
    notify(db, [world.users[username]], kind, params or {"customer_id": 7, "comment": "资料不全"}, link="/approvals/1")
    db.commit()


def _deliveries(db, **where):
    db.expire_all()
    stmt = select(Delivery).order_by(Delivery.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(Delivery, k) == v)
    return list(db.scalars(stmt))


# ---------------------------------------------------------------- e-mail through the outbox

def test_smtp_down_then_up_delivers_exactly_once(world, db, engine, job_settings, smtp, monkeypatch):  # noqa: F811
    _mail_on(monkeypatch, job_settings, smtp.port)  # nothing listens there yet: the mail server is down
    _emails(db, world, rep_north="en")
    _notify(db, world)
    [d] = _deliveries(db, channel="email")
    assert d.status == "pending" and d.attempts == 1 and d.target == "rep_north@example.com"
    assert "SMTP" in d.last_error and "127.0.0.1" in d.last_error
    assert d.next_attempt_at > clock.now()  # backoff before the next try

    assert delivery.deliver_due(db) == {}  # not due yet: nothing sent, nothing lost
    smtp.start()  # the mail server comes back
    clock.advance(timedelta(minutes=1))
    assert jobs.run_periodic("deliver_due", engine=engine) == {"delivered": 1}
    [d] = _deliveries(db, channel="email")
    assert d.status == "delivered" and d.attempts == 2 and d.last_error is None and d.delivered_at is not None
    clock.advance(timedelta(minutes=5))
    assert delivery.deliver_due(db) == {}
    assert len(smtp.messages) == 1 and smtp.messages[0].rcpt_tos == ["rep_north@example.com"]
    mail = smtp.text(smtp.messages[0])
    assert mail.startswith("[Kith] New notification")
    assert "was rejected: 资料不全" in mail and "/approvals/1" in mail  # rendered in the user's language (en)


def test_email_respects_preferences_and_language(api, world, db, job_settings, smtp, monkeypatch):  # noqa: F811
    smtp.start()
    _mail_on(monkeypatch, job_settings, smtp.port)
    _emails(db, world)
    r = api.get("/me/notification-preferences", user="rep_north")
    assert r.status_code == 200
    body = r.json()
    prefs = {i["kind"]: i for i in body["items"]}
    assert prefs["approval_rejected"] == {"kind": "approval_rejected", "in_app": True, "email": True, "wechat_work": False}
    assert body["email_available"] is True

    _notify(db, world)
    assert len(smtp.to("rep_north@example.com")) == 1
    mail = smtp.text(smtp.messages[0])
    assert mail.startswith("[Kith] 新通知") and "驳回：资料不全" in mail and "/approvals/1" in mail  # zh-CN user

    r = api.put("/me/notification-preferences", {"items": [{"kind": "approval_rejected", "email": False}]}, user="rep_north")
    assert r.status_code == 200, r.text
    assert {i["kind"]: i for i in r.json()["items"]}["approval_rejected"]["email"] is False
    _notify(db, world)
    assert len(smtp.to("rep_north@example.com")) == 1  # no second e-mail
    assert db.scalar(select(Notification.id).where(Notification.user_id == world.users["rep_north"]).order_by(Notification.id.desc()))
    # another user's preferences are untouched
    assert {i["kind"]: i for i in api.get("/me/notification-preferences", user="rep_east").json()["items"]}["approval_rejected"]["email"]

    assert_error(api.put("/me/notification-preferences", {"items": [{"kind": "no_such_kind", "email": True}]}, user="rep_north"),
                 422, field="items.0.kind")
    assert_error(api.put("/me/notification-preferences", {"items": [{"kind": "approval_rejected", "email": "maybe"}]},
                         user="rep_north"), 422)
    assert api.get("/me/notification-preferences", user=None).status_code == 401


def test_failed_after_max_attempts_is_kept_visible_and_retryable(api, world, db, job_settings, smtp, monkeypatch):  # noqa: F811
    _mail_on(monkeypatch, job_settings, smtp.port)
    monkeypatch.setattr(job_settings, "delivery_max_attempts", 3)
    _emails(db, world)
    _notify(db, world)
    for _ in range(5):
        clock.advance(timedelta(hours=3))
        delivery.deliver_due(db)
    [d] = _deliveries(db, channel="email")
    assert d.status == "failed" and d.attempts == 3 and d.last_error

    assert_error(api.get("/notification-deliveries?status=failed", user="manager_north"), 403)
    r = api.get("/notification-deliveries?status=failed")
    assert r.status_code == 200 and [i["id"] for i in r.json()["items"]] == [d.id]
    assert r.json()["items"][0]["status"] == "failed"

    smtp.start()
    assert_error(api.post(f"/notification-deliveries/{d.id}/retry", user="rep_north"), 403)
    r = api.post(f"/notification-deliveries/{d.id}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "delivered"  # the retry job ran after the commit (inline in tests)
    assert len(smtp.messages) == 1
    assert_error(api.post(f"/notification-deliveries/{d.id}/retry"), 409)
    assert_error(api.post("/notification-deliveries/999999/retry"), 404)


# ---------------------------------------------------------------- channels: webhooks and WeChat Work robots

def test_webhook_is_signed_and_the_secret_shown_once(api, world, db, allow_local, hook):
    r = api.post("/notification-channels", {"name": "ERP", "type": "webhook", "url": hook.url("/kith"), "kinds": ["approval_rejected"]})
    assert r.status_code == 201, r.text
    created = r.json()
    secret = created["secret"]
    assert len(secret) >= 32 and created["has_secret"] is True
    assert "secret" not in api.get(f"/notification-channels/{created['id']}").json()
    assert all("secret" not in c for c in api.get("/notification-channels").json()["items"])

    _notify(db, world)
    _notify(db, world, kind="approval_next_step", applicant="x")  # a kind this endpoint did not subscribe to
    assert len(hook.requests) == 1
    req = hook.requests[0]
    ts, sig, body = req["headers"]["X-Kith-Timestamp"], req["headers"]["X-Kith-Signature"], req["body"]
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert sig == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["kind"] == "approval_rejected" and payload["user_id"] == world.users["rep_north"]
    assert payload["event"] == "notification.created" and payload["link"] == "/approvals/1"
    assert _deliveries(db, channel="webhook")[0].status == "delivered"
    # a tampered body would not verify
    assert not hmac.compare_digest(sig, "sha256=" + hmac.new(secret.encode(), ts.encode() + b"." + body + b" ", hashlib.sha256).hexdigest())


def test_webhook_down_is_retried(api, world, db, allow_local, hook):
    created = api.post("/notification-channels", {"name": "ERP", "type": "webhook", "url": hook.url("/down")}).json()
    hook.answers["/down"] = (503, {}, b"maintenance")
    _notify(db, world)
    [d] = _deliveries(db, channel="webhook")
    assert d.status == "pending" and "503" in d.last_error and d.channel_id == created["id"]
    hook.answers["/down"] = (204, {}, b"")
    clock.advance(timedelta(minutes=2))
    assert delivery.deliver_due(db) == {"delivered": 1}
    assert len(hook.requests) == 2


def test_wechat_work_robot_payload_and_errcode(api, world, db, allow_local, hook):
    from kith.auth.models import User

    db.get(User, world.users["rep_north"]).mobile = "13800138000"
    db.commit()
    r = api.post("/notification-channels", {"name": "销售群", "type": "wechat_work", "url": hook.url("/cgi-bin/webhook/send?key=abc")})
    assert r.status_code == 201, r.text
    assert "secret" not in r.json()
    hook.answers["/cgi-bin/webhook/send?key=abc"] = (200, {"Content-Type": "application/json"}, b'{"errcode":0,"errmsg":"ok"}')

    _notify(db, world)
    assert hook.requests == []  # WeChat Work is off by default
    assert api.put("/me/notification-preferences", {"items": [{"kind": "approval_rejected", "wechat_work": True}]},
                   user="rep_north").status_code == 200
    _notify(db, world)
    [req] = hook.requests
    payload = json.loads(req["body"])
    assert payload["msgtype"] == "text"
    assert set(payload) == {"msgtype", "text"}
    assert "驳回" in payload["text"]["content"] and payload["text"]["content"].startswith("李销售")
    assert payload["text"]["mentioned_mobile_list"] == ["13800138000"]
    assert _deliveries(db, channel="wechat_work")[0].status == "delivered"

    # the robot answers HTTP 200 with an error code: not delivered, retried
    hook.answers["/cgi-bin/webhook/send?key=abc"] = (200, {"Content-Type": "application/json"}, b'{"errcode":93000,"errmsg":"invalid webhook url"}')
    _notify(db, world)
    d = _deliveries(db, channel="wechat_work")[-1]
    assert d.status == "pending" and "errcode=93000" in d.last_error


def test_channels_are_for_administrators(api, world, allow_local, hook):
    assert_error(api.get("/notification-channels", user="manager_north"), 403)
    assert_error(api.post("/notification-channels", {"name": "x", "type": "webhook", "url": hook.url("/")}, user="rep_north"), 403)
    c = api.post("/notification-channels", {"name": "ERP", "type": "webhook", "url": hook.url("/")}).json()
    assert_error(api.patch(f"/notification-channels/{c['id']}", {"active": False}, user="rep_north"), 403)
    r = api.patch(f"/notification-channels/{c['id']}", {"active": False, "kinds": ["approval_approved"]})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["kinds"] == ["approval_approved"]
    assert_error(api.patch(f"/notification-channels/{c['id']}", {"kinds": ["nope"]}), 422, field="kinds.0")
    assert_error(api.post("/notification-channels", {"name": "x", "type": "email", "url": hook.url("/")}), 422, field="type")
    assert api.delete(f"/notification-channels/{c['id']}").status_code == 204
    assert_error(api.get(f"/notification-channels/{c['id']}"), 404)


# ---------------------------------------------------------------- SSRF

@pytest.mark.parametrize("url", [
    "http://127.0.0.1/hook", "http://localhost:8080/hook", "http://10.1.2.3/hook", "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/hook", "http://[::ffff:127.0.0.1]/hook", "http://[fe80::1]/hook",
    "http://0.0.0.0/hook", "http://224.0.0.1/hook", "http://100.64.0.1/hook", "http://[fd00::1]/hook",
    "http://[64:ff9b::7f00:1]/hook", "http://[2002:a00:1::1]/hook", "http://2130706433/hook",
])
def test_private_targets_are_refused(api, world, job_settings, url):  # noqa: F811
    err = assert_error(api.post("/notification-channels", {"name": "x", "type": "webhook", "url": url}), 422, field="url")
    assert err["fields"][0]["code"] == "url_not_allowed"


@pytest.mark.parametrize("url", ["ftp://example.com/x", "http:///nohost", "not a url", "http://user:pw@example.com/"])
def test_malformed_targets_are_refused(api, world, job_settings, url):  # noqa: F811
    err = assert_error(api.post("/notification-channels", {"name": "x", "type": "webhook", "url": url}), 422, field="url")
    assert err["fields"][0]["code"] == "url_invalid"


def test_allow_list_lets_an_internal_target_through(api, world, job_settings, monkeypatch, hook):  # noqa: F811
    url = hook.url("/in")
    assert_error(api.post("/notification-channels", {"name": "x", "type": "webhook", "url": url}), 422, field="url")
    monkeypatch.setattr(job_settings, "webhook_allowlist", "10.0.0.0/8, 127.0.0.0/8")
    assert api.post("/notification-channels", {"name": "x", "type": "webhook", "url": url}).status_code == 201
    assert api.post("/notification-channels", {"name": "y", "type": "webhook", "url": "http://10.9.9.9/h"}).status_code == 201
    assert_error(api.post("/notification-channels", {"name": "z", "type": "webhook", "url": "http://192.168.0.1/h"}), 422, field="url")
    monkeypatch.setattr(job_settings, "webhook_allowlist", "localhost")  # a host name on the list
    assert api.post("/notification-channels", {"name": "x", "type": "webhook", "url": f"http://localhost:{hook.port}/in"}).status_code == 201


def test_target_is_rechecked_at_delivery_time(api, world, db, job_settings, monkeypatch, hook):  # noqa: F811
    monkeypatch.setattr(job_settings, "webhook_allowlist", "127.0.0.1")
    assert api.post("/notification-channels", {"name": "x", "type": "webhook", "url": hook.url("/later")}).status_code == 201
    monkeypatch.setattr(job_settings, "webhook_allowlist", "")  # the administrator removed it from the allow-list
    _notify(db, world)
    assert hook.requests == []
    [d] = _deliveries(db, channel="webhook")
    assert d.status == "pending" and "url_not_allowed" in d.last_error


def test_redirects_are_revalidated(api, world, db, allow_local, hook):
    api.post("/notification-channels", {"name": "a", "type": "webhook", "url": hook.url("/r1")})
    hook.answers["/r1"] = (307, {"Location": "/r2"}, b"")  # allowed target: followed, the POST body kept
    _notify(db, world)
    assert [r["path"] for r in hook.requests] == ["/r1", "/r2"] and hook.requests[1]["method"] == "POST"
    assert hook.requests[1]["body"] == hook.requests[0]["body"]
    assert _deliveries(db)[-1].status == "delivered"

    hook.requests.clear()
    hook.answers["/r1"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    _notify(db, world)
    assert [r["path"] for r in hook.requests] == ["/r1"]  # the private target was never contacted
    d = _deliveries(db)[-1]
    assert d.status == "pending" and "url_not_allowed" in d.last_error and "169.254.169.254" in d.last_error

    hook.requests.clear()
    hook.answers["/r1"] = (307, {"Location": "/r1"}, b"")  # a loop
    _notify(db, world)
    assert len(hook.requests) == 4 and "redirects" in _deliveries(db)[-1].last_error


# ---------------------------------------------------------------- server-sent events

def _events(response) -> list[dict]:
    out = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if lines.get("event") == "unread":
            out.append(json.loads(lines["data"]))
    return out


def test_stream_pushes_the_unread_count(api, world, db, job_settings, client):  # noqa: F811
    _notify(db, world)
    r = api.get("/notifications/stream?seconds=1", user="rep_north")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r)
    assert events and events[0]["unread"] == 1 and events[0]["latest_id"] > 0

    token = api.post("/notifications/stream-token", user="rep_east").json()["token"]
    r = client.get(f"/api/v1/notifications/stream?seconds=1&token={token}")
    assert r.status_code == 200 and _events(r)[0]["unread"] == 0  # rep_east sees only their own count
    assert client.get("/api/v1/notifications/stream?seconds=1").status_code == 401
    assert client.get("/api/v1/notifications/stream?seconds=1&token=forged").status_code == 401
    # a normal access token is not a stream token
    access = api.headers("rep_east")["Authorization"].split()[1]
    assert client.get(f"/api/v1/notifications/stream?seconds=1&token={access}").status_code == 401
    clock.advance(timedelta(minutes=2))
    assert client.get(f"/api/v1/notifications/stream?seconds=1&token={token}").status_code == 401  # expired


_ = (SmtpSink, free_port)
