from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.core.errors import FieldError, KithError
from kith.core.listing import F, ListSpec
from kith.core.resource import Resource
from kith.core.types import Currency, LongText, Money, Name, ShortText
from kith.products.models import Product

P = Product


class ProductCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: ShortText = None
    name: Name
    category: ShortText = None
    unit: ShortText = None
    price: Money = None
    currency: Currency = "CNY"
    description: LongText = None
    is_active: bool = True


class ProductUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: ShortText = None
    name: Name | None = None
    category: ShortText = None
    unit: ShortText = None
    price: Money = None
    currency: Currency | None = None
    description: LongText = None
    is_active: bool | None = None
    version: int | None = None


class ProductOut(BaseModel):
    id: int
    code: str
    name: str
    category: str | None = None
    unit: str | None = None
    price: str | None = None
    currency: str | None = None
    description: str | None = None
    is_active: bool = True
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


class ProductResource(Resource):
    path = "products"
    module = "product"
    model = Product
    scoped = False
    create_schema = ProductCreate
    update_schema = ProductUpdate
    out_schema = ProductOut
    list_spec = ListSpec(
        model=P, module="product", scoped=False,
        fields={"code": F(P.code, nullable=False), "name": F(P.name, nullable=False), "category": F(P.category),
                "price": F(P.price, "decimal", nullable=False), "is_active": F(P.is_active, "bool", nullable=False),
                "updated_at": F(P.updated_at, "datetime", nullable=False)},
    )

    def to_dict(self, session: Session, actor: Actor, obj: Product, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "code": obj.code, "name": obj.name, "category": obj.category, "unit": obj.unit, "price": obj.price,
                "currency": obj.currency, "description": obj.description, "is_active": obj.is_active}

    def create(self, session, actor, data, custom, request):
        if not data.get("code"):
            last = session.scalar(select(Product.id).order_by(Product.id.desc()).limit(1)) or 0
            data["code"] = f"P{last + 1:05d}"
        elif session.scalar(select(Product.id).where(Product.code == data["code"])):
            raise KithError(409, "duplicate_value", fields=[FieldError("code", "duplicate_value")])
        data["unit"] = data.get("unit") or "套"
        data["price"] = data.get("price") or 0
        product = Product(**data)
        session.add(product)
        return product


products = ProductResource()
router = products.router()
