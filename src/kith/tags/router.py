from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.core.errors import FieldError, KithError
from kith.core.listing import F, ListSpec
from kith.core.resource import Resource
from kith.core.types import ShortText
from kith.tags.models import Tag

COLOR = r"^#[0-9A-Fa-f]{6}$"


class TagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText = Field(..., description="unique")
    color: str = Field("#409EFF", pattern=COLOR)


class TagUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: ShortText = None
    color: str | None = Field(None, pattern=COLOR)
    version: int | None = None


class TagOut(BaseModel):
    id: int
    name: str
    color: str
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


class TagResource(Resource):
    path = "tags"
    module = "tag"
    model = Tag
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = TagCreate
    update_schema = TagUpdate
    out_schema = TagOut
    list_spec = ListSpec(model=Tag, module="tag", scoped=False, soft_delete=False, default_sort="name",
                         fields={"name": F(Tag.name, nullable=False), "color": F(Tag.color, nullable=False)})

    def to_dict(self, session: Session, actor: Actor, obj: Tag, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "name": obj.name, "color": obj.color}

    def create(self, session, actor, data, custom, request):
        if not data.get("name"):
            raise KithError(422, "validation_error", fields=[FieldError("name", "required")])
        if session.scalar(select(Tag.id).where(Tag.name == data["name"])):
            raise KithError(409, "duplicate_value", fields=[FieldError("name", "duplicate_value")])
        tag = Tag(**data)
        session.add(tag)
        return tag

    def delete(self, session, actor, obj):
        from sqlalchemy import delete

        from kith.tags.models import Tagging

        session.execute(delete(Tagging).where(Tagging.tag_id == obj.id))
        session.delete(obj)


tags = TagResource()
router = tags.router()
