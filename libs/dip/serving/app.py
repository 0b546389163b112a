"""FastAPI app factory: online features, batch reads, scoring, health, readiness and metrics.

Nothing is created at import time; ``create_app`` builds one app with its own Redis client (unless
one is given), metrics registry and authenticator. Endpoints are async on an asyncio Redis client
(no threadpool hop); every read of many entities is one pipelined round trip per view.
"""

import asyncio
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

import redis
import redis.asyncio
from fastapi import Depends, FastAPI, Path, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

import dip
from dip.config import Config
from dip.online import ENTITY_ID_PATTERN, OnlineRecord, ViewSpec, make_async_client, read_many_async, view_specs
from dip.online.codec import FeatureValue
from dip.serving.auth import API_KEY_HEADER, Authenticator, Principal
from dip.serving.errors import ApiError, error_responses, install_error_handlers
from dip.serving.limits import BodySizeLimit
from dip.serving.metrics import MetricsMiddleware, ServingMetrics
from dip.serving.new_post import new_post_features
from dip.serving.predictions import PredictionLogger, ProducerLike, iso_utc, make_producer
from dip.serving.schemas import (
    BatchItem,
    BatchRequest,
    BatchResponse,
    Contribution,
    FeatureRecord,
    Health,
    NewPost,
    ReloadResponse,
    ScoreRequest,
    ScoreResponse,
)
from dip.serving.scoring import ScoringModel, ServedModels, assign_variant, models_by_variant

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(ENTITY_ID_PATTERN)

EntityIdPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ENTITY_ID_PATTERN, description="1-64 of [A-Za-z0-9_.:-]")
]


def _is_stale(record: OnlineRecord, view: ViewSpec, now_ms: int) -> bool:
    return now_ms - record.event_ts_ms > view.ttl_seconds * 1000


