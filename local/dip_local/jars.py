"""Resolve the project's JVM jars from Maven Central with ``mvn`` into an ignored local folder (`dip jars`)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dip.config import Config
from dip.spark.jars import profile_dir, stamp_path

PROFILES = ("spark", "kafka-broker")
_VERSION_SUFFIX = re.compile(r"-\d[\w.]*(-[A-Za-z0-9]+)?$")


@dataclass(frozen=True)
class JarSet:
    """One resolved profile: its folder and the jars in it."""

    profile: str
    folder: Path
    jars: tuple[Path, ...]


def artifact_id(jar_name: str) -> str:
    """``delta-spark_2.12-3.3.2.jar`` -> ``delta-spark_2.12``."""
    return _VERSION_SUFFIX.sub("", jar_name.removesuffix(".jar"))


def spark_provided_artifacts() -> list[str]:
    """Artifact ids already shipped in pyspark's ``jars/``: Spark provides them, so they are not copied."""
    import pyspark

    jars_dir = Path(pyspark.__file__).parent / "jars"
    return sorted({artifact_id(p.name) for p in jars_dir.glob("*.jar")})


def maven_profiles(config: Config, profile: str) -> list[str]:
    """The pom profiles of a jar set: ``spark<runtime>`` (+ ``hudi<runtime>``) or ``kafka-broker``."""
    if profile != "spark":
        return [profile]
    runtime = config.spark.runtime
    return [f"spark{runtime}"] + ([f"hudi{runtime}"] if config.spark.hudi_enabled else [])


def _fingerprint(config: Config, profiles: list[str], excluded: list[str]) -> str:
    pom = Path(config.jars.pom).read_text(encoding="utf-8")
    return pom + "\n" + ",".join(profiles) + "\n" + ",".join(excluded)


def resolve(config: Config, profile: str, *, force: bool = False) -> JarSet:
    """Copy a profile's runtime dependencies into ``<jars.dir>/<profile>``; a no-op when up to date."""
    if profile not in PROFILES:
        raise ValueError(f"unknown jar profile {profile!r} (known: {', '.join(PROFILES)})")
    folder = profile_dir(config, profile)
    excluded = spark_provided_artifacts() if profile == "spark" else []
    profiles = maven_profiles(config, profile)
    fingerprint = _fingerprint(config, profiles, excluded)
    stamp = stamp_path(config, profile)
    if not force and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return JarSet(profile, folder, tuple(sorted(folder.glob("*.jar"))))
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("mvn not found: install Maven (apt-get install -y maven) and re-run `dip jars`")
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    cmd = [
        mvn,
        "-q",
        "-B",
        "-s",
        config.jars.maven_settings,
        "-f",
        config.jars.pom,
        "-P",
        ",".join(profiles),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={folder}",
        "-DincludeScope=runtime",
    ]
    if excluded:
        cmd.append("-DexcludeArtifactIds=" + ",".join(excluded))
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        errors = [line for line in result.stdout.splitlines() if "ERROR" in line][:3]
        raise RuntimeError(f"mvn failed for profile {profile}:\n" + "\n".join(errors or [result.stdout[-2000:]]))
    stamp.write_text(fingerprint, encoding="utf-8")
    return JarSet(profile, folder, tuple(sorted(folder.glob("*.jar"))))
