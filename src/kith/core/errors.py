"""The one error shape: {"error": {"code", "message", "fields": [...]}, "request_id"}."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kith.core.i18n import t


@dataclass
class FieldError:
    field: str
    code: str
    params: dict[str, Any] | None = None
    message: str | None = None

    def render(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message or t(self.code, **(self.params or {}))}


@dataclass
class KithError(Exception):
    status: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)
    fields: list[FieldError] = field(default_factory=list)
    details: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    message_key: str | None = None

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {
            "code": self.code,
            "message": t(self.message_key or self.code, **self.params),
            "fields": [f.render() for f in self.fields],
        }
        if self.details is not None:
            err["details"] = self.details
        return {"error": err, "request_id": request_id}


def not_found() -> KithError:
    return KithError(404, "not_found")


def forbidden(code: str = "forbidden", **params: Any) -> KithError:
    return KithError(403, code, params)


def validation(*fields: FieldError, status: int = 422) -> KithError:
    return KithError(status, "validation_error", fields=list(fields))


def field_error(name: str, code: str, status: int = 422, **params: Any) -> KithError:
    return validation(FieldError(name, code, params), status=status)
