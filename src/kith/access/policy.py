"""Modules, actions, protected fields and the built-in roles seeded on install (editable later)."""

from __future__ import annotations

from typing import Any

MODULES = (
    "customer", "contact", "opportunity", "contract", "payment", "product", "followup",
    "tag", "custom_field", "pipeline", "user", "department", "role", "audit", "approval", "task",
    "pool", "reminder_rule",
    "report",
)
ACTIONS = ("read", "create", "update", "delete", "export", "import", "transfer", "approve", "manage", "force_duplicate",
           "claim", "release", "assign")
SCOPES = ("own", "dept", "dept_tree", "all")
RIGHTS = ("hidden", "read", "write")

# Never writable through a normal create/update, whatever the role says.
PROTECTED_FIELDS = frozenset(
    {"id", "owner_id", "department_id", "department_path", "created_by_id", "created_at", "updated_at",
     "deleted_at", "deleted_by_id", "roles", "role_ids", "password_hash", "token_version", "search_text", "search_grams",
     "search_names"}
)

# Money fields per module: what "amount rights" cover.
MONEY_FIELDS: dict[str, tuple[str, ...]] = {
    "opportunity": ("amount",),
    "contract": ("amount",),
    "payment": ("amount",),
    "quote_line": ("unit_price", "discount_percent", "amount"),
    "product": ("price",),
}

_BUSINESS = ("customer", "contact", "opportunity", "followup", "task")
_ALL_ACTIONS = list(ACTIONS)


def _perm(mods: tuple[str, ...] | list[str], actions: list[str]) -> dict[str, list[str]]:
    return {m: list(actions) for m in mods}


BUILTIN_ROLES: list[dict[str, Any]] = [
    {
        "code": "admin", "name": "系统管理员", "name_en": "Administrator",
        "permissions": _perm(MODULES, _ALL_ACTIONS),
        "data_scopes": {m: "all" for m in MODULES},
        "field_rights": {},
    },
    {
        "code": "sales_manager", "name": "销售主管", "name_en": "Sales manager",
        "permissions": {
            **_perm(_BUSINESS, ["read", "create", "update", "delete", "export", "transfer", "force_duplicate"]),
            "contract": ["read", "create", "update", "export"],
            "payment": ["read", "create", "update"],
            "product": ["read"], "tag": ["read", "create"], "custom_field": ["read"], "pipeline": ["read"],
            "user": ["read"], "department": ["read"], "role": ["read"], "approval": ["read", "create", "approve"],
            "pool": ["read", "claim", "release", "assign"], "reminder_rule": ["read"],
        },
        "data_scopes": {m: "dept_tree" for m in MODULES},
        "field_rights": {},
    },
    {
        "code": "sales_rep", "name": "销售代表", "name_en": "Sales rep",
        "permissions": {
            **_perm(_BUSINESS, ["read", "create", "update", "delete"]),
            "contract": ["read", "create"],
            "payment": ["read"],
            "product": ["read"], "tag": ["read", "create"], "custom_field": ["read"], "pipeline": ["read"],
            "user": ["read"], "department": ["read"], "approval": ["read", "create"],
            "pool": ["read", "claim"],
        },
        "data_scopes": {m: "own" for m in MODULES},
        # The brief: sales reps do not see contract amounts.
        "field_rights": {"contract": {"amount": "hidden"}, "payment": {"amount": "hidden"}},
    },
    {
        "code": "service", "name": "客服", "name_en": "Customer service",
        "permissions": {
            "customer": ["read"], "contact": ["read", "update"], "followup": ["read", "create"],
            "product": ["read"], "tag": ["read"], "custom_field": ["read"], "pipeline": ["read"],
            "user": ["read"], "department": ["read"],
        },
        "data_scopes": {m: "all" for m in MODULES},
        "field_rights": {"opportunity": {"amount": "hidden"}, "contract": {"amount": "hidden"},
                         "payment": {"amount": "hidden"}, "quote_line": {"unit_price": "hidden", "discount_percent": "hidden", "amount": "hidden"}},
    },
    {
        "code": "marketing", "name": "市场专员", "name_en": "Marketing",
        "permissions": {
            "customer": ["read", "export"], "contact": ["read", "export"], "followup": ["read"],
            "tag": ["read", "create", "update", "delete"], "custom_field": ["read"], "product": ["read"],
            "pipeline": ["read"], "user": ["read"], "department": ["read"],
        },
        "data_scopes": {m: "all" for m in MODULES},
        "field_rights": {"opportunity": {"amount": "hidden"}, "contract": {"amount": "hidden"}, "payment": {"amount": "hidden"}},
    },
    {
        "code": "finance", "name": "财务", "name_en": "Finance",
        "permissions": {
            "customer": ["read"], "contract": ["read", "export"], "payment": ["read", "export"],
            "opportunity": ["read"], "product": ["read"], "tag": ["read"], "custom_field": ["read"],
            "pipeline": ["read"], "user": ["read"], "department": ["read"],
        },
        "data_scopes": {m: "all" for m in MODULES},
        # The brief: finance reads contract amounts and payments but cannot edit them.
        "field_rights": {"contract": {"amount": "read"}, "payment": {"amount": "read"}},
    },
    {
        "code": "support", "name": "技术支持", "name_en": "Technical support",
        "permissions": {
            "customer": ["read"], "contact": ["read"], "followup": ["read", "create"], "product": ["read"],
            "tag": ["read"], "custom_field": ["read"], "pipeline": ["read"], "user": ["read"], "department": ["read"],
        },
        "data_scopes": {m: "all" for m in MODULES},
        # The brief: technical support never sees quotes, prices or amounts.
        "field_rights": {
            "opportunity": {"amount": "hidden"}, "contract": {"amount": "hidden"}, "payment": {"amount": "hidden"},
            "quote_line": {"unit_price": "hidden", "discount_percent": "hidden", "amount": "hidden"},
            "product": {"price": "hidden"},
        },
    },
    {
        "code": "auditor", "name": "审计员", "name_en": "Auditor",
        "permissions": {m: ["read", "export"] for m in MODULES},
        "data_scopes": {m: "all" for m in MODULES},
        "field_rights": {"contract": {"amount": "read"}, "payment": {"amount": "read"}, "opportunity": {"amount": "read"}},
    },
]

