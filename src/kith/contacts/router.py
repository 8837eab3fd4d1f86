from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.activities.events import emit
from kith.contacts.models import Contact
from kith.contacts.schemas import ContactCreate, ContactOut, ContactUpdate
from kith.core.listing import F, ListSpec
from kith.core.normalize import display_phone
from kith.core.ownership import copy_owner
from kith.core.resource import Resource, names_by_id
from kith.customers.models import Customer
from kith.customers.service import visible_customer
from kith.customfields.service import apply as apply_custom
from kith.tags.service import set_tags, tag_filter

C = Contact


class ContactResource(Resource):
    path = "contacts"
    timeline_key = "contact_id"
    module = "contact"
    model = Contact
    create_schema = ContactCreate
    update_schema = ContactUpdate
    out_schema = ContactOut
    custom_entity = "contact"
    tag_entity = "contact"
    list_spec = ListSpec(
        model=C, module="contact", searchable=True, custom_entity="contact",
        fields={
            "customer_id": F(C.customer_id, "int", nullable=False),
            "name": F(C.name, nullable=False),
            "title": F(C.title),
            "mobile": F(C.mobile),
            "email": F(C.email),
            "is_primary": F(C.is_primary, "bool", nullable=False),
            "owner_id": F(C.owner_id, "int", nullable=False),
            "created_at": F(C.created_at, "datetime", nullable=False),
            "updated_at": F(C.updated_at, "datetime", nullable=False),
        },
        extra_filters={"tag": tag_filter("contact", C)},
    )

    def context(self, session, actor, objs):
        ctx = super().context(session, actor, objs)
        ids = {o.customer_id for o in objs}
        ctx["customers"] = names_by_id(session, Customer.id, Customer.name, ids)
        return ctx

    def to_dict(self, session: Session, actor: Actor, obj: Contact, ctx: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": obj.id, "customer_id": obj.customer_id, "customer_name": ctx["customers"].get(obj.customer_id),
            "name": obj.name, "title": obj.title, "mobile": obj.mobile, "mobile_display": display_phone(obj.mobile),
            "phone": obj.phone, "phone_display": display_phone(obj.phone), "email": obj.email, "wechat": obj.wechat,
            "is_primary": obj.is_primary, "owner_id": obj.owner_id,
        }

    def create(self, session, actor, data, custom, request):
        customer = visible_customer(session, actor, data.pop("customer_id"))
        tags = data.pop("tags", None)
        contact = Contact(**{k: v for k, v in data.items() if v is not None})
        contact.customer_id = customer.id
        contact.is_primary = bool(data.get("is_primary"))
        contact.custom = apply_custom(session, "contact", {}, custom, creating=True)
        contact.created_by_id = actor.user_id
        copy_owner(contact, customer)
        session.add(contact)
        session.flush()
        if tags:
            set_tags(session, actor, "contact", contact.id, tags)
        emit(session, actor, type="contact.created", entity_type="contact", entity_id=contact.id, customer_id=customer.id,
             summary=contact.name, data={"name": contact.name, "title": contact.title})
        return contact

    def update(self, session, actor, obj, data, custom):
        tags = data.pop("tags", None)
        if "is_primary" in data and data["is_primary"] is None:
            data["is_primary"] = False
        super().update(session, actor, obj, data, custom)
        if tags is not None:
            set_tags(session, actor, "contact", obj.id, tags)
        return obj


contacts = ContactResource()
router = contacts.router()

from kith.contacts.vcard import add_routes as _vcard_routes  # noqa: E402

_vcard_routes(router)  # /contacts/export.vcf and /contacts/{id}/vcard
