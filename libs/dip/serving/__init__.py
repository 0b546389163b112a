"""Feature and scoring service: FastAPI app factory, auth, metrics; `dip serve` runs it under uvicorn."""

from dip.serving.app import create_app
from dip.serving.auth import Authenticator, Principal, has_scope, hash_api_key
from dip.serving.scoring import ScoringModel, assign_variant

__all__ = ["Authenticator", "Principal", "ScoringModel", "assign_variant", "create_app", "has_scope", "hash_api_key"]
