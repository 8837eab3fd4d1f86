"""Customer rules: duplicate check on create, owner assignment, timeline events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kith.access import Actor, can, readable
from kith.activities.events import emit
from kith.auth.models import User
from kith.core.errors import KithError
from kith.core.i18n import t
from kith.core.normalize import normalize_company
from kith.core.ownership import resolve_owner, set_owner
from kith.customers.models import Customer
from kith.customfields.service import apply as apply_custom


def find_duplicate(session: Session, name: str | None, phone: str | None, email: str | None, exclude_id: int | None = None) -> tuple[Customer, str] | None:
    conds = []
    key = normalize_company(name) if name else ""
    if key:
        conds.append(Customer.name_key == key)
    if phone:
        conds.append(Customer.phone == phone)
    if email:
        conds.append(Customer.email == email)
    if not conds:
        return None
    stmt = select(Customer).where(or_(*conds), Customer.deleted_at.is_(None))
    if exclude_id:
        stmt = stmt.where(Customer.id != exclude_id)
    match = session.scalars(stmt.order_by(Customer.id).limit(1)).first()
    if match is None:
        return None
    field = "name" if key and match.name_key == key else "phone" if phone and match.phone == phone else "email"
    return match, field


def duplicate_error(session: Session, actor: Actor, match: Customer, field: str) -> KithError:
    owner = session.get(User, match.owner_id)
    owner_name = owner.display_name if owner else "?"
    visible = bool(session.scalar(select(Customer.id).where(Customer.id == match.id, readable(actor, Customer, "customer"))))
    details: dict[str, Any] = {"field": field, "owner": {"id": match.owner_id, "display_name": owner_name},
                               "can_force": can(actor, "customer", "force_duplicate"),
                               # the number alone (no data): lets the caller ask for access through an approval
                               "customer_id": match.id}
    if visible:
        details["customer"] = {"id": match.id, "name": match.name}
    return KithError(409, "duplicate_customer", {"field": t(f"field_{field}"), "owner": owner_name}, details=details)


def create_customer(session: Session, actor: Actor, data: dict[str, Any], custom: dict[str, Any], *, force: bool = False) -> Customer:
    tags = data.pop("tags", None)
    owner = resolve_owner(session, actor, "customer", data.pop("owner_id", None))
    if not (force and can(actor, "customer", "force_duplicate")):
        dup = find_duplicate(session, data.get("name"), data.get("phone"), data.get("email"))
        if dup:
            raise duplicate_error(session, actor, *dup)
    customer = Customer(**data)
    customer.name_key = normalize_company(customer.name)
    customer.custom = apply_custom(session, "customer", {}, custom, creating=True)
    customer.created_by_id = actor.user_id
    set_owner(session, customer, owner)
    session.add(customer)
    session.flush()
    if tags:
        from kith.tags.service import set_tags

        set_tags(session, actor, "customer", customer.id, tags)
    emit(session, actor, type="customer.created", entity_type="customer", entity_id=customer.id, customer_id=customer.id,
         summary=customer.name, data={"name": customer.name})
    return customer


TRACKED = ("name", "status", "level", "industry", "source")


def after_update(session: Session, actor: Actor, customer: Customer, before: dict[str, Any]) -> None:
    if "name" in before:
        customer.name_key = normalize_company(customer.name)
    changes = {k: [before[k], getattr(customer, k)] for k in TRACKED if k in before and before[k] != getattr(customer, k)}
    if changes:
        emit(session, actor, type="customer.updated", entity_type="customer", entity_id=customer.id, customer_id=customer.id,
             summary=customer.name, data={"changes": changes})


def visible_customer(session: Session, actor: Actor, customer_id: int | None, field: str = "customer_id") -> Customer:
    """A customer referenced in a request body: it must exist and be visible, else 422 naming the field."""
    from kith.core.errors import FieldError, validation

    if customer_id is None:
        raise validation(FieldError(field, "required"))
    customer = session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.deleted_at.is_(None), readable(actor, Customer, "customer"))
    )
    if customer is None:
        raise validation(FieldError(field, "invalid_reference"))
    return customer


def transfer(session: Session, actor: Actor, customer: Customer, new_owner: User) -> None:
    """Move a customer to a new owner with its contacts, follow-ups and the old owner's open opportunities."""
    from sqlalchemy import update

    from kith.activities.models import Followup
    from kith.contacts.models import Contact
    from kith.core.ownership import set_owner
    from kith.opportunities.models import Opportunity

    old_owner_id = customer.owner_id
    if old_owner_id == new_owner.id:
        return
    set_owner(session, customer, new_owner)
    values = {"owner_id": customer.owner_id, "department_id": customer.department_id, "department_path": customer.department_path}
    for model in (Contact, Followup):
        session.execute(update(model).where(model.customer_id == customer.id).values(**values).execution_options(synchronize_session=False))
    opps = session.scalars(select(Opportunity).where(Opportunity.customer_id == customer.id, Opportunity.owner_id == old_owner_id,
                                                     Opportunity.status == "open", Opportunity.deleted_at.is_(None)))
    for opp in opps:
        set_owner(session, opp, new_owner)
    old = session.get(User, old_owner_id)
    emit(session, actor, type="customer.transferred", entity_type="customer", entity_id=customer.id, customer_id=customer.id,
         summary=customer.name, data={"changes": {"owner": [old.display_name if old else None, new_owner.display_name]}})
