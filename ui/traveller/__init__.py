"""The traveller e-gate application."""
