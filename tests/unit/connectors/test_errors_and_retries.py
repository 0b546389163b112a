"""Error mapping of both APIs, the retry/backoff schedule, Retry-After and token refresh on expiry."""

from __future__ import annotations

import random

import httpx
import pytest

from dip.config import Config
from dip.connectors.errors import ApiError, AuthExpired, RateLimited, RetryableError
from dip.connectors.http import ApiClient
from dip.connectors.instagram import InstagramSource, classify_graph_error
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.throttle import RequestBudget, backoff_delay
from dip.connectors.tiktok import classify_tiktok_error
from dip.io.secrets import EnvSecrets
from tests.unit.connectors.conftest import json_response


def graph(code: int, status: int = 400) -> tuple[int, dict, httpx.Headers]:
    return (
        status,
        {"error": {"code": code, "error_subcode": None, "type": "OAuthException", "message": "m", "fbtrace_id": "F"}},
        httpx.Headers({"retry-after": "7"}),
    )


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_graph_rate_limit_codes_map_to_rate_limited_with_retry_after(code: int) -> None:
    error = classify_graph_error(*graph(code))
    assert isinstance(error, RateLimited) and error.retry_after == 7.0 and error.code == code


def test_graph_other_errors() -> None:
    assert type(classify_graph_error(*graph(190))) is AuthExpired
    assert type(classify_graph_error(*graph(2, 500))) is RetryableError
    assert type(classify_graph_error(*graph(100))) is ApiError
    assert classify_graph_error(200, {"id": "1"}, httpx.Headers()) is None
    message = str(classify_graph_error(*graph(100)))
    assert message == "Graph API error 100/None (OAuthException): m [fbtrace_id=F]"


def test_tiktok_errors() -> None:
    def err(code: str) -> dict:
        return {"data": {}, "error": {"code": code, "message": "m", "log_id": "L"}}

    limited = classify_tiktok_error(429, err("rate_limit_exceeded"), httpx.Headers({"retry-after": "3"}))
    assert isinstance(limited, RateLimited) and limited.retry_after == 3.0
    assert type(classify_tiktok_error(401, err("access_token_invalid"), httpx.Headers())) is AuthExpired
    assert type(classify_tiktok_error(500, err("internal_error"), httpx.Headers())) is RetryableError
    assert type(classify_tiktok_error(400, err("invalid_params"), httpx.Headers())) is ApiError
    assert (
        type(classify_tiktok_error(401, {"error": "invalid_client", "error_description": "d"}, httpx.Headers()))
        is ApiError
    )
    assert (
        classify_tiktok_error(200, {"data": {}, "error": {"code": "ok", "message": "", "log_id": "L"}}, httpx.Headers())
        is None
    )


class FixedRandom(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def test_backoff_delay_doubles_caps_and_jitters() -> None:
    assert [backoff_delay(n, 0.5, 4.0, FixedRandom(0.0)) for n in range(1, 7)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert [backoff_delay(n, 0.5, 4.0, FixedRandom(1.0)) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def client(unit_config: Config, responses: list[httpx.Response], sleeps: list[float]) -> ApiClient:
    settings = unit_config.connectors.model_copy(
        update={"backoff_initial_s": 1.0, "backoff_max_s": 8.0, "retry_after_max_s": 30.0, "max_retries": 4}
    )
    queue = list(responses)
    transport = httpx.MockTransport(lambda request: queue.pop(0))
    clock = [0.0]

    def advance(seconds: float) -> None:
        clock[0] += seconds

    budget = RequestBudget(1000, clock=lambda: clock[0], sleep=advance)  # the shared pause is simulated, not slept
    return ApiClient(
        "tiktok",
        "http://tt.test",
        settings,
        budget,
        ConnectorMetrics(),
        classify_tiktok_error,
        transport=transport,
        sleep=sleeps.append,
    )


def test_retry_schedule_backoff_then_retry_after(unit_config: Config) -> None:
    err500 = json_response({"data": {}, "error": {"code": "internal_error", "message": "", "log_id": "L"}}, 500)
    err429 = json_response(
        {"data": {}, "error": {"code": "rate_limit_exceeded", "message": "", "log_id": "L"}}, 429, {"Retry-After": "3"}
    )
    ok = json_response({"data": {"user": {"open_id": "o"}}, "error": {"code": "ok", "message": "", "log_id": "L"}})
    sleeps: list[float] = []
    api = client(unit_config, [err500, err500, err429, ok], sleeps)
    result = api.request("GET", "/v2/user/info/", entity="user", endpoint="user_info", account_id="o")
    assert result.data["data"]["user"] == {"open_id": "o"}
    assert len(sleeps) == 3
    assert 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0 and sleeps[2] == 3.0
    assert api.metrics.value("dip_connector_retries_total") == 3
    assert api.metrics.value("dip_connector_rate_limited_total") == 1


def test_retries_give_up_after_max_and_client_errors_are_not_retried(unit_config: Config) -> None:
    err500 = json_response({"data": {}, "error": {"code": "internal_error", "message": "", "log_id": "L"}}, 500)
    sleeps: list[float] = []
    with pytest.raises(RetryableError):
        client(unit_config, [err500] * 5, sleeps).request("GET", "/x", entity="user", endpoint="e", account_id="o")
    assert len(sleeps) == 4
    bad = json_response({"data": {}, "error": {"code": "invalid_params", "message": "", "log_id": "L"}}, 400)
    sleeps.clear()
    with pytest.raises(ApiError):
        client(unit_config, [bad], sleeps).request("GET", "/x", entity="user", endpoint="e", account_id="o")
    assert sleeps == []


def test_malformed_body_is_kept_for_the_dlq_and_retried(unit_config: Config) -> None:
    broken = httpx.Response(200, content=b'{"data": {"videos": [')
    ok = json_response({"data": {"videos": []}, "error": {"code": "ok", "message": "", "log_id": "L"}})
    sink: list = []
    result = client(unit_config, [broken, ok], []).request(
        "POST", "/v2/video/list/", entity="video", endpoint="video_list", account_id="o", sink=sink
    )
    assert [r.error is None for r in sink] == [False, True] and sink[1] is result
    assert sink[0].body == b'{"data": {"videos": [' and sink[0].error.startswith("invalid JSON")


def test_expired_graph_token_is_exchanged_again_once(unit_config: Config) -> None:
    exchanges: list[str] = []
    state = {"calls": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth/access_token"):
            exchanges.append(request.url.params["fb_exchange_token"])
            return json_response({"access_token": f"LL{len(exchanges)}", "token_type": "bearer", "expires_in": 9})
        state["calls"] += 1
        if request.url.params["access_token"] == "LL1":
            return json_response(
                {
                    "error": {
                        "code": 190,
                        "error_subcode": 463,
                        "type": "OAuthException",
                        "message": "Session has expired",
                        "fbtrace_id": "F",
                    }
                },
                400,
            )
        return json_response({"username": "u", "followers_count": 1, "media_count": 0, "id": "ig1"})

    source = InstagramSource(unit_config, EnvSecrets(unit_config), ConnectorMetrics(), httpx.MockTransport(handle))
    source.authenticate()
    response = source.client.request(
        "GET", "/v24.0/ig1", entity="account", endpoint="account", account_id="ig1", auth=source.auth
    )
    assert response.data["id"] == "ig1"
    assert exchanges == ["user-token-456", "user-token-456"] and state["calls"] == 2
