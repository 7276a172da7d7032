"""One demo kiosk that runs many transactions: the crash harness's child and the session
benchmark drive it.

Unlike :meth:`kiosk.demo.world.DemoWorld.run` (a fresh kiosk per scenario), this builds one
kiosk with the real composition root over simulated devices, starts it with
:class:`kiosk.app.KioskRuntime` and keeps it running, the way a kiosk runs all day: the
camera plays the genuine traveller's face, and each transaction puts a passport on the chip
reader and its printed MRZ on the MRZ reader, then waits until the engine is back to waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.mrz_reader import SimulatedMrzReader
from hardware.sim.vpcd import VirtualCard
from kiosk.app import Kiosk, KioskRuntime, build_kiosk
from kiosk.config import KioskConfig
from kiosk.demo.scenarios import scenario
from kiosk.demo.world import DemoWorld
from kiosk.session.engine import TransactionOutcome
from kiosk.session.events import Finished, SessionEvent
from kiosk.session.steps import Outcome
from models.errors import KioskError

GENUINE = "genuine-traveller"
CHIP_REFUSED = "lca-wrong-password"  # the chip refuses the access key: refer chip_anomaly


class TransactionHung(KioskError):
    code = "demo_transaction_hung"


@dataclass(frozen=True)
class LoopResult:
    outcome: TransactionOutcome
    wall_s: float  # from the MRZ presented to the engine back to waiting


class DemoKioskLoop:
    """A running demo kiosk; :meth:`transact` runs one traveller through it."""

    def __init__(
        self,
        config: KioskConfig,
        *,
        camera_fps: float = 60.0,
        travellers: tuple[str, ...] = (GENUINE, CHIP_REFUSED),
        listener: Callable[[SessionEvent], None] | None = None,
        import_trust: bool = True,
    ) -> None:
        self.world = DemoWorld(config, camera_fps=camera_fps, import_trust=import_trust)
        factory = self.world.factory
        self._travellers = {
            name: (
                factory.chip_image(scenario(name).profile),
                factory.printed_mrz(scenario(name).profile),
            )
            for name in travellers
        }
        genuine = scenario(GENUINE)
        self.kiosk: Kiosk = build_kiosk(self.world.kiosk_config(genuine))
        self.devices = self.kiosk.devices
        self._finished = threading.Event()
        self.kiosk.bus.subscribe(self._on_event)
        if listener is not None:
            self.kiosk.bus.subscribe(listener)
        self.runtime = KioskRuntime(self.kiosk)
        try:
            self.world._lists(self.kiosk, genuine)
            self.runtime.start()
            if not self.runtime.wait_in_service(60.0):
                raise TransactionHung(f"lane out of service: {self.kiosk.lane.status().as_dict()}")
        except BaseException:
            self.close()
            raise

    def _on_event(self, event: SessionEvent) -> None:
        if isinstance(event, Finished):
            self._finished.set()

    def transact(
        self,
        name: str,
        timeout_s: float = 60.0,
        card: Callable[[PassportChip], VirtualCard] | None = None,
    ) -> LoopResult:
        """Run one traveller; ``card`` may wrap the chip (a test injecting a fault)."""
        chip_reader, mrz_reader = self.devices.chip_reader, self.devices.mrz_reader
        assert isinstance(chip_reader, SimulatedChipReader)
        assert isinstance(mrz_reader, SimulatedMrzReader)
        image, printed = self._travellers[name]
        # The traveller comes once the lane is in service (a device restarted since the last
        # one is ready again): readiness is awaited as an event.
        if not self.runtime.wait_in_service(timeout_s):
            raise TransactionHung(f"lane out of service: {self.kiosk.lane.status().as_dict()}")
        self._finished.clear()
        chip = PassportChip(image)
        chip_reader.insert(card(chip) if card is not None else chip)
        started = time.perf_counter()
        refused = self.runtime.documents_refused
        mrz_reader.present(printed)
        try:
            while True:
                if not self._await_finished(mrz_reader, printed, refused, timeout_s):
                    raise TransactionHung(f"no decision in {timeout_s:.0f}s")
                last = self.kiosk.engine.last_outcome
                if last is None or last.outcome != Outcome.PLACE_AGAIN:
                    break
                self._finished.clear()  # asked to place it again: lift it, put it back
                mrz_reader.remove()
                refused = self.runtime.documents_refused
                mrz_reader.present(printed)
            wall_s = time.perf_counter() - started
        finally:
            mrz_reader.remove()
            chip_reader.remove()
        outcome = self.kiosk.engine.last_outcome
        assert outcome is not None
        return LoopResult(outcome, wall_s)

    def _await_finished(
        self, mrz_reader: SimulatedMrzReader, printed: str, refused: int, timeout_s: float
    ) -> bool:
        """Wait for the transaction's end. A document the kiosk did not take because the lane
        went out of service just then (a gate fault of the last traveller clears by itself a
        moment later) is lifted and put back once the lane is in service again, as a
        traveller would."""
        deadline = time.monotonic() + timeout_s
        while not self._finished.wait(0.1):
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self.runtime.documents_refused > refused:
                if not self.runtime.wait_in_service(left):
                    return False
                mrz_reader.remove()
                refused = self.runtime.documents_refused
                mrz_reader.present(printed)
        return self.kiosk.engine.wait_idle(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        self.runtime.stop()
        self.kiosk.close()

    def __enter__(self) -> DemoKioskLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
