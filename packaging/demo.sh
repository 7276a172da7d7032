#!/usr/bin/env bash
# `make demo`: with a display, the three applications on simulated devices; without one, the
# headless scenarios (saying so).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
if [ -n "${DISPLAY:-}" ] && [ -z "${KIOSK_DEMO_HEADLESS:-}" ] && kiosk demo --help 2>/dev/null | grep -q -- '--gui'; then
  exec kiosk demo --gui
fi
echo "make demo: no display (or KIOSK_DEMO_HEADLESS set): running the headless demo"
exec kiosk demo --headless
