"""Scoring route: features (sent, a new post's, or stored online), the A/B variant's model, the prediction log."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime
from typing import NamedTuple

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dip.online import ENTITY_ID_PATTERN, ViewSpec
from dip.online.codec import FeatureValue
from dip.serving.errors import ApiError, error_responses
from dip.serving.new_post import new_post_features
from dip.serving.predictions import iso_utc
from dip.serving.schemas import Contribution, NewPost, ScoreRequest, ScoreResponse
from dip.serving.scoring import ScoringModel, assign_variant
from dip.serving.state import Caller, ServingState, State

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(ENTITY_ID_PATTERN)

router = APIRouter()


class Featurised(NamedTuple):
    """The features a score is computed from, the feature set version they come from, staleness and source."""

    features: dict[str, FeatureValue]
    feature_set_version: int | None
    stale: bool
    source: str


def model_views(state: ServingState, model: ScoringModel) -> list[ViewSpec]:
    """The scoring view, then the further online views the model declares (e.g. a live view)."""
    scoring_view = state.scoring.view
    declared = [name for name in getattr(model, "views", ()) or () if name != scoring_view]
    unknown = [name for name in declared if name not in state.views]
    if unknown:
        raise ApiError(
            503,
            "model_views_unknown",
            f"model {model.name} v{model.version} reads view(s) {', '.join(unknown)} that are not configured",
        )
    return [state.views[scoring_view], *(state.views[name] for name in declared)]


async def stored_features(state: ServingState, entity_id: str, specs: list[ViewSpec]) -> Featurised:
    """The entity's features from every view in ``specs`` (first: the scoring view, required; the others add
    their features where stored, never replacing a scoring-view feature of the same name), the scoring
    view's feature set version, and staleness (any record older than its view's TTL)."""
    records = await asyncio.gather(*(state.lookup(spec, [entity_id]) for spec in specs))
    primary = records[0][0]
    if primary is None:
        raise ApiError(
            404,
            "features_not_found",
            f"no features stored for entity {entity_id!r} in view {specs[0].name!r}; send features instead",
        )
    now_ms = int(time.time() * 1000)
    features: dict[str, FeatureValue] = {}
    is_stale = False
    for spec, (record,) in reversed(list(zip(specs, records, strict=True))):
        if record is not None:
            features.update(record.features)
            is_stale = state.stale(record, spec, now_ms) or is_stale
    return Featurised(features, primary.feature_set_version, is_stale, "online_store")


async def featurise_new_post(state: ServingState, post: NewPost) -> Featurised:
    """A new post's features (caption + its account's online record), feature set version and staleness."""
    spec = state.views[state.scoring.account_view]
    account = (await state.lookup(spec, [post.account_id]))[0]
    if account is None:
        raise ApiError(
            404,
            "account_features_not_found",
            f"no features stored for account {post.account_id!r} in view {spec.name!r}; "
            "a new post is scored with its account's features",
        )
    try:
        features = new_post_features(post, account, state.config.features.text, datetime.now(UTC))
    except ValueError as exc:
        raise ApiError(422, "invalid_request", str(exc)) from None
    stale = state.stale(account, spec, int(time.time() * 1000))
    return Featurised(features, account.feature_set_version, stale, "new_post")


async def featurise(state: ServingState, body: ScoreRequest, model: ScoringModel) -> Featurised:
    """``features`` as sent, else ``post`` (a new post), else the entity's stored online features."""
    if body.features is not None:
        return Featurised(body.features, None, False, "request")
    if body.post is not None:
        return await featurise_new_post(state, body.post)
    return await stored_features(state, body.entity_id, model_views(state, model))


def explanation(model: ScoringModel, features: dict[str, FeatureValue]) -> list[Contribution]:
    """The features that moved ``model``'s score most (400 when the model was logged without training medians)."""
    pairs = model.explain(features) if hasattr(model, "explain") else []
    if not pairs:
        raise ApiError(
            400,
            "explanation_unavailable",
            f"model {model.name} v{model.version} was logged without training medians: "
            "retrain it (`dip train`) to explain its scores",
        )
    return [Contribution(feature=name, contribution=delta) for name, delta in pairs]


def request_id(request: Request) -> str:
    """The caller's ``X-Request-ID`` when it is a valid id, else a fresh one."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    return given if 0 < len(given) <= 64 and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


@router.post(
    "/v1/score",
    tags=["scoring"],
    responses=error_responses(400, 401, 403, 404, 422, 503),
    response_model_exclude_unset=True,  # `explanation` only when asked for
)
async def score(
    body: ScoreRequest, caller: Caller, request: Request, response: Response, state: State, explain: bool = False
) -> ScoreResponse:
    """Predicted engagement with model name/version and the entity's sticky A/B variant.

    Features: ``features`` as sent, else ``post`` (a new post: caption/hashtag features + its account's
    online features), else the entity's record in the scoring view. ``explain=true`` adds the top features
    that moved the score (each set to its training median in turn: one extra ``predict`` of a few rows).
    """
    state.authenticator.require(caller, "score")
    state.require_scoring()
    scoring = state.scoring
    variant = assign_variant(scoring.experiment, body.entity_id, state.variant_weights)
    chosen = state.served.get(variant)
    if chosen is None:
        raise ApiError(503, "model_not_loaded", f"no model loaded for variant {variant!r}")
    given = await featurise(state, body, chosen)
    value = float(chosen.predict(given.features))
    explained = explanation(chosen, given.features) if explain else None
    rid = request_id(request)
    response.headers[REQUEST_ID_HEADER] = rid
    state.predictions.log(
        {
            "request_id": rid,
            "entity_id": body.entity_id,
            "view": {"online_store": scoring.view, "new_post": scoring.account_view}.get(given.source),
            "feature_set_version": given.feature_set_version,
            "model_name": chosen.name,
            "model_version": chosen.version,
            "variant": variant,
            "score": value,
            "scored_at": iso_utc(datetime.now(UTC)),
        }
    )
    return ScoreResponse(
        entity_id=body.entity_id,
        score=value,
        model_name=chosen.name,
        model_version=chosen.version,
        variant=variant,
        features_source=given.source,
        feature_set_version=given.feature_set_version,
        stale=given.stale,
        **({"explanation": explained} if explain else {}),
    )
