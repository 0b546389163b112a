"""Prometheus metrics of jobs: served while long-running, pushed or written to a textfile when done."""
