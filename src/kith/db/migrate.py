"""Run Alembic migrations programmatically (CLI, make run, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

HERE = Path(__file__).parent


def alembic_config(url: str) -> Config:
    cfg = Config(str(HERE / "alembic.ini"))
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    # FTS5 tables, partial, pattern and gram indexes are created by hand in the migrations
    if type_ == "table" and name and "_fts" in name:
        return False
    if type_ == "index" and reflected and compare_to is None and name and ("_live_" in name or name.endswith(("_pattern", "_search_grams", "_search_trgm"))):
        return False
    return True
