#!/usr/bin/env bash
# Idempotent set-up for `make test` and `make demo` on Debian 12 as root:
# Debian packages (only when one is missing), uv (only when absent), then the
# virtual environment from the committed, fully pinned lock (only when it changed).
set -euo pipefail
cd "$(dirname "$0")/.."

DEB_PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev swig xvfb pcsc-tools libgl1 libglib2.0-0 libegl1 libxkbcommon0 libxkbcommon-x11-0 libdbus-1-3 libfontconfig1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxcb-randr0 fonts-dejavu-core espeak-ng alsa-utils chromium haproxy)
VENV=${KIOSK_VENV:-.venv}
LOCK=requirements/lock.txt
STAMP="$VENV/.lock.sha256"

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages (${missing[*]}); run as root or install them" >&2
    exit 1
  fi
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v uv >/dev/null 2>&1; then
  echo "bootstrap: installing uv"
  python3.11 -m pip install --quiet uv 2>/dev/null || python3 -m pip install --quiet uv
fi

want=$( (cat "$LOCK" pyproject.toml packaging/bootstrap.sh) | sha256sum | cut -d' ' -f1)
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: building $VENV from $LOCK"
  [ -x "$VENV/bin/python" ] || uv venv --quiet --python 3.11 "$VENV"
  uv pip sync --quiet --python "$VENV/bin/python" "$LOCK"
  uv pip install --quiet --python "$VENV/bin/python" --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
  echo "$want" > "$STAMP"
fi
