"""Users, departments (a tree with a materialised path), roles and tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kith.db.base import Base, BigID, IdMixin, JSONType, TimestampMixin, VersionedMixin


class Department(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "departments"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("departments.id"), nullable=True, index=True)
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="/", index=True)
    manager_id: Mapped[int | None] = mapped_column(BigID, nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role_id: Mapped[int] = mapped_column(BigID, ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True)


class Role(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "roles"

    code: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    builtin: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # {"customer": ["read", "create", ...], ...}
    permissions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # {"customer": "own" | "dept" | "dept_tree" | "all", ...}
    data_scopes: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # {"contract": {"amount": "hidden" | "read" | "write"}, ...}
    field_rights: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)


class User(IdMixin, TimestampMixin, VersionedMixin, Base):
    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    display_name: Mapped[str] = mapped_column(String(100), nullable=False)
    email: Mapped[str | None] = mapped_column(String(255), nullable=True)
    mobile: Mapped[str | None] = mapped_column(String(32), nullable=True)
    password_hash: Mapped[str] = mapped_column(Text, nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    department_id: Mapped[int | None] = mapped_column(BigID, ForeignKey("departments.id"), nullable=True, index=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False, default="Asia/Shanghai")
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="zh-CN")
    # Incremented to revoke every token of the user at once (password change, deactivation).
    token_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # sha256 of the secret in the user's calendar feed URL (None: no feed)
    calendar_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)

    roles: Mapped[list[Role]] = relationship(secondary="user_roles", lazy="selectin")
    department: Mapped[Department | None] = relationship(foreign_keys=[department_id], lazy="joined")


class RefreshToken(IdMixin, Base):
    __tablename__ = "refresh_tokens"

    user_id: Mapped[int] = mapped_column(BigID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    family_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    issued_at: Mapped[datetime] = mapped_column(nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(nullable=True)


class LoginFailure(Base):
    """Failed sign-ins per username (known or not), for lockout across processes."""

    __tablename__ = "login_failures"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(nullable=True)
