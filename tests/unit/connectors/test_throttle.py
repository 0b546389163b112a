"""Header-based slowdown before the Graph API limit, Retry-After parsing, and the shared request budget."""

from __future__ import annotations

import json

from dip.connectors.throttle import RequestBudget, parse_retry_after, usage_delay, usage_pct


def headers(app: int, buc: int = 0, regain: int = 0) -> dict[str, str]:
    return {
        "x-app-usage": json.dumps({"call_count": app, "total_cputime": 1, "total_time": 1}),
        "x-business-use-case-usage": json.dumps(
            {
                "ig1": [
                    {
                        "type": "instagram",
                        "call_count": buc,
                        "total_cputime": 0,
                        "total_time": 0,
                        "estimated_time_to_regain_access": regain,
                    }
                ]
            }
        ),
    }


def test_usage_pct_takes_the_highest_of_both_headers() -> None:
    assert usage_pct(headers(40, 85)) == (85.0, 0.0)
    assert usage_pct({"x-app-usage": "not json"}) == (0.0, 0.0)


def test_usage_delay_starts_at_threshold_and_grows_to_max() -> None:
    assert usage_delay(headers(74), 75, 10) == 0.0
    assert usage_delay(headers(75), 75, 10) == 0.0
    assert usage_delay(headers(80), 75, 10) == 2.0
    assert usage_delay(headers(90, 20), 75, 10) == 6.0
    assert usage_delay(headers(100), 75, 10) == 10.0
    assert usage_delay(headers(10, 10, regain=2), 75, 10) == 120.0


def test_parse_retry_after() -> None:
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def test_budget_paces_requests_and_pauses_everyone() -> None:
    clock = FakeClock()
    budget = RequestBudget(2.0, burst=2, clock=clock, sleep=clock.sleep)
    waits = [budget.acquire() for _ in range(4)]
    assert waits == [0.0, 0.0, 0.5, 0.5]
    budget.pause(3.0)
    assert budget.acquire() == 3.0
