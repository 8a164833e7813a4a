"""OpenBlotter: an open data portal for police departments."""

__version__ = "0.1.0"
