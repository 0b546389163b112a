"""API-key hashing, scope rules and credential resolution (401/403 decisions) without HTTP."""

from __future__ import annotations

import time

import jwt
import pytest
from pydantic import SecretStr

from dip.config.models import ApiKeyConfig, JwtConfig, ServingConfig
from dip.serving.auth import Authenticator, Principal, has_scope, hash_api_key, parse_scope_claim
from dip.serving.errors import ApiError

KEY = "s3cret-key"
KEY_SHA256 = "817b823905cc7853f381992575a9041fcdb17fc70e776707abfb4d7c59ecbf3f"  # printf %s s3cret-key | sha256sum
JWT_SECRET = "jwt-test-secret-0123456789abcdef0123"


@pytest.fixture()
def authenticator() -> Authenticator:
    serving = ServingConfig(
        api_keys={"dashboard": ApiKeyConfig(sha256=KEY_SHA256, scopes=["features:post_features_daily"])},
        jwt=JwtConfig(enabled=True, issuer="dip-auth", audience="dip", secret=SecretStr(JWT_SECRET)),
    )
    return Authenticator(serving)


def _token(claims: dict[str, object], secret: str = JWT_SECRET) -> str:
    """An HS256 token with defaults (sub, iss, aud, exp in 60 s); a claim set to None is left out."""
    merged = {"sub": "svc-a", "iss": "dip-auth", "aud": "dip", "exp": int(time.time()) + 60, **claims}
    return jwt.encode({k: v for k, v in merged.items() if v is not None}, secret, "HS256")


def test_hash_api_key_is_sha256_hex() -> None:
    assert hash_api_key(KEY) == KEY_SHA256


@pytest.mark.parametrize(
    ("scopes", "required", "granted"),
    [
        ({"features:post_features_daily"}, "features:post_features_daily", True),
        ({"features:post_features_daily"}, "features:account_features_daily", False),
        ({"features:*"}, "features:account_features_daily", True),
        ({"features:*"}, "score", False),
        ({"score"}, "score", True),
        ({"*"}, "score", False),
        (set(), "score", False),
    ],
)
def test_has_scope(scopes: set[str], required: str, granted: bool) -> None:
    assert has_scope(scopes, required) is granted


@pytest.mark.parametrize(
    ("claim", "scopes"),
    [
        ("score features:a", {"score", "features:a"}),
        (["score"], {"score"}),
        (None, set()),
        (5, set()),
        (["score", 3], set()),
    ],
)
def test_parse_scope_claim(claim: object, scopes: set[str]) -> None:
    assert parse_scope_claim(claim) == frozenset(scopes)


def test_api_key_resolves_to_its_name_and_scopes(authenticator: Authenticator) -> None:
    assert authenticator.authenticate(KEY, None) == Principal(
        "dashboard", "api_key", frozenset({"features:post_features_daily"})
    )


def test_api_key_wins_over_bearer(authenticator: Authenticator) -> None:
    assert authenticator.authenticate(KEY, "not-a-jwt").name == "dashboard"


@pytest.mark.parametrize(
    ("api_key", "bearer", "detail"),
    [
        (None, None, "missing credentials: send an X-API-Key header or Authorization: Bearer <jwt>"),
        ("wrong", None, "invalid API key"),
        (KEY_SHA256, None, "invalid API key"),  # the stored hash is not a key
        (None, "garbage", "invalid bearer token: Not enough segments"),
    ],
)
def test_bad_credentials_are_401(
    authenticator: Authenticator, api_key: str | None, bearer: str | None, detail: str
) -> None:
    with pytest.raises(ApiError) as err:
        authenticator.authenticate(api_key, bearer)
    assert (err.value.status, err.value.error, err.value.detail) == (401, "unauthorized", detail)
    assert err.value.headers == {"WWW-Authenticate": 'Bearer, ApiKey header="X-API-Key"'}


def test_valid_jwt_gives_subject_and_scopes(authenticator: Authenticator) -> None:
    principal = authenticator.authenticate(None, _token({"scope": "score features:*"}))
    assert principal == Principal("svc-a", "jwt", frozenset({"score", "features:*"}))


@pytest.mark.parametrize(
    ("claims", "secret", "detail"),
    [
        ({"exp": int(time.time()) - 3600}, JWT_SECRET, "invalid bearer token: Signature has expired"),
        ({}, "another-secret-of-enough-length-000", "invalid bearer token: Signature verification failed"),
        ({"aud": "other"}, JWT_SECRET, "invalid bearer token: Audience doesn't match"),
        ({"sub": None}, JWT_SECRET, 'invalid bearer token: Token is missing the "sub" claim'),
        ({"exp": None}, JWT_SECRET, 'invalid bearer token: Token is missing the "exp" claim'),
        ({"aud": None}, JWT_SECRET, 'invalid bearer token: Token is missing the "aud" claim'),
        ({"iss": None}, JWT_SECRET, 'invalid bearer token: Token is missing the "iss" claim'),
        ({"iss": "someone-else"}, JWT_SECRET, "invalid bearer token: Invalid issuer"),
    ],
)
def test_bad_jwts_are_401(authenticator: Authenticator, claims: dict[str, object], secret: str, detail: str) -> None:
    with pytest.raises(ApiError) as err:
        authenticator.authenticate(None, _token(claims, secret))
    assert (err.value.status, err.value.detail) == (401, detail)


def test_bearer_refused_when_jwt_disabled() -> None:
    with pytest.raises(ApiError, match="bearer tokens are not accepted by this service"):
        Authenticator(ServingConfig()).authenticate(None, _token({}))


def test_missing_scope_is_403() -> None:
    principal = Principal("dashboard", "api_key", frozenset({"features:post_features_daily"}))
    Authenticator.require(principal, "features:post_features_daily")
    with pytest.raises(ApiError) as err:
        Authenticator.require(principal, "score")
    assert (err.value.status, err.value.error, err.value.detail) == (
        403,
        "forbidden",
        "credential 'dashboard' lacks scope 'score'",
    )


def test_jwt_enabled_without_secret_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="set DIP__SERVING__JWT__SECRET in the environment"):
        JwtConfig(enabled=True)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"secret": "short-secret"}, "serving.jwt.secret is shorter than 32 bytes"),
        ({"issuer": None}, "serving.jwt.issuer must be set when JWTs are enabled"),
        ({"audience": None}, "serving.jwt.audience must be set when JWTs are enabled"),
        ({"issuer": "", "audience": None}, "serving.jwt.issuer and serving.jwt.audience must be set"),
    ],
)
def test_jwt_settings_that_would_accept_foreign_or_forgeable_tokens_are_refused(
    settings: dict[str, object], message: str
) -> None:
    values = {"enabled": True, "issuer": "dip-auth", "audience": "dip", "secret": JWT_SECRET} | settings
    with pytest.raises(ValueError, match=message):
        JwtConfig.model_validate(values)


def test_api_key_hash_must_be_sha256_hex() -> None:
    with pytest.raises(ValueError, match="should match pattern"):
        ApiKeyConfig(sha256="plain-key-by-mistake")
