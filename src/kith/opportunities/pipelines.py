"""Pipelines and their stages (each with a win probability)."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from kith.access import Actor, require
from kith.core.deps import current_actor, get_session
from kith.core.errors import FieldError, KithError, not_found, validation
from kith.core.listing import F, ListSpec
from kith.core.resource import Resource
from kith.core.types import ShortText
from kith.opportunities.models import Opportunity, Pipeline, Stage


class StageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(None, description="existing stage id; omit for a new stage")
    name: ShortText = Field(...)
    name_en: ShortText = None
    probability: int = Field(..., ge=0, le=100)
    kind: Literal["open", "won", "lost"] = "open"


class PipelineCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: ShortText = Field(...)
    is_default: bool = False
    position: int = Field(0, ge=0, le=10000)
    stages: list[StageIn] = Field(..., min_length=1, max_length=30)


class PipelineUpdate(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: ShortText = None
    is_default: bool | None = None
    position: int | None = Field(None, ge=0, le=10000)
    stages: list[StageIn] | None = Field(None, min_length=1, max_length=30, description="the full ordered list; stages left out are removed if unused")
    version: int | None = None


class StageOut(BaseModel):
    id: int
    name: str
    name_en: str
    probability: int
    position: int
    kind: str


class PipelineOut(BaseModel):
    id: int
    name: str
    is_default: bool
    position: int
    stages: list[StageOut]
    version: int
    created_at: datetime | None = None
    updated_at: datetime | None = None


class PipelineResource(Resource):
    path = "pipelines"
    module = "pipeline"
    model = Pipeline
    scoped = False
    soft_delete = False
    exportable = False
    create_schema = PipelineCreate
    update_schema = PipelineUpdate
    out_schema = PipelineOut
    list_spec = ListSpec(model=Pipeline, module="pipeline", scoped=False, soft_delete=False, default_sort="position",
                         fields={"name": F(Pipeline.name, nullable=False), "position": F(Pipeline.position, "int", nullable=False),
                                 "is_default": F(Pipeline.is_default, "bool", nullable=False)})

    def context(self, session, actor, objs):
        ids = [o.id for o in objs]
        stages: dict[int, list[Stage]] = {}
        for st in session.scalars(select(Stage).where(Stage.pipeline_id.in_(ids)).order_by(Stage.position, Stage.id)):
            stages.setdefault(st.pipeline_id, []).append(st)
        return {"stages": stages}

    def to_dict(self, session: Session, actor: Actor, obj: Pipeline, ctx: dict[str, Any]) -> dict[str, Any]:
        return {"id": obj.id, "name": obj.name, "is_default": obj.is_default, "position": obj.position,
                "stages": [{"id": s.id, "name": s.name, "name_en": s.name_en, "probability": s.probability, "position": s.position,
                            "kind": s.kind} for s in ctx["stages"].get(obj.id, [])]}

    def _set_default(self, session: Session, pipeline: Pipeline) -> None:
        session.execute(update(Pipeline).where(Pipeline.id != pipeline.id).values(is_default=False).execution_options(synchronize_session="fetch"))

    def _stages(self, session: Session, pipeline: Pipeline, stages: list[dict[str, Any]]) -> None:
        if not any(s.get("kind", "open") == "open" for s in stages):
            raise validation(FieldError("stages", "invalid"))
        existing = {s.id: s for s in session.scalars(select(Stage).where(Stage.pipeline_id == pipeline.id))}
        keep = set()
        for pos, spec in enumerate(stages):
            if not spec.get("name"):
                raise validation(FieldError(f"stages.{pos}.name", "required"))
            sid = spec.get("id")
            if sid is not None:
                stage = existing.get(sid)
                if stage is None:
                    raise validation(FieldError(f"stages.{pos}.id", "invalid_reference"))
            else:
                stage = Stage(pipeline_id=pipeline.id)
                session.add(stage)
            stage.name, stage.name_en = spec["name"], spec.get("name_en") or ""
            stage.probability, stage.kind, stage.position = spec["probability"], spec.get("kind", "open"), pos
            if sid is not None:
                keep.add(sid)
        for sid, stage in existing.items():
            if sid not in keep:
                if session.scalar(select(func.count()).select_from(Opportunity).where(Opportunity.stage_id == sid)):
                    raise KithError(409, "in_use", fields=[FieldError("stages", "in_use")])
                session.delete(stage)

    def create(self, session, actor, data, custom, request):
        if not data.get("name"):
            raise validation(FieldError("name", "required"))
        pipeline = Pipeline(name=data["name"], is_default=data.get("is_default", False), position=data.get("position", 0))
        session.add(pipeline)
        session.flush()
        self._stages(session, pipeline, data["stages"])
        if pipeline.is_default:
            self._set_default(session, pipeline)
        return pipeline

    def update(self, session, actor, obj, data, custom):
        stages = data.pop("stages", None)
        super().update(session, actor, obj, data, custom)
        if stages is not None:
            self._stages(session, obj, stages)
        if data.get("is_default"):
            self._set_default(session, obj)
        return obj

    def delete(self, session, actor, obj):
        if session.scalar(select(func.count()).select_from(Opportunity).where(Opportunity.pipeline_id == obj.id)):
            raise KithError(409, "in_use")
        session.delete(obj)


pipelines = PipelineResource()
router = pipelines.router()
_ = (APIRouter, Depends, JSONResponse, require, current_actor, get_session, not_found)
