"""Ingest never fetches an account on the forgotten list (`dip forget`, the deletion callback)."""

from __future__ import annotations

from dip.config import Config
from dip.connectors.ingest import IngestRun
from dip.connectors.sources import SourceRegistry
from dip.lifecycle.requests import record_request


class _Source:
    """Lists two accounts; fetching anything would fail the test (only forgotten accounts are listed here)."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        self.closed = False

    def authenticate(self) -> None: ...

    def accounts(self) -> list[str]:
        return ["1111", "2222"]

    def close(self) -> None:
        self.closed = True


class _Publisher:
    def ensure_topics(self, _topics: object) -> None: ...


def test_forgotten_accounts_are_skipped_and_counted(unit_config: Config) -> None:
    record_request(unit_config, "fake", "1111", "test")
    record_request(unit_config, "fake", "2222", "test")
    record_request(unit_config, "other", "3333", "test")
    registry = SourceRegistry()
    registry.register("fake", _Source)  # type: ignore[arg-type]
    run = IngestRun(unit_config, registry=registry, publisher=_Publisher())  # type: ignore[arg-type]

    summary = run.run_source("fake")

    assert summary.errors == []
    assert summary.accounts == 0
    assert summary.skipped == {"forgotten account (dip forget)": 2}
