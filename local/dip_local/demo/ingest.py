"""The demo's ingest: the simulator and the connectors share one simulated clock, round after round."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlparse

from dip.config import Config
from dip.connectors.clock import SimulatedClock, utc_now
from dip_local.demo.timeline import Timeline, save_progress

# The demo's sellers post every 2-3 simulated hours: over its week, enough posts get a 48 h label and
# 24 h features (ml.min_rows) for the model to be trained and gated against its baselines.
DEMO_POSTS_PER_ACCOUNT = 70
DEMO_POST_GAP_HOURS = (2, 3)


@dataclass
class IngestRounds:
    """What the rounds of one demo run published, and the clock they ran on (kept for freshness)."""

    clock: SimulatedClock
    timeline: Timeline
    rounds: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("records", "unchanged", "pages", "dlq"), 0))


def simulator_port(config: Config) -> int:
    """The port of the loopback base URL the connectors are configured with."""
    return urlparse(config.connectors.instagram.base_url).port or 80


def ingest_rounds(
    config: Config,
    timeline: Timeline,
    *,
    scale: int = 1,
    on_round: Callable[[int, int, str, dict[str, int]], None] | None = None,
) -> IngestRounds:
    """Serve the simulated world and ingest every pending round of ``timeline`` at its simulated time.

    Between rounds the shared clock jumps to the next round's time; progress is saved after each
    round, so a later run resumes (or, when all are done, ingests the last round again: nothing new).
    """
    from dip.connectors.ingest import INGEST, ingest_counts, run_ingest
    from dip.connectors.state import local_state_dir
    from dip.job_runner import run_job
    from dip_local.simulator import create_app
    from dip_local.simulator.server import background_server

    pending = timeline.pending()
    clock = SimulatedClock(pending[0], wall=utc_now)
    result = IngestRounds(clock, timeline)
    app = create_app(
        42,
        posts_per_account=DEMO_POSTS_PER_ACCOUNT * scale,
        newest_post=timeline.newest_post,
        clock=clock,
        post_gap_hours=DEMO_POST_GAP_HOURS,
    )
    with background_server(app, port=simulator_port(config)):
        for n, moment in enumerate(pending):
            if n:
                clock.advance(moment - pending[n - 1])
            with run_job(INGEST, config, echo=lambda _line: None) as job:
                summaries = run_ingest(config, "all", clock=clock)
                job.counts = ingest_counts(summaries)
                errors = [e for s in summaries for e in s.errors]
                if errors:  # inside the run: its lineage row says failed
                    raise RuntimeError(f"ingest of the round at {moment:%Y-%m-%d %H:%M} failed: {errors[0]}")
            counts = {
                "records": sum(s.records for s in summaries),
                "unchanged": sum(s.unchanged for s in summaries),
                "pages": sum(s.pages for s in summaries),
                "dlq": sum(s.dlq for s in summaries),
            }
            for key, value in counts.items():
                result.counts[key] += value
            result.rounds += 1
            result.timeline = save_progress(local_state_dir(config), result.timeline, moment)
            if on_round:
                on_round(n + 1, len(pending), f"{moment:%Y-%m-%d %H:%M}", counts)
    return result
