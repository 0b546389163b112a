"""Structured Streaming building blocks (Kafka source/sink options, the micro-batch runner, DLQ rows and writes,
the envelope) and the Kafka -> bronze stage. Silvers stream job lives in dip.silver.stream_job, the live views
in ``dip.features.live_job``, the three together in ``dip.stream_all``."""
