"""A family scenario of the demo: the members' passports placed one after another.

Like :meth:`kiosk.demo.world.DemoWorld.run`, one kiosk is built by the composition root from
the scenario's configuration. The family's size is announced as the traveller does on the
welcome screen (``SessionEngine.start_family``); the first member's passport goes on the
readers and the camera plays their face; each time the screen asks for the next passport
(the ``family_next`` state) the passport is lifted, the next member's placed and the camera
plays the next face. When the family is accepted, all of them walk into the gate together
(the simulated gate counts them). The decision is whatever the real engine reaches.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from typing import TYPE_CHECKING

from hardware.sim.camera import SimulatedCamera
from hardware.sim.chip import PassportChip
from hardware.sim.chip_reader import SimulatedChipReader
from hardware.sim.gate import SimulatedGate
from hardware.sim.mrz_reader import SimulatedMrzReader
from kiosk.app import KioskRuntime, build_kiosk
from kiosk.demo.disturbances import mantrap_violations
from kiosk.demo.scenarios import Scenario
from kiosk.logs import transaction_context
from kiosk.session.events import Decided, Finished, SessionEvent, State, StateEntered

if TYPE_CHECKING:
    from kiosk.demo.world import DemoWorld, ScenarioResult

log = logging.getLogger(__name__)


def member_scenarios(scenario: Scenario) -> list[Scenario]:
    """Each member as a single traveller's scenario (their passport and face)."""
    return [
        dataclasses.replace(scenario, profile=m.profile, live_face=m.live_face, members=())
        for m in scenario.members
    ]


def run_family(world: DemoWorld, scenario: Scenario, timeout_s: float) -> ScenarioResult:
    from kiosk.demo.world import ScenarioResult, scene_config

    members = member_scenarios(scenario)
    config = world.kiosk_config(members[0], matcher_process=False)
    kiosk = build_kiosk(config)
    devices = kiosk.devices
    decided: list[Decided] = []
    outcome: list[str] = []
    finished = threading.Event()
    asked = threading.Semaphore(0)

    def on_event(event: SessionEvent) -> None:
        if isinstance(event, Decided):
            decided.append(event)
        elif isinstance(event, Finished):
            outcome.append(event.outcome)
            finished.set()
        elif isinstance(event, StateEntered) and event.state is State.FAMILY_NEXT:
            asked.release()

    kiosk.bus.subscribe(on_event)
    runtime = KioskRuntime(kiosk)
    chip_reader, mrz_reader = devices.chip_reader, devices.mrz_reader
    camera, gate = devices.camera, devices.gate
    assert isinstance(chip_reader, SimulatedChipReader)
    assert isinstance(mrz_reader, SimulatedMrzReader)
    assert isinstance(camera, SimulatedCamera) and isinstance(gate, SimulatedGate)
    try:
        world._lists(kiosk, members[0])
        runtime.start()
        if not runtime.wait_in_service(timeout_s):
            log.error("scenario %s: lane out of service", scenario.name)
            return ScenarioResult(
                scenario.name, scenario.expected_decision, scenario.expected_reasons, None, ()
            )
        if not kiosk.engine.start_family(len(members)):
            raise RuntimeError(f"{scenario.name}: the kiosk admits no family of {len(members)}")
        gate.walk_in_together(len(members))  # an accepted family steps in together
        for index, member in enumerate(members):
            if index:
                if not asked.acquire(timeout=timeout_s) or finished.is_set():
                    break  # the family was decided before this member (a refusal)
                mrz_reader.remove()
                chip_reader.remove()
                camera.play(scene_config(member, world.camera_fps))
            chip_reader.insert(PassportChip(world.factory.chip_image(member.profile)))
            with transaction_context(f"demo-{scenario.name}"):
                mrz_reader.present(world.factory.printed_mrz(member.profile))
        if not finished.wait(timeout_s):
            log.error("scenario %s did not finish in %.0fs", scenario.name, timeout_s)
        kiosk.engine.wait_idle(10.0)
    finally:
        runtime.stop()
        kiosk.close()
    last = decided[-1] if decided else None
    return ScenarioResult(
        scenario.name,
        scenario.expected_decision,
        scenario.expected_reasons,
        last.decision if last else None,
        last.reasons if last else (),
        dict(last.timings_ms) if last else {},
        outcome[-1] if outcome else None,
        scenario.expected_outcome,
        tuple(mantrap_violations(gate.commands)),
    )
