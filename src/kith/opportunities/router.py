from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor, can, check_write, readable, require, strip
from kith.activities.events import emit
from kith.contacts.models import Contact
from kith.core.types import RecordId
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.listing import F, ListSpec
from kith.core.ownership import resolve_owner, set_owner
from kith.core.resource import Resource, etag_of, jsonable, parse_if_match, names_by_id
from kith.customers.models import Customer
from kith.customers.service import visible_customer
from kith.customfields.service import apply as apply_custom
from kith.opportunities import service
from kith.opportunities.models import Opportunity, OpportunityContact, QuoteLine, Stage
from kith.opportunities.schemas import ContactLinkIn, OpportunityCreate, OpportunityOut, OpportunityUpdate, QuoteLineIn, StageMove
from kith.products.models import Product
from kith.tags.service import set_tags, tag_filter

O = Opportunity
Q2 = Decimal("0.01")


class OpportunityResource(Resource):
    path = "opportunities"
    timeline_key = "opportunity_id"
    module = "opportunity"
    collaborators = "opportunity"
    model = Opportunity
    create_schema = OpportunityCreate
    update_schema = OpportunityUpdate
    out_schema = OpportunityOut
    custom_entity = "opportunity"
    tag_entity = "opportunity"
    list_spec = ListSpec(
        model=O, module="opportunity", searchable=True, custom_entity="opportunity",
        fields={
            "customer_id": F(O.customer_id, "int", nullable=False),
            "name": F(O.name, nullable=False),
            "amount": F(O.amount, "decimal"),
            "currency": F(O.currency, nullable=False),
            "expected_close_date": F(O.expected_close_date, "date"),
            "pipeline_id": F(O.pipeline_id, "int", nullable=False),
            "stage_id": F(O.stage_id, "int", nullable=False),
            "status": F(O.status, nullable=False),
            "next_action_due": F(O.next_action_due, "datetime"),
            "owner_id": F(O.owner_id, "int", nullable=False),
            "created_at": F(O.created_at, "datetime", nullable=False),
            "updated_at": F(O.updated_at, "datetime", nullable=False),
        },
        extra_filters={"tag": tag_filter("opportunity", O)},
    )

    def context(self, session, actor, objs):
        ctx = super().context(session, actor, objs)
        cids = {o.customer_id for o in objs}
        ctx["customers"] = names_by_id(session, Customer.id, Customer.name, cids)
        sids = {o.stage_id for o in objs}
        ctx["stages"] = {s.id: s for s in session.scalars(select(Stage).where(Stage.id.in_(sids)))} if sids else {}
        return ctx

    def to_dict(self, session: Session, actor: Actor, obj: Opportunity, ctx: dict[str, Any]) -> dict[str, Any]:
        st = ctx["stages"].get(obj.stage_id)
        return {
            "id": obj.id, "customer_id": obj.customer_id, "customer_name": ctx["customers"].get(obj.customer_id), "name": obj.name,
            "amount": obj.amount, "currency": obj.currency, "expected_close_date": obj.expected_close_date,
            "pipeline_id": obj.pipeline_id, "stage_id": obj.stage_id,
            "stage": {"id": st.id, "name": st.name, "name_en": st.name_en, "probability": st.probability, "kind": st.kind} if st else None,
            "status": obj.status, "next_action": obj.next_action, "next_action_due": obj.next_action_due,
            "lost_reason": obj.lost_reason, "closed_at": obj.closed_at, "stage_changed_at": obj.stage_changed_at, "owner_id": obj.owner_id,
        }

    def create(self, session, actor, data, custom, request):
        customer = visible_customer(session, actor, data.pop("customer_id"))
        tags = data.pop("tags", None)
        owner = resolve_owner(session, actor, "opportunity", data.pop("owner_id", None))
        pipeline_id = data.pop("pipeline_id", None)
        stage_id = data.pop("stage_id", None)
        if pipeline_id is None:
            pipeline_id = service.stage_of(session, stage_id, None).pipeline_id if stage_id else service.default_pipeline(session).id
        stage = service.stage_of(session, stage_id, pipeline_id) if stage_id else service.first_stage(session, pipeline_id)
        opp = Opportunity(**data)
        opp.customer_id = customer.id
        opp.pipeline_id = pipeline_id
        opp.stage_id = stage.id
        opp.status = {"open": "open", "won": "won", "lost": "lost"}[stage.kind]
        from kith.core import clock

        opp.stage_changed_at = clock.now()
        if stage.kind == "open":
            service.require_next_action(opp.next_action, opp.next_action_due)
        opp.custom = apply_custom(session, "opportunity", {}, custom, creating=True)
        opp.created_by_id = actor.user_id
        set_owner(session, opp, owner)
        session.add(opp)
        session.flush()
        from kith.core import clock
        from kith.opportunities.models import StageHistory

        session.add(StageHistory(opportunity_id=opp.id, from_stage_id=None, to_stage_id=stage.id, changed_at=clock.now(), changed_by_id=actor.user_id,
                                 next_action=opp.next_action))
        if tags:
            set_tags(session, actor, "opportunity", opp.id, tags)
        emit(session, actor, type="opportunity.created", entity_type="opportunity", entity_id=opp.id, customer_id=customer.id,
             summary=opp.name, data={"name": opp.name, "amount": opp.amount, "stage": stage.name})
        return opp

    def update(self, session, actor, obj, data, custom):
        tags = data.pop("tags", None)
        stage_id = data.pop("stage_id", None)
        lost_reason = data.pop("lost_reason", None)
        before = {k: getattr(obj, k) for k in data}
        super().update(session, actor, obj, data, custom)
        if stage_id is not None:
            stage = service.stage_of(session, stage_id, obj.pipeline_id)
            service.apply_stage(session, actor, obj, stage, next_action=obj.next_action, next_action_due=obj.next_action_due, lost_reason=lost_reason)
        elif lost_reason is not None:
            obj.lost_reason = lost_reason
        service.check_open_has_next_action(obj)
        diff = service.changes(before, obj)
        if diff:
            emit(session, actor, type="opportunity.updated", entity_type="opportunity", entity_id=obj.id, customer_id=obj.customer_id,
                 summary=obj.name, data={"changes": diff})
        if tags is not None:
            set_tags(session, actor, "opportunity", obj.id, tags)
        return obj

    def after_update(self, session, actor, obj, before):
        pass

    def extra_routes(self, router: APIRouter) -> None:
        res = self

        @router.post("/{record_id}/stage", response_model=OpportunityOut, summary="Move along the pipeline (the board's drag-and-drop)",
                     operation_id="move_opportunity_stage")
        def move_stage(record_id: RecordId, body: StageMove, request: Request, actor: Actor = Depends(current_actor),
                       session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            expected = parse_if_match(request.headers.get("if-match"))
            expected = expected if expected is not None else body.version
            if expected is not None and expected != opp.version:
                raise KithError(412, "precondition_failed", headers={"ETag": etag_of(opp)})
            check_write(actor, "opportunity", [k for k in ("next_action", "next_action_due", "lost_reason") if getattr(body, k) is not None])
            stage = service.stage_of(session, body.stage_id, opp.pipeline_id)
            service.apply_stage(session, actor, opp, stage, next_action=body.next_action, next_action_due=body.next_action_due,
                                lost_reason=body.lost_reason)
            session.flush()
            payload = res.serialize(session, actor, opp)
            session.commit()
            return JSONResponse(payload, headers={"ETag": etag_of(opp)})

        @router.get("/{record_id}/stage-history", summary="The opportunity's stage history", operation_id="opportunity_stage_history")
        def stage_history(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            from kith.opportunities.models import StageHistory

            res.get_visible(session, actor, record_id, deleted=None)
            rows = session.scalars(select(StageHistory).where(StageHistory.opportunity_id == record_id).order_by(StageHistory.id))
            return JSONResponse({"items": [{"id": r.id, "from_stage_id": r.from_stage_id, "to_stage_id": r.to_stage_id,
                                            "changed_at": jsonable(r.changed_at), "changed_by_id": r.changed_by_id,
                                            "next_action": r.next_action} for r in rows]})

        # ---- contacts with their role in this deal -------------------------------------------
        def _contacts(session: Session, opp: Opportunity) -> list[dict[str, Any]]:
            rows = session.execute(
                select(OpportunityContact, Contact).join(Contact, Contact.id == OpportunityContact.contact_id)
                .where(OpportunityContact.opportunity_id == opp.id, Contact.deleted_at.is_(None)).order_by(OpportunityContact.id)
            ).all()
            return [{"contact_id": c.id, "name": c.name, "title": c.title, "role": link.role, "note": link.note} for link, c in rows]

        @router.get("/{record_id}/contacts", summary="Contacts in this deal with their roles", operation_id="opportunity_contacts")
        def list_contacts(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id, deleted=None)
            return JSONResponse({"items": _contacts(session, opp)})

        @router.put("/{record_id}/contacts/{contact_id}", summary="Link a contact to this deal, with their role", operation_id="link_opportunity_contact")
        def link_contact(record_id: RecordId, contact_id: RecordId, body: ContactLinkIn, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            contact = session.scalar(select(Contact).where(Contact.id == contact_id, Contact.deleted_at.is_(None),
                                                           readable(actor, Contact, "contact")))
            if contact is None:
                raise not_found()
            if contact.customer_id != opp.customer_id:
                raise validation(FieldError("contact_id", "invalid_reference"))
            link = session.scalar(select(OpportunityContact).where(OpportunityContact.opportunity_id == opp.id,
                                                                   OpportunityContact.contact_id == contact.id))
            if link is None:
                link = OpportunityContact(opportunity_id=opp.id, contact_id=contact.id)
                session.add(link)
            link.role, link.note = body.role, body.note
            session.flush()
            payload = {"items": _contacts(session, opp)}
            session.commit()
            return JSONResponse(payload)

        @router.delete("/{record_id}/contacts/{contact_id}", status_code=204, response_model=None, summary="Unlink a contact", operation_id="unlink_opportunity_contact")
        def unlink_contact(record_id: RecordId, contact_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            link = session.scalar(select(OpportunityContact).where(OpportunityContact.opportunity_id == opp.id,
                                                                   OpportunityContact.contact_id == contact_id))
            if link is None:
                raise not_found()
            session.delete(link)
            session.commit()
            return Response(status_code=204)

        # ---- quote lines -----------------------------------------------------------------------
        def _line(actor: Actor, line: QuoteLine, names: dict[int, str]) -> dict[str, Any]:
            data = {"id": line.id, "opportunity_id": line.opportunity_id, "product_id": line.product_id,
                    "product_name": names.get(line.product_id) if line.product_id else None, "description": line.description,
                    "quantity": str(line.quantity.normalize()) if line.quantity is not None else None, "unit_price": line.unit_price,
                    "discount_percent": line.discount_percent, "amount": line.amount, "position": line.position, "note": line.note,
                    "version": line.version}
            return {k: jsonable(v) for k, v in strip(actor, "quote_line", data).items()}

        def _lines(session: Session, actor: Actor, opp: Opportunity) -> dict[str, Any]:
            lines = list(session.scalars(select(QuoteLine).where(QuoteLine.opportunity_id == opp.id).order_by(QuoteLine.position, QuoteLine.id)))
            pids = {l.product_id for l in lines if l.product_id}
            names = names_by_id(session, Product.id, Product.name, pids)
            out: dict[str, Any] = {"items": [_line(actor, l, names) for l in lines]}
            from kith.access.gate import hidden_fields

            if "amount" not in hidden_fields(actor, "quote_line"):
                out["total"] = jsonable(sum((l.amount for l in lines), Decimal("0")))
            return out

        def _apply_line(session: Session, actor: Actor, line: QuoteLine, body: QuoteLineIn, creating: bool) -> None:
            sent = body.model_fields_set - {"version"}
            check_write(actor, "quote_line", sent)
            if body.product_id is not None:
                product = session.get(Product, body.product_id)
                if product is None or product.deleted_at is not None:
                    raise validation(FieldError("product_id", "invalid_reference"))
                line.product_id = product.id
                if creating and body.unit_price is None:
                    line.unit_price = product.price
                if creating and not body.description:
                    line.description = product.name
            for key in ("description", "quantity", "unit_price", "discount_percent", "note"):
                if key in sent and getattr(body, key) is not None:
                    setattr(line, key, getattr(body, key))
            if line.quantity is None:
                line.quantity = Decimal(1)
            if line.unit_price is None:
                line.unit_price = Decimal(0)
            if line.discount_percent is None:
                line.discount_percent = Decimal(0)
            if line.discount_percent > 100:
                raise validation(FieldError("discount_percent", "invalid_number"))
            if not line.description:
                raise validation(FieldError("description", "required"))
            line.amount = (line.quantity * line.unit_price * (100 - line.discount_percent) / 100).quantize(Q2)

        @router.get("/{record_id}/quote-lines", summary="Quote lines of this deal", operation_id="list_quote_lines")
        def list_lines(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id, deleted=None)
            return JSONResponse(_lines(session, actor, opp))

        @router.post("/{record_id}/quote-lines", status_code=201, summary="Add a quote line", operation_id="add_quote_line")
        def add_line(record_id: RecordId, body: QuoteLineIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            line = QuoteLine(opportunity_id=opp.id, position=0, quantity=None, unit_price=None, discount_percent=None, description="")
            _apply_line(session, actor, line, body, creating=True)
            session.add(line)
            session.flush()
            emit(session, actor, type="quote.changed", entity_type="opportunity", entity_id=opp.id, customer_id=opp.customer_id,
                 summary=opp.name, data={"action": "added", "description": line.description})
            payload = _lines(session, actor, opp)
            session.commit()
            return JSONResponse(payload, status_code=201)

        @router.patch("/{record_id}/quote-lines/{line_id}", summary="Change a quote line", operation_id="update_quote_line")
        def change_line(record_id: RecordId, line_id: RecordId, body: QuoteLineIn, request: Request, actor: Actor = Depends(current_actor),
                        session: Session = Depends(get_session)) -> Any:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            line = session.scalar(select(QuoteLine).where(QuoteLine.id == line_id, QuoteLine.opportunity_id == opp.id))
            if line is None:
                raise not_found()
            expected = parse_if_match(request.headers.get("if-match"))
            expected = expected if expected is not None else body.version
            if expected is not None and expected != line.version:
                raise KithError(412, "precondition_failed")
            _apply_line(session, actor, line, body, creating=False)
            emit(session, actor, type="quote.changed", entity_type="opportunity", entity_id=opp.id, customer_id=opp.customer_id,
                 summary=opp.name, data={"action": "changed", "description": line.description})
            session.flush()
            payload = _lines(session, actor, opp)
            session.commit()
            return JSONResponse(payload)

        @router.delete("/{record_id}/quote-lines/{line_id}", status_code=204, response_model=None, summary="Remove a quote line", operation_id="delete_quote_line")
        def remove_line(record_id: RecordId, line_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
            opp = res.get_visible(session, actor, record_id)
            res.require_writable(session, actor, opp)
            line = session.scalar(select(QuoteLine).where(QuoteLine.id == line_id, QuoteLine.opportunity_id == opp.id))
            if line is None:
                raise not_found()
            session.delete(line)
            emit(session, actor, type="quote.changed", entity_type="opportunity", entity_id=opp.id, customer_id=opp.customer_id,
                 summary=opp.name, data={"action": "removed", "description": line.description})
            session.commit()
            return Response(status_code=204)

        _ = (can, resolve_owner)


opportunities = OpportunityResource()
router = opportunities.router()
