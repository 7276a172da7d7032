"""The simulated eMRTD chip (card side of ICAO 9303 Part 11)."""

from hardware.sim.chip.emulator import ChipNotAnsweringError, PassportChip
from hardware.sim.chip.latency import LatencyModel

__all__ = ["ChipNotAnsweringError", "LatencyModel", "PassportChip"]
