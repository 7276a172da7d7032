"""Benchmarks behind ``kiosk bench NAME``: each module has ``add_arguments`` and ``run``."""
