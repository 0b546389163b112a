"""Request and response bodies of the serving API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from dip.online.codec import ENTITY_ID_PATTERN, FeatureValue

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ENTITY_ID_PATTERN)]


class FeatureRecord(BaseModel):
    """An entity's features in one view; ``stale`` when older than the view's TTL (by ``event_ts_ms``)."""

    view: str
    entity_id: str
    version: int = Field(description="The write version (_v): feature timestamp or Hudi commit time.")
    event_ts_ms: int = Field(description="Event time the features are as of, epoch milliseconds.")
    feature_set_version: int
    stale: bool
    features: dict[str, FeatureValue]


class BatchLookup(BaseModel):
    view: str
    entity_ids: list[EntityId] = Field(min_length=1)


class BatchRequest(BaseModel):
    """Entities to read, grouped by view (one Redis round trip per group)."""

    requests: list[BatchLookup] = Field(min_length=1)


class BatchItem(BaseModel):
    """One requested entity; ``found`` false (and the rest null) when nothing is stored for it."""

    view: str
    entity_id: str
    found: bool
    version: int | None = None
    event_ts_ms: int | None = None
    feature_set_version: int | None = None
    stale: bool | None = None
    features: dict[str, FeatureValue] | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


class ScoreRequest(BaseModel):
    """Score a stored entity (features read from the scoring view) or supply the features directly."""

    entity_id: EntityId
    features: dict[str, FeatureValue] | None = None


class ScoreResponse(BaseModel):
    entity_id: str
    score: float
    model_name: str
    model_version: str
    variant: str
    features_source: Literal["online_store", "request"]
    feature_set_version: int | None = None
    stale: bool


class Health(BaseModel):
    status: Literal["ok", "ready", "not_ready"]
    checks: dict[str, str] = Field(default_factory=dict)
