"""Structured Streaming jobs: Kafka -> Delta bronze, Delta bronze -> Delta silver."""
