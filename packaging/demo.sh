#!/usr/bin/env bash
# `make demo`: with a display, the traveller e-gate on simulated devices (and its rehearsal
# panel), the officer booth and the technician console, against the central server started
# embedded on a loopback port (`python -m ui all --demo`); without one, the headless scenarios,
# saying so. The demo keeps its data under var/demo-gui (KIOSK_DATA_DIR overrides it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
if { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; } && [ -z "${KIOSK_DEMO_HEADLESS:-}" ]; then
  export KIOSK_DATA_DIR="${KIOSK_DATA_DIR:-$PWD/var/demo-gui}"
  echo "make demo: opening the e-gate, the officer booth and the technician console"
  echo "make demo: data in $KIOSK_DATA_DIR; close the windows to end the demo"
  exec python -m ui all --demo
fi
echo "make demo: no display (or KIOSK_DEMO_HEADLESS set): running the headless scenarios instead"
exec kiosk demo --headless --all
