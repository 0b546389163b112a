"""Redis online store: the key/field contract shared by the push job and the serving API (see codec)."""

from dip.io.redis_client import make_async_client, make_client
from dip.online.codec import (
    ENTITY_ID_PATTERN,
    OnlineRecord,
    RowError,
    ViewSpec,
    decode_hash,
    decode_value,
    encode_row,
    encode_value,
    is_valid_entity_id,
    online_key,
)
from dip.online.store import WriteResult, read_many, read_many_async, write_batch
from dip.online.views import view_specs

__all__ = [
    "ENTITY_ID_PATTERN",
    "OnlineRecord",
    "RowError",
    "ViewSpec",
    "WriteResult",
    "decode_hash",
    "decode_value",
    "encode_row",
    "encode_value",
    "is_valid_entity_id",
    "make_async_client",
    "make_client",
    "online_key",
    "read_many",
    "read_many_async",
    "view_specs",
    "write_batch",
]
