"""The pluggable source interface: a source is one class (auth, entities, paging, response -> records)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from dip.config import Config
from dip.connectors.clock import Clock, utc_now
from dip.connectors.metrics import ConnectorMetrics
from dip.io.secrets import SecretsProvider


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


def json_object(response: ApiResponse) -> dict[str, Any]:
    """The response's JSON object; any other shape marks the response as an error (so it is dead-lettered with
    the account's leftovers) and raises :class:`UnexpectedResponse`."""
    if isinstance(response.data, dict):
        return response.data
    from dip.connectors.errors import UnexpectedResponse

    response.error = f"expected a JSON object from {response.endpoint}, got {type(response.data).__name__}"
    raise UnexpectedResponse(f"{response.error} ({response.url})", status=response.status)


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


@dataclass(frozen=True)
class Skipped:
    """An item the API refused for good (e.g. insights of a media with too few viewers); the account goes on."""

    entity: str
    item_id: str
    code: str
    message: str


@dataclass
class FetchContext:
    """What a source needs while paging one account; ``responses`` collects every stored exchange, ``skipped``
    the items refused for good and ``warnings`` what the run should tell (paging stopped early, cursor reset)."""

    account_id: str
    streams: dict[str, StreamState]
    lookback_s: int
    max_pages: int = 500
    retry: dict[str, int] = field(default_factory=dict)  # "<entity>:<item id>" refused by earlier runs -> times
    retry_runs: int = 5
    responses: list[ApiResponse] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # (stream, reason, message)
    asked: set[str] = field(default_factory=set)  # items asked for in this run

    def skip(self, item: Skipped, *, retry: bool = False) -> None:
        """Record an item the API refused; with ``retry`` later runs ask for it again (up to ``retry_runs``)."""
        self.skipped.append(item)
        key = f"{item.entity}:{item.item_id}"
        self.asked.add(key)
        if retry:
            self.retry[key] = self.retry.get(key, 0) + 1
            if self.retry[key] >= self.retry_runs:
                del self.retry[key]
                self.warn(item.entity, "gave_up", f"{key}: refused by {self.retry_runs} runs, not asked again")

    def fetched(self, entity: str, item_id: str) -> None:
        """An item was fetched: no retry needed any more."""
        self.asked.add(f"{entity}:{item_id}")
        self.retry.pop(f"{entity}:{item_id}", None)

    def retry_ids(self, entity: str) -> list[str]:
        """Items of ``entity`` refused by earlier runs and not asked for in this one yet."""
        prefix = f"{entity}:"
        return sorted(k.removeprefix(prefix) for k in self.retry if k.startswith(prefix) and k not in self.asked)

    def warn(self, stream: str, reason: str, message: str) -> None:
        self.warnings.append((stream, reason, message))

    def pager(self, stream: str) -> Pager:
        return Pager(self, stream)

    def stream(self, name: str) -> StreamState:
        return self.streams.setdefault(name, StreamState())

    def cutoff(self, name: str) -> int | None:
        """Epoch seconds before which items need no refetch (high-water mark minus the restatement lookback)."""
        hwm = self.stream(name).hwm
        return None if hwm is None else hwm - self.lookback_s

    def drain(self) -> list[ApiResponse]:
        taken, self.responses = self.responses, []
        return taken


class Pager:
    """Guards one paging loop against never ending: a cursor already seen in this run ends the stream (the
    API is stuck; the next run starts from the newest item again), and after ``max_pages`` pages the loop stops
    with its cursor saved so the next run resumes there."""

    def __init__(self, ctx: FetchContext, stream: str) -> None:
        self.ctx, self.stream = ctx, stream
        self.pages = 0
        self.seen: set[str] = set()

    def stop_reason(self, next_cursor: str | None) -> str | None:
        """Count a page whose successor is ``next_cursor``; ``repeated_cursor``/``page_cap`` when paging must stop."""
        self.pages += 1
        if next_cursor is None:
            return None
        if next_cursor in self.seen:
            self.ctx.warn(
                self.stream,
                "repeated_cursor",
                f"{self.stream}: the API returned cursor {next_cursor[:40]!r} a second time after {self.pages} pages;"
                " paging stopped (the next run starts from the newest item)",
            )
            return "repeated_cursor"
        self.seen.add(next_cursor)
        if self.pages >= self.ctx.max_pages:
            self.ctx.warn(
                self.stream,
                "page_cap",
                f"{self.stream}: {self.pages} pages fetched (connectors.max_pages_per_run); the next run resumes"
                " from the saved cursor",
            )
            return "page_cap"
        return None


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
