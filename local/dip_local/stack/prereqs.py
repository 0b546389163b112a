"""Find required system commands, installing them with apt-get when allowed (root on Debian/Ubuntu)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# command -> Debian package that provides it
PACKAGES: dict[str, str] = {
    "java": "openjdk-17-jre-headless",
    "mvn": "maven",
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
}


class MissingPrerequisite(RuntimeError):
    """A command DIP needs is not installed and could not be installed automatically."""


def _can_apt() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None and Path("/etc/debian_version").exists()


def ensure_command(command: str, *, allow_apt: bool = True) -> str:
    """Path of ``command``; installs its Debian package first when missing and apt is usable."""
    found = shutil.which(command)
    if found:
        return found
    package = PACKAGES.get(command, command)
    if not (allow_apt and _can_apt()):
        raise MissingPrerequisite(
            f"{command} not found: install it with `sudo apt-get install -y {package}` (or your OS's package manager)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for args in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]):
        result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise MissingPrerequisite(
                f"{command} not found and `{' '.join(args)}` failed: {result.stderr.strip()[-500:]}"
            )
    found = shutil.which(command)
    if not found:
        raise MissingPrerequisite(f"{command} still not found after installing {package}")
    return found
