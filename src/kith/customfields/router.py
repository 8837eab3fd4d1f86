from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.core.errors import FieldError, KithError, validation
from kith.core.listing import F, ListSpec
from kith.core.resource import Resource
from kith.core.types import ShortText
from kith.customfields.models import CustomField
from kith.customfields.service import invalidate

CF = CustomField
FieldType = Literal["text", "number", "date", "select", "multiselect", "boolean", "user"]
EntityType = Literal["customer", "contact", "opportunity"]


class CustomFieldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    entity_type: EntityType
    name: str = Field(..., pattern=r"^[a-z][a-z0-9_]{0,39}$", description="machine name; the API exposes it as cf_<name>")
    label: ShortText = Field(..., description="label (zh-CN)")
    label_en: ShortText = None
    field_type: FieldType
    required: bool = False
    options: list[str] = Field(default_factory=list, max_length=200, description="choices for select and multiselect")
    position: int = Field(0, ge=0, le=10000)


class CustomFieldUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    label: ShortText = None
    label_en: ShortText = None
    required: bool | None = None
    options: list[str] | None = Field(None, max_length=200)
    position: int | None = Field(None, ge=0, le=10000)
    active: bool | None = None
    version: int | None = None


class CustomFieldOut(BaseModel):
    id: int
    entity_type: str
    name: str
    key: str
    label: str
    label_en: str
    field_type: str
    required: bool
    options: list[str]
    position: int
    active: bool
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _check_options(field_type: str, options: list[str]) -> None:
    if field_type in ("select", "multiselect") and not [o for o in options if o.strip()]:
        raise validation(FieldError("options", "required"))
    if any(not isinstance(o, str) or len(o) > 100 for o in options):
        raise validation(FieldError("options", "too_long", {"max": 100}))


class CustomFieldResource(Resource):
    path = "custom-fields"
    module = "custom_field"
    model = CustomField
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = CustomFieldCreate
    update_schema = CustomFieldUpdate
    out_schema = CustomFieldOut
    tag = "custom-fields"
    list_spec = ListSpec(model=CF, module="custom_field", scoped=False, soft_delete=False, default_sort="position",
                         fields={"entity_type": F(CF.entity_type, nullable=False), "position": F(CF.position, "int", nullable=False),
                                 "name": F(CF.name, nullable=False), "active": F(CF.active, "bool", nullable=False)})

    def to_dict(self, session: Session, actor: Actor, obj: CustomField, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "entity_type": obj.entity_type, "name": obj.name, "key": f"cf_{obj.name}", "label": obj.label,
                "label_en": obj.label_en, "field_type": obj.field_type, "required": obj.required, "options": obj.options or [],
                "position": obj.position, "active": obj.active}

    def create(self, session, actor, data, custom, request):
        if not data.get("label"):
            raise validation(FieldError("label", "required"))
        _check_options(data["field_type"], data.get("options") or [])
        if session.scalar(select(CF.id).where(CF.entity_type == data["entity_type"], CF.name == data["name"])):
            raise KithError(409, "duplicate_value", fields=[FieldError("name", "duplicate_value")])
        data["label_en"] = data.get("label_en") or ""
        field = CustomField(**data)
        session.add(field)
        invalidate(session)
        return field

    def update(self, session, actor, obj, data, custom):
        if "label" in data and not data["label"]:
            raise validation(FieldError("label", "required"))
        if data.get("label_en") is None and "label_en" in data:
            data["label_en"] = ""
        super().update(session, actor, obj, data, custom)
        _check_options(obj.field_type, obj.options or [])
        invalidate(session)
        return obj


custom_fields = CustomFieldResource()
router = custom_fields.router()
