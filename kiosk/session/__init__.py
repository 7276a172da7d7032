"""The traveller transaction: an explicit state machine driven by device events."""
