"""vCard 3.0 export and import of contacts (RFC 2426), built and read with ``vobject``."""

from __future__ import annotations

from typing import Any

import vobject
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, readable, require
from kith.core.deps import current_actor, get_session
from kith.core.errors import KithError
from kith.core.types import RecordId

MEDIA = "text/vcard; charset=utf-8"
MAX_EXPORT = 10_000


def to_vcard(contact: dict[str, Any]) -> vobject.base.Component:
    """A vCard from a serialised contact (hidden fields already stripped: absent keys are left out)."""
    card = vobject.vCard()
    name = contact.get("name") or ""
    card.add("fn").value = name
    # Chinese names carry no given/family split in Kith: the whole name is the family part, like phone books do
    card.add("n").value = vobject.vcard.Name(family=name)
    if contact.get("customer_name"):
        card.add("org").value = [contact["customer_name"]]
    if contact.get("title"):
        card.add("title").value = contact["title"]
    if contact.get("mobile"):
        tel = card.add("tel")
        tel.value = contact["mobile"]
        tel.type_param = "CELL"
    if contact.get("phone"):
        tel = card.add("tel")
        tel.value = contact["phone"]
        tel.type_param = "WORK"
    if contact.get("email"):
        email = card.add("email")
        email.value = contact["email"]
        email.type_param = "INTERNET"
    if contact.get("wechat"):
        card.add("x-wechat").value = contact["wechat"]
    if contact.get("id") is not None:
        card.add("uid").value = f"kith-contact-{contact['id']}"
    return card


def serialize(contacts: list[dict[str, Any]]) -> str:
    return "".join(to_vcard(c).serialize() for c in contacts)


def _types(line: Any) -> set[str]:
    out: set[str] = {str(p).upper() for p in getattr(line, "singletonparams", [])}  # vCard 2.1: TEL;CELL:…
    for t in line.params.get("TYPE", []):
        out.update(p.strip().upper() for p in str(t).split(","))
    return out


def parse(text: str) -> list[dict[str, Any]]:
    """Contacts from vCard text (2.1 / 3.0 / 4.0): name, title, mobile, phone, email, wechat, customer_name.
    Raises ValueError('invalid_vcard') when the text is not vCard."""
    out: list[dict[str, Any]] = []
    try:
        cards = list(vobject.readComponents(text, ignoreUnreadable=True))
    except Exception as exc:  # vobject raises its own ParseError and plain errors on garbage
        raise ValueError("invalid_vcard") from exc
    for card in cards:
        if card.name != "VCARD":
            continue
        rec: dict[str, Any] = {}
        fn = getattr(card, "fn", None)
        if fn is not None and str(fn.value).strip():
            rec["name"] = str(fn.value).strip()
        elif getattr(card, "n", None) is not None:
            n = card.n.value
            rec["name"] = (f"{n.family}{n.given}" if any(ord(c) > 0x2E80 for c in f"{n.family}{n.given}")
                           else " ".join(p for p in (n.given, n.family) if p)).strip()
        if getattr(card, "org", None) is not None:
            org = card.org.value
            rec["customer_name"] = (org[0] if isinstance(org, list) else str(org)).strip() or None
        if getattr(card, "title", None) is not None:
            rec["title"] = str(card.title.value).strip() or None
        for tel in card.contents.get("tel", []):
            value = str(tel.value).strip()
            if value.lower().startswith("tel:"):
                value = value[4:]
            kinds = _types(tel)
            key = "mobile" if "CELL" in kinds or "MOBILE" in kinds else "phone"
            if not rec.get(key):
                rec[key] = value
            elif key == "phone" and not rec.get("mobile"):
                rec["mobile"] = value
        for email in card.contents.get("email", []):
            if not rec.get("email"):
                rec["email"] = str(email.value).strip()
        wechat = card.contents.get("x-wechat")
        if wechat:
            rec["wechat"] = str(wechat[0].value).strip()
        uid = getattr(card, "uid", None)
        if uid is not None:
            rec["uid"] = str(uid.value)
        if rec.get("name"):
            out.append(rec)
    return out


def _filename(name: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"contact.vcf\"; filename*=UTF-8''{quote(name)}.vcf"


def add_routes(router: APIRouter) -> None:
    """GET /contacts/export.vcf and /contacts/{id}/vcard, placed before /contacts/{record_id}."""
    from kith.contacts.models import Contact
    from kith.contacts.router import contacts as res

    def export_vcf(
        customer_id: RecordId | None = Query(None),
        actor: Actor = Depends(current_actor),
        session: Session = Depends(get_session),
    ) -> Response:
        require(actor, "contact", "read")
        require(actor, "contact", "export")
        stmt = select(Contact).where(readable(actor, Contact, "contact"), Contact.deleted_at.is_(None))
        if customer_id is not None:
            stmt = stmt.where(Contact.customer_id == customer_id)
        objs = list(session.scalars(stmt.order_by(Contact.id).limit(MAX_EXPORT + 1)))
        if len(objs) > MAX_EXPORT:
            raise KithError(422, "validation_error", message_key="validation_error")
        body = serialize(res.serialize_many(session, actor, objs))
        from kith.audit import service as audit

        audit.record(session, "export", entity_type="contact", changes={"rows": len(objs), "format": "vcf"})
        session.commit()
        return Response(body.encode(), media_type=MEDIA,
                        headers={"Content-Disposition": 'attachment; filename="contacts.vcf"'})

    def contact_vcard(
        record_id: RecordId,
        actor: Actor = Depends(current_actor),
        session: Session = Depends(get_session),
    ) -> Response:
        obj = res.get_visible(session, actor, record_id)
        data = res.serialize(session, actor, obj)
        return Response(serialize([data]).encode(), media_type=MEDIA,
                        headers={"Content-Disposition": _filename(obj.name)})

    before = len(router.routes)
    router.add_api_route("/export.vcf", export_vcf, methods=["GET"], response_class=Response,
                         summary="Export the contacts you can read as vCard (your field rights apply)",
                         operation_id="export_contacts_vcard", tags=["contacts"],
                         responses={200: {"content": {"text/vcard": {}}}})
    router.add_api_route("/{record_id}/vcard", contact_vcard, methods=["GET"], response_class=Response,
                         summary="One contact as a vCard", operation_id="contact_vcard", tags=["contacts"],
                         responses={200: {"content": {"text/vcard": {}}}})
    added = router.routes[before:]
    del router.routes[before:]
    router.routes[0:0] = added  # before /contacts/{record_id}
