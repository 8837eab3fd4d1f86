"""Sign-in, tokens and sessions as API.md promises them: login, lockout, refresh rotation with reuse
detection, logout, JWT validation, /me, password change and deactivation revoking tokens, and
localised error messages."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import jwt
import pytest

from conftest import PASSWORD, assert_error
from kith.auth.models import User
from kith.core import clock

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/me"
CJK = re.compile(r"[\u4e00-\u9fff]")


def login(client, username="rep_north", password=PASSWORD, headers=None):
    return client.post(LOGIN, json={"username": username, "password": password}, headers=headers or {})


def tokens(client, username="rep_north") -> dict:
    r = login(client, username)
    assert r.status_code == 200, r.text
    return r.json()


def me(client, access: str, headers=None):
    return client.get(ME, headers={"Authorization": f"Bearer {access}", **(headers or {})})


def refresh(client, token: str):
    return client.post(REFRESH, json={"refresh_token": token})


def claims_for(world, settings, username="rep_north", **override) -> dict:
    user = world.session.get(User, world.users[username])
    world.session.refresh(user)
    now = int(clock.now().timestamp())
    base = {"sub": str(user.id), "tv": user.token_version, "iss": settings.jwt_issuer, "aud": settings.jwt_audience,
            "iat": now, "nbf": now - 5, "exp": now + 600, "jti": uuid.uuid4().hex}
    base.update(override)
    return base


# ---- login -----------------------------------------------------------------------------------
def test_login_returns_the_token_pair(client, world):
    r = login(client)
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert isinstance(body["expires_in"], int) and body["expires_in"] == 15 * 60
    assert body["access_token"] and body["refresh_token"] and body["access_token"] != body["refresh_token"]
    got = me(client, body["access_token"])
    assert got.status_code == 200 and got.json()["username"] == "rep_north"


def test_login_username_is_case_insensitive(client, world):
    assert login(client, "Rep_North").status_code == 200


def test_wrong_password_is_401(client, world):
    assert_error(login(client, password="wrong-password"), 401, "invalid_credentials")


def test_unknown_user_is_401_like_a_wrong_password(client, world):
    unknown = assert_error(login(client, username="nobody_here"), 401, "invalid_credentials")
    wrong = assert_error(login(client, password="wrong-password"), 401, "invalid_credentials")
    assert unknown["message"] == wrong["message"]  # no way to tell which usernames exist


def test_login_validates_its_body(client, world):
    assert_error(client.post(LOGIN, json={"username": "rep_north"}), 422, "validation_error", "password")
    assert_error(client.post(LOGIN, content=b"{not json", headers={"Content-Type": "application/json"}), 422, "validation_error")


def test_five_failures_lock_the_account_then_the_lock_lapses(client, world):
    for _ in range(5):
        assert_error(login(client, password="wrong-password"), 401, "invalid_credentials")
    locked = login(client)  # the right password does not help while locked
    assert_error(locked, 429, "account_locked")
    retry_after = int(locked.headers["Retry-After"])
    assert 0 < retry_after <= 16 * 60
    clock.advance(timedelta(minutes=14))
    assert_error(login(client), 429, "account_locked")
    clock.advance(timedelta(minutes=1, seconds=5))
    r = login(client)
    assert r.status_code == 200, r.text


def test_lockout_is_per_user(client, world):
    for _ in range(5):
        login(client, password="wrong-password")
    assert_error(login(client), 429, "account_locked")
    assert login(client, "rep_east").status_code == 200


def test_a_successful_login_resets_the_failure_count(client, world):
    for _ in range(4):
        assert_error(login(client, password="wrong-password"), 401)
    assert login(client).status_code == 200
    for _ in range(4):
        assert_error(login(client, password="wrong-password"), 401)
    assert login(client).status_code == 200


# ---- refresh rotation ----------------------------------------------------------------------------
def test_refresh_gives_a_new_pair_and_the_old_refresh_token_stops_working(client, world):
    first = tokens(client)
    r = refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert set(second) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert me(client, second["access_token"]).status_code == 200
    assert_error(refresh(client, first["refresh_token"]), 401)


def test_refresh_chain_keeps_working(client, world):
    pair = tokens(client)
    for _ in range(3):
        r = refresh(client, pair["refresh_token"])
        assert r.status_code == 200, r.text
        pair = r.json()
    assert me(client, pair["access_token"]).status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(client, world):
    first = tokens(client)
    second = refresh(client, first["refresh_token"]).json()
    third = refresh(client, second["refresh_token"]).json()
    other_session = tokens(client)  # another device: a different family
    assert_error(refresh(client, first["refresh_token"]), 401)  # reuse: someone has a copy
    assert_error(refresh(client, third["refresh_token"]), 401)  # the newest token of that family is dead too
    r = refresh(client, other_session["refresh_token"])
    assert r.status_code == 200, r.text


def test_unknown_refresh_token_is_401(client, world):
    assert_error(refresh(client, "not-a-real-refresh-token"), 401)


def test_logout_revokes_the_refresh_token(client, world):
    pair = tokens(client)
    r = client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 204
    assert_error(refresh(client, pair["refresh_token"]), 401)


# ---- access tokens ---------------------------------------------------------------------------------
def test_a_well_formed_token_is_accepted(client, world, settings):
    """The control for the refusals below: the same claims, correctly signed, work."""
    token = jwt.encode(claims_for(world, settings), settings.secret_key, algorithm="HS256")
    r = me(client, token)
    assert r.status_code == 200 and r.json()["username"] == "rep_north"


def test_alg_none_is_refused(client, world, settings):
    token = jwt.encode(claims_for(world, settings), None, algorithm="none")
    assert_error(me(client, token), 401)
    # and the "signature stripped" variant of a real token
    real = jwt.encode(claims_for(world, settings), settings.secret_key, algorithm="HS256")
    header_none = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    stripped = ".".join([header_none, real.split(".")[1], ""])
    assert_error(me(client, stripped), 401)


def test_other_algorithms_are_refused(client, world, settings):
    token = jwt.encode(claims_for(world, settings), settings.secret_key, algorithm="HS512")
    assert_error(me(client, token), 401)


def test_a_token_signed_with_another_key_is_refused(client, world, settings):
    token = jwt.encode(claims_for(world, settings), "some-other-secret-key-" + "y" * 32, algorithm="HS256")
    assert_error(me(client, token), 401, "invalid_token")


@pytest.mark.parametrize("claim, value", [("iss", "someone-else"), ("aud", "another-api"), ("sub", "not-a-number"), ("tv", 99)])
def test_a_token_with_wrong_claims_is_refused(client, world, settings, claim, value):
    token = jwt.encode(claims_for(world, settings, **{claim: value}), settings.secret_key, algorithm="HS256")
    assert_error(me(client, token), 401, "invalid_token")


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub"])
def test_a_token_missing_a_required_claim_is_refused(client, world, settings, claim):
    claims = claims_for(world, settings)
    del claims[claim]
    assert_error(me(client, jwt.encode(claims, settings.secret_key, algorithm="HS256")), 401, "invalid_token")


def test_an_expired_token_is_refused(client, world):
    access = tokens(client)["access_token"]
    clock.advance(timedelta(minutes=14))
    assert me(client, access).status_code == 200
    clock.advance(timedelta(minutes=1, seconds=1))
    assert_error(me(client, access), 401, "invalid_token")


def test_an_expired_token_is_refused_when_built_by_hand(client, world, settings):
    past = int(clock.now().timestamp()) - 10
    token = jwt.encode(claims_for(world, settings, exp=past, iat=past - 900), settings.secret_key, algorithm="HS256")
    assert_error(me(client, token), 401, "invalid_token")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Bearer garbage", "Bearer a.b.c", "Basic cmVwOnBhc3M=",
                                    "bearer.eyJhbGciOiJIUzI1NiJ9", "Token abc"])
def test_missing_or_garbage_authorization_is_401(client, world, header):
    headers = {} if header is None else {"Authorization": header}
    r = client.get(ME, headers=headers)
    assert_error(r, 401)
    r = client.get("/api/v1/customers", headers=headers)
    assert_error(r, 401)


# ---- /me ------------------------------------------------------------------------------------------
def test_me_lists_roles_permissions_and_field_rights(client, world):
    body = me(client, tokens(client, "rep_north")["access_token"]).json()
    assert body["username"] == "rep_north" and body["id"] == world.users["rep_north"]
    assert [r["code"] for r in body["roles"]] == ["sales_rep"]
    assert "create" in body["permissions"]["customer"]
    assert body["field_rights"]["contract"]["amount"] == "hidden"
    assert "password_hash" not in body


def test_finance_reads_contract_amounts(client, world):
    body = me(client, tokens(client, "finance")["access_token"]).json()
    assert [r["code"] for r in body["roles"]] == ["finance"]
    assert body["field_rights"]["contract"]["amount"] == "read"


# ---- password change and deactivation ---------------------------------------------------------------
def test_changing_the_password_revokes_old_tokens(client, world):
    pair = tokens(client)
    other = tokens(client)
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    r = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "a-new-pass-2026"}, headers=auth)
    assert r.status_code == 204, r.text
    assert_error(me(client, pair["access_token"]), 401)
    assert_error(me(client, other["access_token"]), 401)
    assert_error(refresh(client, pair["refresh_token"]), 401)
    assert_error(refresh(client, other["refresh_token"]), 401)
    assert_error(login(client), 401, "invalid_credentials")
    assert login(client, password="a-new-pass-2026").status_code == 200


def test_changing_the_password_needs_the_current_one(client, world):
    pair = tokens(client)
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    r = client.post("/api/v1/me/password", json={"current_password": "wrong", "new_password": "a-new-pass-2026"}, headers=auth)
    assert_error(r, 422, "validation_error", "current_password")
    r = client.post("/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "short"}, headers=auth)
    assert_error(r, 422, "validation_error", "new_password")
    assert me(client, pair["access_token"]).status_code == 200  # nothing changed
    assert login(client).status_code == 200


def test_deactivating_a_user_kills_their_tokens(client, world, api):
    pair = tokens(client, "rep_north")
    assert me(client, pair["access_token"]).status_code == 200
    uid = world.users["rep_north"]
    got = api.get(f"/users/{uid}")
    assert got.status_code == 200, got.text
    r = api.patch(f"/users/{uid}", {"is_active": False}, headers={"If-Match": got.headers["ETag"]})
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert_error(me(client, pair["access_token"]), 401)
    assert_error(refresh(client, pair["refresh_token"]), 401)
    assert_error(login(client, "rep_north"), 401)


# ---- localisation ---------------------------------------------------------------------------------
def test_error_messages_are_localised(client, world):
    zh = assert_error(login(client, password="wrong-password"), 401, "invalid_credentials")
    assert CJK.search(zh["message"]), zh
    en = assert_error(login(client, password="wrong-password", headers={"Accept-Language": "en"}), 401, "invalid_credentials")
    assert not CJK.search(en["message"]) and en["message"].isascii(), en
    assert en["message"] != zh["message"]
    en_us = assert_error(login(client, password="wrong-password", headers={"Accept-Language": "en-US,en;q=0.9"}), 401)
    assert en_us["message"] == en["message"]


def test_field_messages_are_localised_too(client, world):
    en = client.post(LOGIN, json={"username": "rep_north"}, headers={"Accept-Language": "en"})
    err = assert_error(en, 422, "validation_error", "password")
    assert all(f["message"].isascii() for f in err["fields"]), err
    zh = client.post(LOGIN, json={"username": "rep_north"})
    err = assert_error(zh, 422, "validation_error", "password")
    assert all(CJK.search(f["message"]) for f in err["fields"]), err


def test_unauthorised_message_is_localised(client, world):
    zh = assert_error(client.get(ME), 401)
    en = assert_error(client.get(ME, headers={"Accept-Language": "en"}), 401)
    assert CJK.search(zh["message"]) and en["message"].isascii()


