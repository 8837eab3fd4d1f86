"""Kith: an open-source, self-hosted CRM for mid-sized B2B companies."""

__version__ = "0.1.0"
