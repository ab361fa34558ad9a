"""The package version, written into every checkpoint's ``config.json``."""

__version__ = "0.1.0"
