"""Bronze -> silver: parse payloads by schema version, normalise both platforms, validate, merge."""
