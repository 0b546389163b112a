"""`dip forget` refuses an incomplete or unknown request before touching anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dip.cli import app


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["forget"], "give --source S --account ID, or --pending"),
        (["forget", "--source", "instagram"], "give --source S --account ID, or --pending"),
        (["forget", "--pending", "--account", "1"], "give --source S --account ID, or --pending"),
        (["forget", "--source", "myspace", "--account", "1"], "unknown source 'myspace' (known: instagram, tiktok)"),
    ],
)
def test_forget_arguments(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
