"""Platform simulator: Instagram Graph API and TikTok API v2 shapes over seeded abaya-seller data."""

from dip_local.simulator.app import create_app
from dip_local.simulator.data import Dataset, build_dataset
from dip_local.simulator.faults import Faults

__all__ = ["Dataset", "Faults", "build_dataset", "create_app"]
