from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from kith.core.types import Email, Mobile, PersonName, Phone, ShortText, RefId
from kith.customers.schemas import TagRef, UserRef


class ContactBase(BaseModel):
    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    title: ShortText = None
    mobile: Mobile = None
    phone: Phone = None
    email: Email = None
    wechat: ShortText = None
    is_primary: bool | None = None
    tags: list[str] | None = Field(None, max_length=50)


class ContactCreate(ContactBase):
    customer_id: RefId
    name: PersonName


class ContactUpdate(ContactBase):
    name: PersonName | None = None
    version: int | None = None


class ContactOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: int
    customer_id: RefId
    customer_name: str | None = None
    name: str
    title: str | None = None
    mobile: str | None = None
    mobile_display: str | None = None
    phone: str | None = None
    phone_display: str | None = None
    email: str | None = None
    wechat: str | None = None
    is_primary: bool = False
    owner: UserRef | None = None
    owner_id: RefId | None = None
    tags: list[TagRef] = []
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
