"""POST /v1/admin/forget: an admin's JSON request or Meta's signed_request callback, answered {url, confirmation_code};
bad signatures are refused; the status URL tells requested/completed and nothing else."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from dip.config import Config
from dip.io.forgotten import account_hash, forgotten_hashes
from dip.lifecycle.requests import pending_requests, record_completed
from dip.serving.signed_request import SignedRequestError, sign, verify

URL = "/v1/admin/forget"
SECRET = "meta-app-secret-for-tests"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def lake_config(config: Config, tmp_path: Path) -> Config:
    config.lake.root = (tmp_path / "lake").as_uri()
    config.connectors.instagram.app_secret = SecretStr(SECRET)
    return config


def test_admin_json_request_is_queued_and_answered_with_a_status_url(
    lake_config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    with scoring_client(lake_config, None) as client:
        response = client.post(
            URL, json={"source": "tiktok", "account_id": "open-1", "purge": True}, headers={"X-API-Key": "ops-key"}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        code = body["confirmation_code"]
        assert body == {"url": f"http://testserver/v1/admin/forget/{code}", "confirmation_code": code}
        [request] = pending_requests(lake_config)
        assert (request.request_id, request.source, request.requested_by, request.purge) == (
            code,
            "tiktok",
            "ops",
            True,
        )
        assert forgotten_hashes(lake_config) == {account_hash("tiktok", "open-1")}
        assert client.get(body["url"]).json() == {"confirmation_code": code, "status": "requested"}
        record_completed(lake_config, request, {"bronze_events": 1})
        assert client.get(body["url"]).json() == {"confirmation_code": code, "status": "completed"}
        assert client.get(f"{URL}/nope").status_code == 404


def test_admin_path_needs_credentials_and_the_admin_scope(
    lake_config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    payload = {"source": "tiktok", "account_id": "open-1"}
    with scoring_client(lake_config, None) as client:
        assert client.post(URL, json=payload).status_code == 401
        assert client.post(URL, json=payload, headers={"X-API-Key": "scorer-key"}).status_code == 403
        bad = client.post(URL, json={"source": "tiktok"}, headers={"X-API-Key": "ops-key"})
        assert bad.status_code == 422
        assert bad.json() == {"error": "invalid_request", "detail": "account_id: Field required"}
    assert pending_requests(lake_config) == []


def test_meta_callback_with_a_valid_signed_request(
    lake_config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    signed = sign({"algorithm": "HMAC-SHA256", "issued_at": 1764300000, "user_id": "17841400000000042"}, SECRET)
    with scoring_client(lake_config, None) as client:
        response = client.post(URL, content=f"signed_request={signed}", headers=FORM)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"url", "confirmation_code"}
    [request] = pending_requests(lake_config)
    assert (request.source, request.requested_by) == ("instagram", "meta-data-deletion-callback")
    assert request.account_hash == account_hash("instagram", "17841400000000042")


def test_meta_callback_with_a_bad_signature_is_refused(
    lake_config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    forged = sign({"algorithm": "HMAC-SHA256", "user_id": "1"}, "another-apps-secret")
    with scoring_client(lake_config, None) as client:
        refused = client.post(URL, content=f"signed_request={forged}", headers=FORM)
        missing = client.post(URL, content="other=1", headers=FORM)
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "detail": "invalid signed_request: signed_request signature does not match the app secret",
    }
    assert missing.status_code == 400
    assert pending_requests(lake_config) == []


def test_verify_rejects_malformed_and_non_hmac_requests() -> None:
    good = sign({"algorithm": "HMAC-SHA256", "user_id": "7"}, SECRET)
    assert verify(good, SECRET)["user_id"] == "7"
    signature, body = good.split(".")
    with pytest.raises(SignedRequestError, match="does not match"):
        verify(f"{signature}.{body}x", SECRET)
    with pytest.raises(SignedRequestError, match=r"<signature>\.<payload>"):
        verify(body, SECRET)
    with pytest.raises(SignedRequestError, match="algorithm must be HMAC-SHA256"):
        verify(sign({"algorithm": "none", "user_id": "7"}, SECRET), SECRET)
    with pytest.raises(SignedRequestError, match="no user_id"):
        verify(sign({"algorithm": "HMAC-SHA256"}, SECRET), SECRET)


def test_meta_callback_without_a_configured_secret_is_refused(
    lake_config: Config, scoring_client: Callable[..., TestClient]
) -> None:
    lake_config.connectors.instagram.app_secret = None
    signed = sign({"algorithm": "HMAC-SHA256", "user_id": "1"}, SECRET)
    with scoring_client(lake_config, None) as client:
        response = client.post(URL, content=f"signed_request={signed}", headers=FORM)
    assert response.status_code == 403
    assert response.json()["detail"] == "cannot verify signed_request: connectors.instagram.app_secret is not set"
    assert pending_requests(lake_config) == []