def create_app(
    config: Config,
    redis_client: redis.asyncio.Redis | None = None,
    model: ScoringModel | Mapping[str, ScoringModel] | None = None,
    prediction_producer: ProducerLike | None = None,
    model_loader: Callable[[], ScoringModel | None] | None = None,
) -> FastAPI:
    """The serving app for ``config``; ``model`` (one, or one per A/B variant) enables ``/v1/score``.

    ``model_loader`` (blocking; e.g. the registry's champion) backs ``POST /v1/admin/reload-model`` and
    ``app.state.reload_model``; the model it returns then serves every variant.

    ``redis_client`` is an asyncio client; by default one is made from ``config.redis`` and closed at shutdown.
    With scoring enabled, every score is logged to ``kafka.topics.predictions`` through ``prediction_producer``
    (by default a confluent-kafka producer made at startup and flushed at shutdown).
    """
    views = view_specs(config.online)
    scoring = config.serving.scoring
    for key in ("view", "account_view"):
        if scoring.enabled and getattr(scoring, key) not in views:
            raise ValueError(f"serving.scoring.{key} {getattr(scoring, key)!r} is not a configured online view")
    variant_weights = [(v.name, v.weight) for v in scoring.variants]
    variant_names = [name for name, _ in variant_weights]
    served = ServedModels(models_by_variant(model, variant_names), variant_names)
    client = redis_client if redis_client is not None else make_async_client(config.redis)
    authenticator = Authenticator(config.serving)
    metrics = ServingMetrics()
    max_batch = config.serving.max_batch_entities
    predictions = PredictionLogger(None, config.kafka.topics.predictions, metrics.prediction_log_failures)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if scoring.enabled:
            predictions.producer = prediction_producer if prediction_producer is not None else make_producer(config)
        yield
        predictions.close()
        predictions.producer = None
        if redis_client is None:
            await client.aclose()

    app = FastAPI(
        title="DIP feature and scoring service",
        version=dip.__version__,
        description="Online features from Redis (docs/online_store.md) and engagement scores. "
        f"Auth: an {API_KEY_HEADER} header or an OAuth2 bearer JWT with scopes "
        f"`features:<view>` (or `features:*`), `score` and `{config.serving.admin_scope}` (admin endpoints).",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=config.serving.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: counts the 413s too

    api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Plain API key (stored hashed).")
    bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT", description="HS256 JWT with a `scope` claim.")

    async def principal(
        api_key: Annotated[str | None, Security(api_key_scheme)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
    ) -> Principal:
        return authenticator.authenticate(api_key, bearer.credentials if bearer else None)

    Caller = Annotated[Principal, Depends(principal)]

    def view_for(name: str, caller: Principal) -> ViewSpec:
        view = views.get(name)
        if view is None:
            raise ApiError(404, "unknown_view", f"unknown feature view {name!r}; known: {', '.join(views)}")
        authenticator.require(caller, f"features:{name}")
        return view

    async def lookup(view: ViewSpec, entity_ids: list[str]) -> list[OnlineRecord | None]:
        records = await read_many_async(client, view, entity_ids)
        found = sum(r is not None for r in records)
        metrics.hits.labels(view.name).inc(found)
        metrics.misses.labels(view.name).inc(len(records) - found)
        return records

    def stale(record: OnlineRecord, view: ViewSpec, now_ms: int) -> bool:
        flag = _is_stale(record, view, now_ms)
        if flag:
            metrics.stale.labels(view.name).inc()
        return flag

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> Health:
        """The process answers."""
        return Health(status="ok")

    @app.get("/readyz", tags=["ops"], responses={503: {"model": Health}})
    async def readyz() -> JSONResponse:
        """Ready when Redis answers PING and, with scoring enabled, every weighted variant has a model."""
        checks: dict[str, str] = {}
        try:
            await client.ping()
            checks["redis"] = "ok"
        except redis.RedisError as exc:
            checks["redis"] = f"unreachable ({type(exc).__name__})"
        if scoring.enabled:
            absent = [name for name, weight in variant_weights if weight > 0 and served.get(name) is None]
            checks["model"] = f"not loaded for variant(s) {', '.join(absent)}" if absent else "ok"
        else:
            checks["model"] = "scoring disabled"
        ready = checks["redis"] == "ok" and not checks["model"].startswith("not loaded")
        body = Health(status="ready" if ready else "not_ready", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"], response_class=Response)
    async def metrics_endpoint() -> Response:
        """Prometheus text exposition of this app's metrics."""
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    @app.get("/v1/features/{view}/{entity_id}", tags=["features"], responses=error_responses(401, 403, 404, 422, 503))
    async def get_features(view: str, entity_id: EntityIdPath, caller: Caller) -> FeatureRecord:
        """One entity's features in one view; 404 when the view is unknown or nothing is stored for the entity."""
        spec = view_for(view, caller)
        record = (await lookup(spec, [entity_id]))[0]
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
            stale=stale(record, spec, int(time.time() * 1000)),
            features=record.features,
        )

    @app.post("/v1/features:batch", tags=["features"], responses=error_responses(400, 401, 403, 404, 422, 503))
    async def batch_features(body: BatchRequest, caller: Caller) -> BatchResponse:
        """Many entities, grouped by view, one pipelined Redis round trip per group; missing ones have found=false."""
        total = sum(len(group.entity_ids) for group in body.requests)
        if total > max_batch:
            raise ApiError(422, "invalid_request", f"{total} entities requested; at most {max_batch} per request")
        specs = [view_for(group.view, caller) for group in body.requests]
        now_ms = int(time.time() * 1000)
        results: list[BatchItem] = []
        for group, spec in zip(body.requests, specs, strict=True):
            for entity_id, record in zip(group.entity_ids, await lookup(spec, group.entity_ids), strict=True):
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
                        stale=stale(record, spec, now_ms),
                        features=record.features,
                    )
                )
        return BatchResponse(results=results)

    def model_views(model: ScoringModel) -> list[ViewSpec]:
        """The scoring view, then the further online views the model declares (e.g. a live view)."""
        declared = [name for name in getattr(model, "views", ()) or () if name != scoring.view]
        unknown = [name for name in declared if name not in views]
        if unknown:
            raise ApiError(
                503,
                "model_views_unknown",
                f"model {model.name} v{model.version} reads view(s) {', '.join(unknown)} that are not configured",
            )
        return [views[scoring.view], *(views[name] for name in declared)]

    async def stored_features(entity_id: str, specs: list[ViewSpec]) -> tuple[dict[str, FeatureValue], int, bool]:
        """The entity's features from every view in ``specs`` (first: the scoring view, required; the others add
        their features where stored, never replacing a scoring-view feature of the same name), the scoring
        view's feature set version, and staleness (any record older than its view's TTL)."""
        records = await asyncio.gather(*(lookup(spec, [entity_id]) for spec in specs))
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
                is_stale = stale(record, spec, now_ms) or is_stale
        return features, primary.feature_set_version, is_stale

    async def featurise_new_post(post: NewPost) -> tuple[dict[str, FeatureValue], int, bool]:
        """A new post's features (caption + its account's online record), feature set version and staleness."""
        spec = views[scoring.account_view]
        account = (await lookup(spec, [post.account_id]))[0]
        if account is None:
            raise ApiError(
                404,
                "account_features_not_found",
                f"no features stored for account {post.account_id!r} in view {spec.name!r}; "
                "a new post is scored with its account's features",
            )
        try:
            features = new_post_features(post, account, config.features.text, datetime.now(UTC))
        except ValueError as exc:
            raise ApiError(422, "invalid_request", str(exc)) from None
        return features, account.feature_set_version, stale(account, spec, int(time.time() * 1000))

    def reload_model() -> ReloadResponse:
        """Load the model again through ``model_loader`` and serve it for every variant (SIGHUP, admin endpoint)."""
        if model_loader is None:
            raise ApiError(503, "reload_unavailable", "this service was started without a model registry to reload")
        try:
            loaded = model_loader()
        except Exception as exc:  # registry or artifact store down, corrupt model: keep serving the current one
            log.warning("model reload failed: %s", exc)
            detail = f"model reload failed ({type(exc).__name__}); model unchanged"
            raise ApiError(503, "reload_failed", detail) from None
        if loaded is None:
            ml = config.ml
            raise ApiError(
                404, "model_not_found", f"no {ml.registered_model}@{ml.champion_alias} registered; model unchanged"
            )
        previous = served.replace(loaded)
        log.info("reloaded %s v%s (served before: %s)", loaded.name, loaded.version, previous)
        return ReloadResponse(
            model_name=loaded.name,
            version=loaded.version,
            previous_version=previous,
            changed=previous != loaded.version,
        )

    app.state.reload_model = reload_model

    @app.post("/v1/admin/reload-model", tags=["admin"], responses=error_responses(401, 403, 404, 503))
    async def reload_model_endpoint(caller: Caller) -> ReloadResponse:
        """Reload the registry's champion (``ml.registered_model@ml.champion_alias``); old and new version."""
        authenticator.require(caller, config.serving.admin_scope)
        if not scoring.enabled:
            raise ApiError(503, "scoring_disabled", "scoring is disabled (serving.scoring.enabled: false)")
        return await run_in_threadpool(reload_model)

    @app.post(
        "/v1/score",
        tags=["scoring"],
        responses=error_responses(400, 401, 403, 404, 422, 503),
        response_model_exclude_unset=True,  # `explanation` only when asked for
    )
    async def score(
        body: ScoreRequest, caller: Caller, request: Request, response: Response, explain: bool = False
    ) -> ScoreResponse:
        """Predicted engagement with model name/version and the entity's sticky A/B variant.

        Features: ``features`` as sent, else ``post`` (a new post: caption/hashtag features + its account's
        online features), else the entity's record in the scoring view. ``explain=true`` adds the top features
        that moved the score (each set to its training median in turn: one extra ``predict`` of a few rows).
        """
        authenticator.require(caller, "score")
        if not scoring.enabled:
            raise ApiError(503, "scoring_disabled", "scoring is disabled (serving.scoring.enabled: false)")
        variant = assign_variant(scoring.experiment, body.entity_id, variant_weights)
        chosen = served.get(variant)
        if chosen is None:
            raise ApiError(503, "model_not_loaded", f"no model loaded for variant {variant!r}")
        if body.features is not None:
            features, fsv, is_stale, source = body.features, None, False, "request"
        elif body.post is not None:
            features, fsv, is_stale = await featurise_new_post(body.post)
            source = "new_post"
        else:
            features, fsv, is_stale = await stored_features(body.entity_id, model_views(chosen))
            source = "online_store"
        value = float(chosen.predict(features))
        explanation = None
        if explain:
            pairs = chosen.explain(features) if hasattr(chosen, "explain") else []
            if not pairs:
                raise ApiError(
                    400,
                    "explanation_unavailable",
                    f"model {chosen.name} v{chosen.version} was logged without training medians: "
                    "retrain it (`dip train`) to explain its scores",
                )
            explanation = [Contribution(feature=name, contribution=delta) for name, delta in pairs]
        given = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = given if 0 < len(given) <= 64 and _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        predictions.log(
            {
                "request_id": request_id,
                "entity_id": body.entity_id,
                "view": {"online_store": scoring.view, "new_post": scoring.account_view}.get(source),
                "feature_set_version": fsv,
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
            features_source=source,
            feature_set_version=fsv,
            stale=is_stale,
            **({"explanation": explanation} if explain else {}),
        )

    return app
