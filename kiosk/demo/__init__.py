"""The demo: complete transactions on simulated devices, one per scenario."""
