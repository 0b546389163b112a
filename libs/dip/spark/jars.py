"""Where locally resolved JVM jars live (``spark.local_jars``): the cluster side only reads this folder.

Resolving them with Maven is `dip jars` of the dev-only dip-local; a cluster brings its jars itself.
"""

from __future__ import annotations

from pathlib import Path

from dip.config import Config


def profile_dir(config: Config, profile: str) -> Path:
    """``<jars.dir>/kafka-broker``; the Spark jars go per runtime to ``<jars.dir>/spark-<runtime>``."""
    if profile == "spark":
        return Path(config.jars.dir) / f"spark-{config.spark.runtime}"
    return Path(config.jars.dir) / profile


def stamp_path(config: Config, profile: str) -> Path:
    """The file a completed resolution leaves in the profile's folder (its fingerprint)."""
    return profile_dir(config, profile) / ".resolved"


def resolved_jars(config: Config, profile: str) -> list[Path]:
    """The jars of an already resolved profile; a clear error tells how to resolve it when missing."""
    folder = profile_dir(config, profile)
    jars = sorted(folder.glob("*.jar"))
    if not stamp_path(config, profile).is_file() or not jars:
        raise RuntimeError(f"jars for {profile!r} are not resolved in {folder}: run `make jars` or `dip jars`")
    return jars
