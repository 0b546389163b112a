"""Engagement model: point-in-time training sets, training with MLflow tracking, the registry's champion."""