# Everyone may ask for access and follow their own requests; approving needs the approve right
# (sales managers) or being the named approver of a step.
for _role in BUILTIN_ROLES:
    _perms = _role["permissions"]
    if "approval" not in _perms:
        _perms["approval"] = ["read", "create"]

# Everyone keeps their own to-do list; the business roles above already manage tasks in their scope.
for _role in BUILTIN_ROLES:
    _perms = _role["permissions"]
    if "task" not in _perms:
        _perms["task"] = ["read", "create", "update", "delete"]

# Reports (kith.reports): figures over the reader's own data scopes of the underlying modules; export to
# xlsx. `report.amount` hidden = counts only, no amount figures (sales reps), whatever the module rights.
_REPORT_ACCESS = {"admin": ["read", "export"], "sales_manager": ["read", "export"], "sales_rep": ["read", "export"],
                  "finance": ["read", "export"], "marketing": ["read", "export"], "auditor": ["read", "export"]}
for _role in BUILTIN_ROLES:
    if _role["code"] in _REPORT_ACCESS:
        _role["permissions"]["report"] = list(_REPORT_ACCESS[_role["code"]])
    else:
        _role["permissions"].pop("report", None)
    if _role["code"] == "sales_rep":
        _role["field_rights"].setdefault("report", {})["amount"] = "hidden"

# Imports (kith.imports): sales managers import customers, contacts, deals and follow-ups for their teams
# (admins have every action); reps do not import.
for _role in BUILTIN_ROLES:
    if _role["code"] == "sales_manager":
        for _m in ("customer", "contact", "opportunity", "followup"):
            if "import" not in _role["permissions"][_m]:
                _role["permissions"][_m].append("import")
