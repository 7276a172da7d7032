"""The officer booth application."""
