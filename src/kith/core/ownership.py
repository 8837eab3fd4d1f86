"""Owner and owning department of business records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from kith.access import Actor, can
from kith.auth.models import Department, User
from kith.core.errors import FieldError, KithError, validation


def resolve_owner(session: Session, actor: Actor, module: str, owner_id: int | None) -> User:
    """The owner for a new record: the caller, or another active user when the caller may transfer."""
    if owner_id is None or owner_id == actor.user_id:
        user = session.get(User, actor.user_id)
        assert user is not None
        return user
    if not can(actor, module, "transfer"):
        raise KithError(403, "field_forbidden", {"fields": "owner_id"}, fields=[FieldError("owner_id", "protected_field")])
    user = session.get(User, owner_id)
    if user is None or not user.is_active:
        raise validation(FieldError("owner_id", "invalid_reference"))
    return user


def set_owner(session: Session, obj: Any, owner: User) -> None:
    obj.owner_id = owner.id
    obj.department_id = owner.department_id
    dept = session.get(Department, owner.department_id) if owner.department_id else None
    obj.department_path = dept.path if dept else "/"


def copy_owner(obj: Any, parent: Any) -> None:
    """Children (contacts, follow-ups) follow their customer's owner and department."""
    obj.owner_id = parent.owner_id
    obj.department_id = parent.department_id
    obj.department_path = parent.department_path
