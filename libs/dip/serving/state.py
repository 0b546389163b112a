"""What every route of one serving app shares (views, Redis, auth, metrics, models), kept at ``app.state.serving``.

The routers are module-level; they reach this state through the :data:`State` and :data:`Caller` dependencies
instead of closing over it, so each app built by ``create_app`` keeps its own client, registry and models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated

import redis.asyncio
from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from dip.config import Config
from dip.config.models import ScoringConfig
from dip.online import OnlineRecord, ViewSpec, read_many_async
from dip.serving.auth import API_KEY_HEADER, Authenticator, Principal
from dip.serving.errors import ApiError
from dip.serving.metrics import ServingMetrics
from dip.serving.predictions import PredictionLogger, ProducerLike
from dip.serving.schemas import ReloadResponse
from dip.serving.scoring import ScoringModel, ServedModels

log = logging.getLogger(__name__)


def _is_stale(record: OnlineRecord, view: ViewSpec, now_ms: int) -> bool:
    return now_ms - record.event_ts_ms > view.ttl_seconds * 1000


@dataclass
class ServingState:
    """One app's shared pieces; ``owns_client`` says the app made its Redis client and closes it at shutdown.

    ``prediction_producer`` is the producer given to ``create_app`` (None: one is made at startup).
    """

    config: Config
    views: dict[str, ViewSpec]
    client: redis.asyncio.Redis
    owns_client: bool
    authenticator: Authenticator
    metrics: ServingMetrics
    served: ServedModels
    predictions: PredictionLogger
    prediction_producer: ProducerLike | None = None
    model_loader: Callable[[], ScoringModel | None] | None = None
    variant_weights: list[tuple[str, int]] = field(init=False)

    def __post_init__(self) -> None:
        self.variant_weights = [(v.name, v.weight) for v in self.scoring.variants]

    @property
    def scoring(self) -> ScoringConfig:
        return self.config.serving.scoring

    def view_for(self, name: str, caller: Principal) -> ViewSpec:
        """The configured view ``name`` (404 when unknown) once ``caller`` holds ``features:<name>`` (403)."""
        view = self.views.get(name)
        if view is None:
            raise ApiError(404, "unknown_view", f"unknown feature view {name!r}; known: {', '.join(self.views)}")
        self.authenticator.require(caller, f"features:{name}")
        return view

    async def lookup(self, view: ViewSpec, entity_ids: list[str]) -> list[OnlineRecord | None]:
        """The entities' records in ``view`` (one pipelined round trip), counting hits and misses."""
        records = await read_many_async(self.client, view, entity_ids)
        found = sum(r is not None for r in records)
        self.metrics.hits.labels(view.name).inc(found)
        self.metrics.misses.labels(view.name).inc(len(records) - found)
        return records

    def stale(self, record: OnlineRecord, view: ViewSpec, now_ms: int) -> bool:
        """Whether ``record`` is older than its view's TTL, counting the stale ones."""
        flag = _is_stale(record, view, now_ms)
        if flag:
            self.metrics.stale.labels(view.name).inc()
        return flag

    def reload_model(self) -> ReloadResponse:
        """Load the model again through ``model_loader`` and serve it for every variant (SIGHUP, admin endpoint)."""
        if self.model_loader is None:
            raise ApiError(503, "reload_unavailable", "this service was started without a model registry to reload")
        try:
            loaded = self.model_loader()
        except Exception as exc:  # registry or artifact store down, corrupt model: keep serving the current one
            log.warning("model reload failed: %s", exc)
            detail = f"model reload failed ({type(exc).__name__}); model unchanged"
            raise ApiError(503, "reload_failed", detail) from None
        if loaded is None:
            ml = self.config.ml
            raise ApiError(
                404, "model_not_found", f"no {ml.registered_model}@{ml.champion_alias} registered; model unchanged"
            )
        previous = self.served.replace(loaded)
        log.info("reloaded %s v%s (served before: %s)", loaded.name, loaded.version, previous)
        return ReloadResponse(
            model_name=loaded.name,
            version=loaded.version,
            previous_version=previous,
            changed=previous != loaded.version,
        )

    def require_scoring(self) -> None:
        """503 while ``serving.scoring.enabled`` is false."""
        if not self.scoring.enabled:
            raise ApiError(503, "scoring_disabled", "scoring is disabled (serving.scoring.enabled: false)")


def serving_state(request: Request) -> ServingState:
    """The state of the app serving ``request``."""
    return request.app.state.serving


State = Annotated[ServingState, Depends(serving_state)]

api_key_scheme = APIKeyHeader(name=API_KEY_HEADER, auto_error=False, description="Plain API key (stored hashed).")
bearer_scheme = HTTPBearer(auto_error=False, bearerFormat="JWT", description="HS256 JWT with a `scope` claim.")


async def principal(
    state: State,
    api_key: Annotated[str | None, Security(api_key_scheme)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> Principal:
    """The authenticated caller (401 when the credentials are missing or wrong)."""
    return state.authenticator.authenticate(api_key, bearer.credentials if bearer else None)


Caller = Annotated[Principal, Depends(principal)]
