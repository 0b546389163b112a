"""The pluggable source interface: a source is one class (auth, entities, paging, response -> records)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dip.config import Config
from dip.connectors.clock import Clock, utc_now
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.secrets import SecretsProvider


@dataclass
class ApiResponse:
    """One successful (or malformed) HTTP exchange, as it is stored in the raw zone."""

    source: str
    entity: str
    endpoint: str
    account_id: str
    status: int
    body: bytes
    url: str
    request_id: str
    fetched_at: str
    context: dict[str, str] = field(default_factory=dict)
    data: Any = None
    error: str | None = None

    def meta(self) -> dict[str, Any]:
        """Everything but the body: enough to map the body to records again (replay)."""
        return {
            "source": self.source,
            "entity": self.entity,
            "endpoint": self.endpoint,
            "account_id": self.account_id,
            "status": self.status,
            "url": self.url,
            "request_id": self.request_id,
            "fetched_at": self.fetched_at,
            "context": self.context,
            "error": self.error,
        }


@dataclass(frozen=True)
class Record:
    """One API object to publish: the envelope minus ``run_id``."""

    source: str
    entity: str
    schema_version: int
    account_id: str
    entity_id: str
    payload: dict[str, Any]
    request_id: str
    fetched_at: str

    @property
    def key(self) -> str:
        return f"{self.source}:{self.entity}:{self.entity_id}"


@dataclass
class Page:
    """A unit of progress: the responses fetched since the previous page plus the state to commit once acked."""

    stream: str
    cursor: str | None = None
    done: bool = True
    max_ts: int | None = None


@dataclass
class StreamState:
    """Incremental position of one stream (e.g. media list) of one account."""

    cursor: str | None = None
    hwm: int | None = None
    pending_hwm: int | None = None


@dataclass
class FetchContext:
    """What a source needs while paging one account; ``responses`` collects every stored exchange."""

    account_id: str
    streams: dict[str, StreamState]
    lookback_s: int
    responses: list[ApiResponse] = field(default_factory=list)

    def stream(self, name: str) -> StreamState:
        return self.streams.setdefault(name, StreamState())

    def cutoff(self, name: str) -> int | None:
        """Epoch seconds before which items need no refetch (high-water mark minus the restatement lookback)."""
        hwm = self.stream(name).hwm
        return None if hwm is None else hwm - self.lookback_s

    def drain(self) -> list[ApiResponse]:
        taken, self.responses = self.responses, []
        return taken


class Source(ABC):
    """A platform connector; subclasses set ``name``/``entities`` and are registered in the registry."""

    name: ClassVar[str]
    entities: ClassVar[Mapping[str, int]]  # entity -> schema version it produces

    def __init__(
        self, config: Config, secrets: SecretsProvider, metrics: ConnectorMetrics, *, clock: Clock = utc_now
    ) -> None:
        self.config = config
        self.secrets = secrets
        self.metrics = metrics
        self.clock = clock  # stamps fetched_at; a simulated clock in demos

    @abstractmethod
    def accounts(self) -> list[str]:
        """Account ids to fetch (from config)."""

    @abstractmethod
    def authenticate(self) -> None:
        """Obtain app-level tokens; raises ConfigurationError/ApiError when credentials are wrong."""

    @abstractmethod
    def pages(self, ctx: FetchContext) -> Iterator[Page]:
        """Fetch one account stream by stream, yielding a :class:`Page` after each unit of progress."""

    @abstractmethod
    def map_response(self, response: ApiResponse) -> list[Record]:
        """Records in a (parsed, successful) response; pure, so replay maps stored bodies the same way."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release HTTP connections."""
