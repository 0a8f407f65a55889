"""Configuration in one place: every setting is an `M3_*` environment variable."""
from config.settings import Settings, get_settings

__all__ = ["Settings", "get_settings"]
