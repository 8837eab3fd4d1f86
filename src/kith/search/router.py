"""GET /search: one box over customers, contacts and opportunities, within the caller's scope."""

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, can, readable
from kith.access.gate import hidden_fields
from kith.contacts.models import Contact
from kith.core.deps import read_request, token_claims
from kith.core.responses import FastJSONResponse
from kith.core.normalize import display_phone
from kith.customers.models import Customer
from kith.opportunities.models import Opportunity
from kith.search.index import match

router = APIRouter(tags=["search"])


class Hit(BaseModel):
    type: str
    id: int
    title: str
    subtitle: str | None = None


class SearchOut(BaseModel):
    items: list[Hit]


@router.get("/search", response_model=SearchOut, summary="Global search: Chinese, pinyin, initials, phone fragments, e-mail")
async def search(
    request: Request,
    q: str = Query(..., min_length=1, max_length=100),
    limit: int = Query(8, ge=1, le=50, description="per record type"),
    types: str = Query("customer,contact,opportunity", max_length=100),
    claims: dict[str, Any] = Depends(token_claims),
) -> Any:
    return await read_request(request, claims, lambda session, actor: _search(session, actor, q, limit, types))


def _search(session: Session, actor: Actor, q: str, limit: int, types: str) -> Any:
    wanted = {t.strip() for t in types.split(",")}
    items: list[dict[str, Any]] = []
    # subtitles show only fields the caller may see, and a match reaches only values they may see (field rights apply
    # to search too: match() searches names only when a searchable field is hidden, ADR 0026)
    hidden_c, hidden_k = hidden_fields(actor, "customer"), hidden_fields(actor, "contact")

    def shown(hidden: set[str], field: str, value: Any) -> Any:
        return None if field in hidden else value

    if "customer" in wanted and can(actor, "customer", "read"):
        rows = session.scalars(select(Customer).where(match(session, Customer, q, actor), Customer.deleted_at.is_(None),
                                                      readable(actor, Customer, "customer")).order_by(Customer.id.desc()).limit(limit))
        items += [{"type": "customer", "id": c.id, "title": c.name,
                   "subtitle": " · ".join(x for x in (shown(hidden_c, "city", c.city) or shown(hidden_c, "province", c.province),
                                                      shown(hidden_c, "phone", display_phone(c.phone))) if x) or None} for c in rows]
    if "contact" in wanted and can(actor, "contact", "read"):
        rows2 = session.execute(select(Contact, Customer.name).join(Customer, Customer.id == Contact.customer_id)
                                .where(match(session, Contact, q, actor), Contact.deleted_at.is_(None), readable(actor, Contact, "contact"))
                                .order_by(Contact.id.desc()).limit(limit)).all()
        items += [{"type": "contact", "id": k.id, "title": k.name,
                   "subtitle": " · ".join(x for x in (cname, shown(hidden_k, "mobile", display_phone(k.mobile))) if x) or None}
                  for k, cname in rows2]
    if "opportunity" in wanted and can(actor, "opportunity", "read"):
        rows3 = session.execute(select(Opportunity, Customer.name).join(Customer, Customer.id == Opportunity.customer_id)
                                .where(match(session, Opportunity, q, actor), Opportunity.deleted_at.is_(None),
                                       readable(actor, Opportunity, "opportunity")).order_by(Opportunity.id.desc()).limit(limit)).all()
        items += [{"type": "opportunity", "id": o.id, "title": o.name, "subtitle": cname} for o, cname in rows3]
    return FastJSONResponse({"items": items})
