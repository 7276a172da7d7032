"""Core of the open e-gate kiosk: ICAO 9303, face, screening, policy, session, sync, CLI."""

__version__ = "0.1.0"
