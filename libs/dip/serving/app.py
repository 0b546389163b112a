"""FastAPI app factory: online features, batch reads, scoring, health, readiness and metrics.

Nothing is created at import time; ``create_app`` builds one app with its own Redis client (unless
one is given), metrics registry and authenticator, kept at ``app.state.serving`` for the routers
(``ops_routes``, ``feature_routes``, ``score_routes``). Endpoints are async on an asyncio Redis client
(no threadpool hop); every read of many entities is one pipelined round trip per view.
"""

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import redis.asyncio
from fastapi import FastAPI

import dip
from dip.config import Config
from dip.online import make_async_client, view_specs
from dip.serving import feature_routes, lifecycle_routes, ops_routes, score_routes
from dip.serving.auth import API_KEY_HEADER, Authenticator
from dip.serving.dashboard import routes as dashboard_routes
from dip.serving.errors import install_error_handlers
from dip.serving.limits import BodySizeLimit
from dip.serving.metrics import MetricsMiddleware, ServingMetrics
from dip.serving.predictions import PredictionLogger, ProducerLike, make_producer
from dip.serving.scoring import ScoringModel, ServedModels, models_by_variant
from dip.serving.state import ServingState


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """With scoring enabled, a prediction producer for the app's life; at shutdown, flush it and close Redis."""
    state: ServingState = app.state.serving
    if state.scoring.enabled:
        given = state.prediction_producer
        state.predictions.producer = given if given is not None else make_producer(state.config)
    yield
    state.predictions.close()
    state.predictions.producer = None
    if state.owns_client:
        await state.client.aclose()


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
    variant_names = [v.name for v in scoring.variants]
    metrics = ServingMetrics()
    state = ServingState(
        config=config,
        views=views,
        client=redis_client if redis_client is not None else make_async_client(config.redis),
        owns_client=redis_client is None,
        authenticator=Authenticator(config.serving),
        metrics=metrics,
        served=ServedModels(models_by_variant(model, variant_names), variant_names),
        predictions=PredictionLogger(None, config.kafka.topics.predictions, metrics.prediction_log_failures),
        prediction_producer=prediction_producer,
        model_loader=model_loader,
    )
    app = FastAPI(
        title="DIP feature and scoring service",
        version=dip.__version__,
        description="Online features from Redis (docs/online_store.md) and engagement scores. "
        f"Auth: an {API_KEY_HEADER} header or an OAuth2 bearer JWT with scopes "
        f"`features:<view>` (or `features:*`), `score` and `{config.serving.admin_scope}` (admin endpoints).",
        lifespan=_lifespan,
    )
    app.state.serving = state
    app.state.reload_model = state.reload_model
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=config.serving.max_body_bytes)
    app.add_middleware(MetricsMiddleware, metrics=metrics)  # outermost: counts the 413s too
    for routes in (ops_routes, feature_routes, score_routes, lifecycle_routes):
        app.include_router(routes.router)
    if config.dashboard.enabled:  # the seller dashboard: same app, same auth (scope dashboard.scope)
        app.include_router(dashboard_routes.router)
    return app
