from datetime import date
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kith.access import Actor, can, check_write, readable, require, strip
from kith.activities.events import emit
from kith.core import clock
from kith.core.types import RecordId
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, validation
from kith.core.listing import F, ListSpec
from kith.core.ownership import resolve_owner, set_owner
from kith.core.resource import Resource, jsonable, names_by_id
from kith.contracts.models import Contract, Payment, PaymentPlan
from kith.contracts.schemas import ContractCreate, ContractOut, ContractUpdate, PaymentIn, PlanIn
from kith.customers.models import Customer
from kith.customers.service import visible_customer
from kith.opportunities.models import Opportunity

K = Contract


def _sum(values) -> Decimal:
    return sum(values, Decimal("0"))


class ContractResource(Resource):
    path = "contracts"
    module = "contract"
    collaborators = "contract"
    model = Contract
    create_schema = ContractCreate
    update_schema = ContractUpdate
    out_schema = ContractOut
    list_spec = ListSpec(
        model=K, module="contract",
        fields={
            "customer_id": F(K.customer_id, "int", nullable=False),
            "opportunity_id": F(K.opportunity_id, "int"),
            "number": F(K.number, nullable=False),
            "title": F(K.title, nullable=False),
            "amount": F(K.amount, "decimal", nullable=False),
            "status": F(K.status, nullable=False),
            "sign_date": F(K.sign_date, "date"),
            "end_date": F(K.end_date, "date"),
            "owner_id": F(K.owner_id, "int", nullable=False),
            "created_at": F(K.created_at, "datetime", nullable=False),
            "updated_at": F(K.updated_at, "datetime", nullable=False),
        },
    )

    def context(self, session, actor, objs):
        ctx = super().context(session, actor, objs)
        cids = {o.customer_id for o in objs}
        ctx["customers"] = names_by_id(session, Customer.id, Customer.name, cids)
        ids = [o.id for o in objs]
        ctx["received"] = dict(session.execute(select(Payment.contract_id, func.sum(Payment.amount)).where(Payment.contract_id.in_(ids))
                                               .group_by(Payment.contract_id)).all()) if ids else {}
        return ctx

    def to_dict(self, session: Session, actor: Actor, obj: Contract, ctx: dict[str, Any]) -> dict[str, Any]:
        data = {
            "id": obj.id, "customer_id": obj.customer_id, "customer_name": ctx["customers"].get(obj.customer_id),
            "opportunity_id": obj.opportunity_id, "number": obj.number, "title": obj.title, "amount": obj.amount,
            "currency": obj.currency, "sign_date": obj.sign_date, "start_date": obj.start_date, "end_date": obj.end_date,
            "status": obj.status, "description": obj.description, "owner_id": obj.owner_id,
        }
        # what was received is itself an amount: shown only with the payment amount right
        from kith.access.gate import hidden_fields

        if "amount" not in hidden_fields(actor, "payment") and "amount" not in hidden_fields(actor, "contract"):
            data["received_total"] = Decimal(ctx["received"].get(obj.id) or 0)
        return data

    def create(self, session, actor, data, custom, request):
        customer = visible_customer(session, actor, data.pop("customer_id"))
        owner = resolve_owner(session, actor, "contract", data.pop("owner_id", None))
        opp_id = data.get("opportunity_id")
        if opp_id is not None:
            opp = session.scalar(select(Opportunity).where(Opportunity.id == opp_id, Opportunity.deleted_at.is_(None),
                                                           readable(actor, Opportunity, "opportunity")))
            if opp is None or opp.customer_id != customer.id:
                raise validation(FieldError("opportunity_id", "invalid_reference"))
        if not data.get("number"):
            today = clock.now().strftime("%Y%m%d")
            count = session.scalar(select(func.count()).select_from(Contract).where(Contract.number.startswith(f"HT-{today}-"))) or 0
            data["number"] = f"HT-{today}-{count + 1:04d}"
        elif session.scalar(select(Contract.id).where(Contract.number == data["number"])):
            raise KithError(409, "duplicate_value", fields=[FieldError("number", "duplicate_value")])
        if data.get("amount") is None:
            data["amount"] = Decimal("0")
        self._check_dates(data.get("start_date"), data.get("end_date"))
        contract = Contract(**data)
        contract.customer_id = customer.id
        contract.created_by_id = actor.user_id
        set_owner(session, contract, owner)
        session.add(contract)
        session.flush()
        emit(session, actor, type="contract.created", entity_type="contract", entity_id=contract.id, customer_id=customer.id,
             summary=f"{contract.number} {contract.title}", data={"number": contract.number, "title": contract.title, "amount": contract.amount})
        return contract

    @staticmethod
    def _check_dates(start: date | None, end: date | None) -> None:
        if start and end and end < start:
            raise validation(FieldError("end_date", "invalid_date"))

    def update(self, session, actor, obj, data, custom):
        before = {k: getattr(obj, k) for k in data}
        super().update(session, actor, obj, data, custom)
        self._check_dates(obj.start_date, obj.end_date)
        changes = {k: [jsonable(before[k]), jsonable(getattr(obj, k))] for k in ("amount", "status", "title", "end_date")
                   if k in before and before[k] != getattr(obj, k)}
        if changes:
            emit(session, actor, type="contract.updated", entity_type="contract", entity_id=obj.id, customer_id=obj.customer_id,
                 summary=f"{obj.number} {obj.title}", data={"changes": changes})
        return obj

    def extra_routes(self, router: APIRouter) -> None:
        res = self

        def _plans_payments(session: Session, actor: Actor, contract: Contract) -> dict[str, Any]:
            plans = list(session.scalars(select(PaymentPlan).where(PaymentPlan.contract_id == contract.id).order_by(PaymentPlan.due_date, PaymentPlan.id)))
            pays = list(session.scalars(select(Payment).where(Payment.contract_id == contract.id).order_by(Payment.received_on, Payment.id)))
            received_by_plan: dict[int, Decimal] = {}
            for p in pays:
                if p.plan_id:
                    received_by_plan[p.plan_id] = received_by_plan.get(p.plan_id, Decimal(0)) + p.amount
            plan_items = [strip(actor, "payment", {"id": p.id, "due_date": p.due_date, "amount": p.amount, "note": p.note,
                                                   "received": received_by_plan.get(p.id, Decimal(0)), "version": p.version}) for p in plans]
            pay_items = [strip(actor, "payment", {"id": p.id, "plan_id": p.plan_id, "received_on": p.received_on, "amount": p.amount,
                                                  "method": p.method, "note": p.note, "version": p.version}) for p in pays]
            from kith.access.gate import hidden_fields

            out: dict[str, Any] = {
                "plans": [{k: jsonable(v) for k, v in (i if "amount" in i else {x: y for x, y in i.items() if x != "received"}).items()} for i in plan_items],
                "payments": [{k: jsonable(v) for k, v in i.items()} for i in pay_items],
            }
            if "amount" not in hidden_fields(actor, "payment"):
                out["planned_total"] = jsonable(_sum(p.amount for p in plans))
                out["received_total"] = jsonable(_sum(p.amount for p in pays))
            return out

        @router.get("/{record_id}/payments", summary="Payment plan and received payments (回款)", operation_id="contract_payments")
        def payments(record_id: RecordId, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            contract = res.get_visible(session, actor, record_id, deleted=None)
            require(actor, "payment", "read")
            return JSONResponse(_plans_payments(session, actor, contract))

        @router.post("/{record_id}/payment-plans", status_code=201, summary="Add an instalment to the payment plan", operation_id="add_payment_plan")
        def add_plan(record_id: RecordId, body: PlanIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            contract = res.get_visible(session, actor, record_id)
            require(actor, "payment", "create")
            res.require_writable(session, actor, contract, "read")
            check_write(actor, "payment", body.model_fields_set)
            session.add(PaymentPlan(contract_id=contract.id, due_date=body.due_date, amount=body.amount, note=body.note))
            session.flush()
            payload = _plans_payments(session, actor, contract)
            session.commit()
            return JSONResponse(payload, status_code=201)

        @router.post("/{record_id}/payments", status_code=201, summary="Record a received payment (回款)", operation_id="record_payment")
        def add_payment(record_id: RecordId, body: PaymentIn, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Any:
            contract = res.get_visible(session, actor, record_id)
            require(actor, "payment", "create")
            res.require_writable(session, actor, contract, "read")
            check_write(actor, "payment", body.model_fields_set)
            if body.plan_id is not None:
                plan = session.get(PaymentPlan, body.plan_id)
                if plan is None or plan.contract_id != contract.id:
                    raise validation(FieldError("plan_id", "invalid_reference"))
            payment = Payment(contract_id=contract.id, plan_id=body.plan_id, received_on=body.received_on, amount=body.amount,
                              method=body.method, note=body.note)
            session.add(payment)
            session.flush()
            emit(session, actor, type="payment.received", entity_type="payment", entity_id=payment.id, customer_id=contract.customer_id,
                 summary=contract.number, data={"contract_id": contract.id, "amount": payment.amount, "received_on": payment.received_on})
            payload = _plans_payments(session, actor, contract)
            session.commit()
            return JSONResponse(payload, status_code=201)

        _ = can


contracts = ContractResource()
router = contracts.router()
