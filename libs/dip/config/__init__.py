"""Typed configuration: ``conf/base.yaml`` + ``conf/<env>.yaml`` + ``DIP__*`` environment overrides."""

from dip.config.loader import ConfigError, load_config, project_root
from dip.config.models import Config

__all__ = ["Config", "ConfigError", "load_config", "project_root"]
