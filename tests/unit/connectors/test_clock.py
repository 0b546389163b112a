"""The injectable clock: a simulated one keeps real durations and jumps on advance; connectors stamp with it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dip.config import Config
from dip.connectors.base import FetchContext
from dip.connectors.clock import SimulatedClock, iso_utc
from dip.connectors.ingest import IngestRun, new_run_id
from dip.connectors.instagram import InstagramSource
from dip.connectors.metrics import ConnectorMetrics
from dip.io.secrets import EnvSecrets
from tests.unit.connectors.test_pagination import instagram_handler


class WallClock:
    """A wall clock that moves only when told."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_simulated_clock_runs_at_wall_speed_and_jumps_forward_only() -> None:
    wall = WallClock(datetime(2030, 1, 1, 12, 0, tzinfo=UTC))
    clock = SimulatedClock(datetime(2026, 11, 20, tzinfo=UTC), wall=wall)
    assert clock() == datetime(2026, 11, 20, 0, 0, tzinfo=UTC)
    wall.now += timedelta(seconds=5)
    assert clock() == datetime(2026, 11, 20, 0, 0, 5, tzinfo=UTC)
    assert clock.advance(timedelta(hours=6)) == datetime(2026, 11, 20, 6, 0, 5, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(timedelta(seconds=-1))
    with pytest.raises(ValueError, match="timezone-aware"):
        SimulatedClock(datetime(2026, 11, 20))


def test_iso_utc_and_run_id_follow_the_given_clock() -> None:
    moment = datetime(2026, 11, 20, 6, 0, 0, 123456, tzinfo=UTC)
    assert iso_utc(moment) == "2026-11-20T06:00:00.123456Z"
    assert new_run_id(lambda: moment).startswith("20261120T060000Z-")


def test_sources_and_ingest_runs_stamp_fetches_with_the_injected_clock(unit_config: Config) -> None:
    moment = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
    source = InstagramSource(
        unit_config, EnvSecrets(unit_config), ConnectorMetrics(), instagram_handler([]), clock=lambda: moment
    )
    source.authenticate()
    ctx = FetchContext("ig1", {}, lookback_s=7 * 86400)
    next(source.pages(ctx))  # the account request
    assert [r.fetched_at for r in ctx.drain()] == ["2026-11-20T06:00:00.000000Z"]
    run = IngestRun(unit_config, publisher=object(), clock=lambda: moment)  # type: ignore[arg-type]
    assert run.run_id.startswith("20261120T060000Z-")
    created = run.registry.create("tiktok", unit_config, EnvSecrets(unit_config), ConnectorMetrics(), clock=run.clock)
    assert created.clock() == moment and created.client.clock() == moment  # type: ignore[attr-defined]
