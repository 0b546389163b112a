"""Request and response bodies of the serving API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StringConstraints, model_validator

from dip.online.codec import ENTITY_ID_PATTERN, FeatureValue

EntityId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ENTITY_ID_PATTERN)]
FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]
# what a client may send as a feature: finite numbers, 64-bit integers, bounded strings and vectors
RequestFeatureValue = (
    Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
    | FiniteFloat
    | Annotated[str, StringConstraints(max_length=10_000)]
    | bool
    | Annotated[list[FiniteFloat], Field(max_length=4096)]
    | None
)
FeatureName = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MAX_FEATURES = 1000
MAX_LOOKUP_GROUPS = 100


class FeatureRecord(BaseModel):
    """An entity's features in one view; ``stale`` when older than the view's TTL (by ``event_ts_ms``)."""

    view: str
    entity_id: str
    version: int = Field(
        description="The write version (_v): feature timestamp, Hudi commit time, or for a live view "
        "snapshot epoch ms * 10^10 + silver commit version (docs/online_store.md).",
    )
    event_ts_ms: int = Field(description="Event time the features are as of, epoch milliseconds.")
    feature_set_version: int
    stale: bool
    features: dict[str, FeatureValue]


class BatchLookup(BaseModel):
    view: str
    entity_ids: list[EntityId] = Field(min_length=1, max_length=10_000)  # serving.max_batch_entities in total


class BatchRequest(BaseModel):
    """Entities to read, grouped by view (one Redis round trip per group)."""

    requests: list[BatchLookup] = Field(min_length=1, max_length=MAX_LOOKUP_GROUPS)


class BatchItem(BaseModel):
    """One requested entity; ``found`` false (and the rest null) when nothing is stored for it."""

    view: str
    entity_id: str
    found: bool
    version: int | None = None
    event_ts_ms: int | None = None
    feature_set_version: int | None = None
    stale: bool | None = None
    features: dict[str, FeatureValue] | None = None


class BatchResponse(BaseModel):
    results: list[BatchItem]


Hashtag = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^#?[^\s#]+$")]


class NewPost(BaseModel):
    """A post not in the lake yet: featurised like the pipeline does, joined with its account's online features."""

    account_id: EntityId
    caption: str | None = Field(None, max_length=5000)
    hashtags: list[Hashtag] | None = Field(
        None, max_length=100, description="Without or with a leading #; omitted: extracted from the caption."
    )
    published_at: AwareDatetime | None = Field(
        None, description="Publish time (with offset); omitted: hours_since_publish is unknown."
    )


class ScoreRequest(BaseModel):
    """Score a stored entity (features from the scoring view), supplied features, or a new post to featurise."""

    entity_id: EntityId = Field(description="Post id (for a new post: any id of it); also the A/B stickiness key.")
    features: dict[FeatureName, RequestFeatureValue] | None = Field(None, max_length=MAX_FEATURES)
    post: NewPost | None = None

    @model_validator(mode="after")
    def _one_source(self) -> ScoreRequest:
        if self.features is not None and self.post is not None:
            raise ValueError("send either features or post, not both")
        return self


class Contribution(BaseModel):
    """How much one feature moved the score: score minus the score with the feature at its training median."""

    feature: str
    contribution: float


class ScoreResponse(BaseModel):
    entity_id: str
    score: float
    model_name: str
    model_version: str
    variant: str
    features_source: Literal["online_store", "request", "new_post"]
    feature_set_version: int | None = None
    stale: bool
    explanation: list[Contribution] | None = Field(
        None, description="With `explain=true`: the features that moved this score most, largest first."
    )


class ReloadResponse(BaseModel):
    """The model served after a reload and the version(s) served before it."""

    model_name: str
    version: str
    previous_version: str | None = Field(description="Comma-separated when variants served different versions.")
    changed: bool


class Health(BaseModel):
    status: Literal["ok", "ready", "not_ready"]
    checks: dict[str, str] = Field(default_factory=dict)


class ForgetRequestBody(BaseModel):
    """An operator's deletion request (admin scope)."""

    source: str = Field(min_length=1, max_length=64)
    account_id: str = Field(min_length=1, max_length=128)
    purge: bool = False


class ForgetAccepted(BaseModel):
    """What Meta's data deletion callback must answer: where to follow the request, and its confirmation code."""

    url: str
    confirmation_code: str


class ForgetStatus(BaseModel):
    confirmation_code: str
    status: Literal["requested", "completed"]
