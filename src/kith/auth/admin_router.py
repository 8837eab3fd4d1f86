"""Users, departments (tree) and roles."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import String, func, literal, select, update
from sqlalchemy.orm import Session

from kith.access import Actor
from kith.access.policy import ACTIONS, MODULES, RIGHTS, SCOPES
from kith.auth.models import Department, Role, User
from kith.auth.security import hash_password, verify_password
from kith.auth.service import revoke_all
from kith.core.types import RecordId, RefId
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, validation
from kith.core.listing import F, ListSpec
from kith.core.resource import Resource, names_by_id
from kith.core.types import Email, Mobile, PersonName, ShortText

Password = Field(..., min_length=8, max_length=256)


# ---- users ---------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(..., pattern=r"^[A-Za-z0-9_.-]{2,64}$")
    display_name: PersonName
    password: str = Password
    email: Email = None
    mobile: Mobile = None
    department_id: RefId | None = None
    role_codes: list[str] = Field(default_factory=lambda: ["sales_rep"], max_length=20)
    timezone: str = Field("Asia/Shanghai", max_length=64)
    language: Literal["zh-CN", "en"] = "zh-CN"


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    display_name: PersonName | None = None
    email: Email = None
    mobile: Mobile = None
    department_id: RefId | None = None
    role_codes: list[str] | None = Field(None, max_length=20)
    is_active: bool | None = None
    timezone: str | None = Field(None, max_length=64)
    language: Literal["zh-CN", "en"] | None = None
    version: int | None = None


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str
    email: str | None = None
    mobile: str | None = None
    department_id: RefId | None = None
    department_name: str | None = None
    role_codes: list[str] = []
    is_active: bool
    timezone: str
    language: str
    last_login_at: datetime | None = None
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


def _roles(session: Session, codes: list[str]) -> list[Role]:
    rows = list(session.scalars(select(Role).where(Role.code.in_(codes))))
    if len(rows) != len(set(codes)):
        raise validation(FieldError("role_codes", "invalid_reference"))
    return rows


def _department(session: Session, dept_id: int | None) -> Department | None:
    if dept_id is None:
        return None
    dept = session.get(Department, dept_id)
    if dept is None:
        raise validation(FieldError("department_id", "invalid_reference"))
    return dept


def _check_tz(tz: str | None) -> None:
    if tz is None:
        return
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise validation(FieldError("timezone", "invalid")) from None


U = User


class UserResource(Resource):
    path = "users"
    module = "user"
    model = User
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = UserCreate
    update_schema = UserUpdate
    out_schema = UserOut
    list_spec = ListSpec(model=U, module="user", scoped=False, soft_delete=False, default_sort="id",
                         fields={"username": F(U.username, nullable=False), "display_name": F(U.display_name, nullable=False),
                                 "department_id": F(U.department_id, "int"), "is_active": F(U.is_active, "bool", nullable=False)})

    def context(self, session, actor, objs):
        ids = {o.department_id for o in objs if o.department_id}
        return {"depts": names_by_id(session, Department.id, Department.name, ids)}

    def to_dict(self, session: Session, actor: Actor, obj: User, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "username": obj.username, "display_name": obj.display_name, "email": obj.email, "mobile": obj.mobile,
                "department_id": obj.department_id, "department_name": ctx["depts"].get(obj.department_id),
                "role_codes": [r.code for r in obj.roles], "is_active": obj.is_active, "timezone": obj.timezone,
                "language": obj.language, "last_login_at": obj.last_login_at}

    def split_payload(self, actor, body, *, partial):
        # role_codes is how administrators assign roles (user module 'update' right); no other protected field here
        data = body.model_dump(exclude_unset=partial)
        data.pop("version", None)
        extras = list(body.model_extra or {})
        if extras:
            from kith.access import check_write

            check_write(actor, self.module, extras)
            raise validation(*[FieldError(k, "unknown_field") for k in extras])
        return data, {}

    def create(self, session, actor, data, custom, request):
        username = data["username"].lower()
        if session.scalar(select(User.id).where(User.username == username)):
            raise KithError(409, "duplicate_value", fields=[FieldError("username", "duplicate_value")])
        _check_tz(data.get("timezone"))
        dept = _department(session, data.get("department_id"))
        user = User(username=username, display_name=data["display_name"], password_hash=hash_password(data["password"]),
                    email=data.get("email"), mobile=data.get("mobile"), department_id=dept.id if dept else None,
                    timezone=data.get("timezone") or "Asia/Shanghai", language=data.get("language") or "zh-CN")
        user.roles = _roles(session, data.get("role_codes") or [])
        session.add(user)
        return user

    def update(self, session, actor, obj, data, custom):
        if "role_codes" in data:
            codes = data.pop("role_codes") or []
            if obj.id == actor.user_id and "admin" in [r.code for r in obj.roles] and "admin" not in codes:
                raise validation(FieldError("role_codes", "invalid"))
            obj.roles = _roles(session, codes)
        if "department_id" in data:
            _department(session, data["department_id"])
        _check_tz(data.get("timezone"))
        was_active = obj.is_active
        if data.get("is_active") is False and obj.id == actor.user_id:
            raise validation(FieldError("is_active", "invalid"))
        super().update(session, actor, obj, data, custom)
        if was_active and not obj.is_active:
            revoke_all(session, obj)
        return obj

    def delete(self, session, actor, obj):
        # users are never deleted (their records keep pointing at them): deactivate instead
        if obj.id == actor.user_id:
            raise validation(FieldError("id", "invalid"))
        obj.is_active = False
        revoke_all(session, obj)

    def extra_routes(self, router: APIRouter) -> None:
        res = self

        class PasswordReset(BaseModel):
            password: str = Password

        @router.post("/{record_id}/password", status_code=204, response_model=None, summary="Set a user's password (revokes their tokens)",
                     operation_id="set_user_password")
        def set_password(record_id: RecordId, body: PasswordReset, actor: Actor = Depends(current_actor),
                         session: Session = Depends(get_session)) -> Response:
            user = res.get_visible(session, actor, record_id)
            from kith.access import require

            require(actor, "user", "update")
            user.password_hash = hash_password(body.password)
            revoke_all(session, user)
            session.commit()
            return Response(status_code=204)


users = UserResource()


# ---- departments --------------------------------------------------------------------------------
class DepartmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText = Field(...)
    parent_id: RefId | None = None
    manager_id: RefId | None = None
    position: int = Field(0, ge=0, le=10000)


class DepartmentUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: ShortText = None
    parent_id: RefId | None = None
    manager_id: RefId | None = None
    position: int | None = Field(None, ge=0, le=10000)
    version: int | None = None


class DepartmentOut(BaseModel):
    id: int
    name: str
    parent_id: RefId | None = None
    path: str
    manager_id: RefId | None = None
    manager_name: str | None = None
    position: int
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


D = Department


class DepartmentResource(Resource):
    path = "departments"
    module = "department"
    model = Department
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = DepartmentCreate
    update_schema = DepartmentUpdate
    out_schema = DepartmentOut
    list_spec = ListSpec(model=D, module="department", scoped=False, soft_delete=False, default_sort="path",
                         fields={"name": F(D.name, nullable=False), "parent_id": F(D.parent_id, "int"), "path": F(D.path, nullable=False),
                                 "position": F(D.position, "int", nullable=False)})

    def context(self, session, actor, objs):
        ids = {o.manager_id for o in objs if o.manager_id}
        return {"managers": names_by_id(session, User.id, User.display_name, ids)}

    def to_dict(self, session: Session, actor: Actor, obj: Department, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "name": obj.name, "parent_id": obj.parent_id, "path": obj.path, "manager_id": obj.manager_id,
                "manager_name": ctx["managers"].get(obj.manager_id), "position": obj.position}

    def _manager(self, session: Session, manager_id: int | None) -> None:
        if manager_id is not None and session.get(User, manager_id) is None:
            raise validation(FieldError("manager_id", "invalid_reference"))

    def create(self, session, actor, data, custom, request):
        if not data.get("name"):
            raise validation(FieldError("name", "required"))
        parent = _department(session, data.get("parent_id")) if data.get("parent_id") is not None else None
        if data.get("parent_id") is not None and parent is None:
            raise validation(FieldError("parent_id", "invalid_reference"))
        self._manager(session, data.get("manager_id"))
        dept = Department(name=data["name"], parent_id=parent.id if parent else None, manager_id=data.get("manager_id"),
                          position=data.get("position") or 0, path="/")
        session.add(dept)
        session.flush()
        dept.path = f"{parent.path if parent else '/'}{dept.id}/"
        return dept

    def update(self, session, actor, obj, data, custom):
        if "name" in data and not data["name"]:
            raise validation(FieldError("name", "required"))
        self._manager(session, data.get("manager_id"))
        if "parent_id" in data and data["parent_id"] != obj.parent_id:
            new_parent = None
            if data["parent_id"] is not None:
                new_parent = session.get(Department, data["parent_id"])
                if new_parent is None:
                    raise validation(FieldError("parent_id", "invalid_reference"))
                if new_parent.path.startswith(obj.path):
                    raise validation(FieldError("parent_id", "invalid"))
            old_path = obj.path
            new_path = f"{new_parent.path if new_parent else '/'}{obj.id}/"
            self._move_subtree(session, old_path, new_path)
        super().update(session, actor, obj, data, custom)
        return obj

    @staticmethod
    def _move_subtree(session: Session, old: str, new: str) -> None:
        """Rewrite the materialised path of the subtree and of every record owned in it."""
        from kith.activities.models import Followup
        from kith.contacts.models import Contact
        from kith.contracts.models import Contract
        from kith.customers.models import Customer
        from kith.opportunities.models import Opportunity

        from kith.reports.rollup import CustomerCount

        n = len(old) + 1
        # the report rollup's customer counts carry the path too (its key: the new prefix is the moved department's
        # own id under its new parent, so no row of the new paths exists yet and the rewrite cannot collide)
        for model, col in ((Department, Department.path), *((m, m.department_path) for m in (Customer, Contact, Opportunity, Contract, Followup)),
                           (CustomerCount, CustomerCount.department_path)):
            session.execute(update(model).where(col.startswith(old, autoescape=True))
                            .values({col.key: literal(new, String()) + func.substr(col, n)}).execution_options(synchronize_session=False))
        session.expire_all()

    def delete(self, session, actor, obj):
        if session.scalar(select(func.count()).select_from(Department).where(Department.parent_id == obj.id)) or \
           session.scalar(select(func.count()).select_from(User).where(User.department_id == obj.id)):
            raise KithError(409, "in_use")
        session.delete(obj)


departments = DepartmentResource()


# ---- roles --------------------------------------------------------------------------------------
class RoleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    permissions: dict[str, list[str]] | None = None
    data_scopes: dict[str, str] | None = None
    field_rights: dict[str, dict[str, str]] | None = None


class RoleCreate(RoleBody):
    code: str = Field(..., pattern=r"^[a-z][a-z0-9_]{1,49}$")
    name: ShortText = Field(...)
    name_en: ShortText = None


class RoleUpdate(RoleBody):
    model_config = ConfigDict(extra="allow")
    name: ShortText = None
    name_en: ShortText = None
    version: int | None = None


class RoleOut(BaseModel):
    id: int
    code: str
    name: str
    name_en: str
    builtin: bool
    permissions: dict[str, list[str]]
    data_scopes: dict[str, str]
    field_rights: dict[str, dict[str, str]]
    version: int


def _check_policy(data: dict[str, Any]) -> None:
    errors = []
    for module, actions in (data.get("permissions") or {}).items():
        if module not in MODULES or any(a not in ACTIONS for a in actions):
            errors.append(FieldError(f"permissions.{module}", "invalid_choice", {"choices": ", ".join(ACTIONS)}))
    for module, scope in (data.get("data_scopes") or {}).items():
        if module not in MODULES or scope not in SCOPES:
            errors.append(FieldError(f"data_scopes.{module}", "invalid_choice", {"choices": ", ".join(SCOPES)}))
    for module, fields in (data.get("field_rights") or {}).items():
        for fname, right in fields.items():
            if right not in RIGHTS:
                errors.append(FieldError(f"field_rights.{module}.{fname}", "invalid_choice", {"choices": ", ".join(RIGHTS)}))
    if errors:
        raise validation(*errors)


class RoleResource(Resource):
    path = "roles"
    module = "role"
    model = Role
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = RoleCreate
    update_schema = RoleUpdate
    out_schema = RoleOut
    list_spec = ListSpec(model=Role, module="role", scoped=False, soft_delete=False, default_sort="id",
                         fields={"code": F(Role.code, nullable=False), "builtin": F(Role.builtin, "bool", nullable=False)})

    def to_dict(self, session: Session, actor: Actor, obj: Role, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "code": obj.code, "name": obj.name, "name_en": obj.name_en, "builtin": obj.builtin,
                "permissions": obj.permissions or {}, "data_scopes": obj.data_scopes or {}, "field_rights": obj.field_rights or {}}

    def split_payload(self, actor, body, *, partial):
        data = body.model_dump(exclude_unset=partial)
        data.pop("version", None)
        extras = list(body.model_extra or {})
        if extras:
            raise validation(*[FieldError(k, "unknown_field") for k in extras])
        return data, {}

    def create(self, session, actor, data, custom, request):
        _check_policy(data)
        if session.scalar(select(Role.id).where(Role.code == data["code"])):
            raise KithError(409, "duplicate_value", fields=[FieldError("code", "duplicate_value")])
        role = Role(code=data["code"], name=data.get("name") or data["code"], name_en=data.get("name_en") or "",
                    permissions=data.get("permissions") or {}, data_scopes=data.get("data_scopes") or {},
                    field_rights=data.get("field_rights") or {})
        session.add(role)
        return role

    def update(self, session, actor, obj, data, custom):
        _check_policy(data)
        for key in ("permissions", "data_scopes", "field_rights"):
            if key in data and data[key] is None:
                data[key] = {}
        if data.get("name_en") is None and "name_en" in data:
            data["name_en"] = ""
        return super().update(session, actor, obj, data, custom)

    def delete(self, session, actor, obj):
        if obj.builtin:
            raise KithError(409, "in_use")
        session.delete(obj)


roles = RoleResource()


class PasswordChange(BaseModel):
    current_password: str = Field(..., min_length=1, max_length=256)
    new_password: str = Password


me_router = APIRouter(tags=["auth"])


@me_router.post("/me/password", status_code=204, response_model=None, summary="Change my password (revokes all my tokens)")
def change_password(body: PasswordChange, actor: Actor = Depends(current_actor), session: Session = Depends(get_session)) -> Response:
    user = session.get(User, actor.user_id)
    assert user is not None
    if not verify_password(user.password_hash, body.current_password):
        raise validation(FieldError("current_password", "invalid"))
    user.password_hash = hash_password(body.new_password)
    revoke_all(session, user)
    session.commit()
    return Response(status_code=204)


routers = [users.router(), departments.router(), roles.router(), me_router]
