"""Reference HQ server: the billing and payment API the kiosk terminals talk to (docs/api.md).

Public entry points: :func:`hq.app.create_app`, :class:`hq.server.HqServer`, :func:`hq.seed.seed_demo`.
"""

__all__ = ["__version__"]

__version__ = "1.0"
