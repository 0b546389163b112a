"""The I/O layer: the one place each client and table access is built, so SASL/TLS, AUTH and secrets apply everywhere.

- ``dip.io.kafka``: confluent-kafka producer/consumer/admin and Spark's Kafka source/sink options (SASL/TLS).
- ``dip.io.redis_client``: redis-py clients (TLS, AUTH from the secrets layer).
- ``dip.io.secrets`` / ``dip.io.credentials``: secrets providers (env, Vault, AWS) and the client credentials.
- ``dip.io.table_access``: exists / version / read of Delta and Hudi tables; ``dip.io.arrow_reader``: the same
  without a JVM (delta-rs, hudi-rs); ``dip.io.delta_append``: idempotent Delta appends; ``dip.io.lake``: deletes.

Nothing here imports a pipeline stage: stages, serving and jobs import this layer, never the other way round.
"""
