"""The configured trigger text -> keyword arguments of ``DataStreamWriter.trigger``."""

from __future__ import annotations

import re

import pytest

from dip.streaming.runner import parse_trigger


def test_available_now() -> None:
    assert parse_trigger("available-now") == {"availableNow": True}


def test_processing_time_keeps_the_interval_text() -> None:
    assert parse_trigger("processing-time=30 seconds") == {"processingTime": "30 seconds"}
    assert parse_trigger("processing-time= 1 minute ") == {"processingTime": "1 minute"}


@pytest.mark.parametrize("trigger", ["processing-time=", "processing-time=   "])
def test_processing_time_without_interval_is_an_error(trigger: str) -> None:
    message = "processing-time trigger needs an interval, e.g. processing-time=30 seconds"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_trigger(trigger)


@pytest.mark.parametrize("trigger", ["once", "availableNow", "processing-time"])
def test_unknown_trigger_is_an_error(trigger: str) -> None:
    message = f"unknown trigger {trigger!r}: use available-now or processing-time=<interval>"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        parse_trigger(trigger)
