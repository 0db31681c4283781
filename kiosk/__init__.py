"""The terminal's core: domain, services, configuration and wiring. Never imports Qt (docs/architecture.md)."""

__version__ = "0.1.0"
