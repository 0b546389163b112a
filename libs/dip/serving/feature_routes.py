"""Feature routes: one entity's online features, and many entities grouped by view."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path

from dip.online import ENTITY_ID_PATTERN
from dip.serving.errors import ApiError, error_responses
from dip.serving.schemas import BatchItem, BatchRequest, BatchResponse, FeatureRecord
from dip.serving.state import Caller, State

router = APIRouter()

EntityIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ENTITY_ID_PATTERN, description="1-64 of [A-Za-z0-9_.:-]")
]


@router.get("/v1/features/{view}/{entity_id}", tags=["features"], responses=error_responses(401, 403, 404, 422, 503))
async def get_features(view: str, entity_id: EntityIdPath, caller: Caller, state: State) -> FeatureRecord:
    """One entity's features in one view; 404 when the view is unknown or nothing is stored for the entity."""
    spec = state.view_for(view, caller)
    record = (await state.lookup(spec, [entity_id]))[0]
    if record is None:
        raise ApiError(
            404,
            "features_not_found",
            f"no features stored for entity {entity_id!r} in view {view!r} (never pushed, or expired after TTL)",
        )
    return FeatureRecord(
        view=view,
        entity_id=entity_id,
        version=record.version,
        event_ts_ms=record.event_ts_ms,
        feature_set_version=record.feature_set_version,
        stale=state.stale(record, spec, int(time.time() * 1000)),
        features=record.features,
    )


@router.post("/v1/features:batch", tags=["features"], responses=error_responses(400, 401, 403, 404, 422, 503))
async def batch_features(body: BatchRequest, caller: Caller, state: State) -> BatchResponse:
    """Many entities, grouped by view, one pipelined Redis round trip per group; missing ones have found=false."""
    total = sum(len(group.entity_ids) for group in body.requests)
    max_batch = state.config.serving.max_batch_entities
    if total > max_batch:
        raise ApiError(422, "invalid_request", f"{total} entities requested; at most {max_batch} per request")
    specs = [state.view_for(group.view, caller) for group in body.requests]
    now_ms = int(time.time() * 1000)
    results: list[BatchItem] = []
    for group, spec in zip(body.requests, specs, strict=True):
        for entity_id, record in zip(group.entity_ids, await state.lookup(spec, group.entity_ids), strict=True):
            if record is None:
                results.append(BatchItem(view=spec.name, entity_id=entity_id, found=False))
                continue
            results.append(
                BatchItem(
                    view=spec.name,
                    entity_id=entity_id,
                    found=True,
                    version=record.version,
                    event_ts_ms=record.event_ts_ms,
                    feature_set_version=record.feature_set_version,
                    stale=state.stale(record, spec, now_ms),
                    features=record.features,
                )
            )
    return BatchResponse(results=results)
