"""Declarative base, naming convention and column types shared by every model."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Integer, MetaData, Numeric, String, Text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT identity on PostgreSQL, INTEGER PRIMARY KEY (rowid alias) on SQLite.
BigID = BigInteger().with_variant(Integer(), "sqlite")
# JSONB on PostgreSQL (containment operators, GIN), JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
Money = Numeric(18, 2)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns timezone-aware datetimes (SQLite has no tz)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect):  # type: ignore[override]
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class GramArray(TypeDecorator[list[str]]):
    """Search grams: TEXT[] with a GIN index on PostgreSQL; unused (NULL) on SQLite, which uses FTS5."""

    impl = Text
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[override]
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.ARRAY(Text()))
        return dialect.type_descriptor(Text())

    def process_bind_param(self, value, dialect):  # type: ignore[override]
        if dialect.name == "postgresql":
            return value
        return None

    def process_result_value(self, value, dialect):  # type: ignore[override]
        return value if dialect.name == "postgresql" else None


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        Decimal: Money,
        str: String(255),
    }


def utcnow() -> datetime:
    from kith.core.clock import now

    return now()


class IdMixin:
    id: Mapped[int] = mapped_column(BigID, primary_key=True, autoincrement=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False, index=True)


class VersionedMixin:
    """Optimistic concurrency: SQLAlchemy checks the version on every UPDATE."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805
        return {"version_id_col": cls.version}


class OwnedMixin:
    """Every business record has an owner and an owning department (path copied from it)."""

    @declared_attr
    def owner_id(cls) -> Mapped[int]:  # noqa: N805
        return mapped_column(BigID, ForeignKey("users.id"), nullable=False, index=True)

    @declared_attr
    def department_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(BigID, ForeignKey("departments.id"), nullable=True)

    department_path: Mapped[str] = mapped_column(String(255), nullable=False, default="/", index=True)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(BigID, ForeignKey("users.id"), nullable=True)


class SoftDeleteMixin:
    deleted_at: Mapped[datetime | None] = mapped_column(nullable=True, index=True)
    deleted_by_id: Mapped[int | None] = mapped_column(BigID, nullable=True)


class SearchMixin:
    """Normalised search text (LIKE recheck) and its 1/2-grams (index), and the values of the name alone (the recheck
    of a caller who may not see every searchable field: ADR 0026; NULL, as a writer that does not know it leaves it,
    matches nothing there). Deferred at the mapper: they are big and never shown, so no query loads them unless asked
    (a per-query `defer()` option cost a callable per loaded row). Kept by kith.search.index.refresh."""

    search_text: Mapped[str] = mapped_column(Text, nullable=False, default="", deferred=True)
    search_grams: Mapped[list[str] | None] = mapped_column(GramArray(), nullable=True, deferred=True)
    search_names: Mapped[str | None] = mapped_column(Text, nullable=True, deferred=True)
