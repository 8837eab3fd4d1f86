"""Password hashing (argon2id) and JWT access tokens with an algorithm allowlist."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kith.config import Settings
from kith.core import clock

ALGORITHMS = ["HS256"]
_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# A hash to compare against when the user does not exist, so timing does not reveal usernames.
DUMMY_HASH = hash_password("kith-dummy-password-for-timing")


def create_access_token(settings: Settings, user_id: int, token_version: int) -> tuple[str, int]:
    now = clock.now()
    ttl = timedelta(minutes=settings.access_token_minutes)
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "tv": token_version,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()) - 5,
        "exp": int((now + ttl).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHMS[0]), int(ttl.total_seconds())


def decode_access_token(settings: Settings, token: str) -> dict[str, Any]:
    """Raises jwt.InvalidTokenError on anything wrong: alg, signature, exp, iss, aud."""
    header = jwt.get_unverified_header(token)
    if header.get("alg") not in ALGORITHMS:
        raise jwt.InvalidAlgorithmError("algorithm not allowed")
    now = clock.now().timestamp()
    claims = jwt.decode(
        token,
        settings.secret_key,
        algorithms=ALGORITHMS,
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
        options={"require": ["exp", "iss", "aud", "sub", "iat"], "verify_exp": False, "verify_nbf": False, "verify_iat": False},
    )
    # Expiry is checked against Kith's clock (which tests can move).
    if claims["exp"] <= now:
        raise jwt.ExpiredSignatureError("token expired")
    return claims


def new_refresh_token() -> tuple[str, str]:
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
