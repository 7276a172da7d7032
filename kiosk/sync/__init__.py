"""Store-and-forward sync with the central server: the outbox relay, list deltas, officer
resolutions and heartbeats. The kiosk decides offline; the outbox just grows meanwhile."""
