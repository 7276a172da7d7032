#!/bin/sh
# /usr/bin/kiosk: the kiosk command of the open-egate-kiosk package, with the installed
# configuration as its default (KIOSK_CONFIG or --config still win).
if [ -z "${KIOSK_CONFIG:-}" ] && [ -e /etc/open-egate/kiosk.toml ]; then
    KIOSK_CONFIG=/etc/open-egate/kiosk.toml
    export KIOSK_CONFIG
fi
exec /opt/open-egate/kiosk/bin/kiosk "$@"
