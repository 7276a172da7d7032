#!/bin/sh
# /usr/sbin/open-egate-server: `kiosk server ...` with the installed configuration, run as
# the service user so that what it writes (device CA, database) stays the server's.
#   open-egate-server enrol-device gate-07 --out /var/lib/open-egate-server/enrolled/gate-07 \
#       --audit-public-key gate-07-audit.pub     (from `kiosk sync audit-key` on the kiosk)
#   open-egate-server add-user alice --role officer
set -e
KIOSK=/opt/open-egate/server/bin/kiosk
CONFIG=/etc/open-egate/server.toml
if [ "$(id -u)" -eq 0 ]; then
    exec runuser -u egate-server -- "$KIOSK" --config "$CONFIG" server "$@"
fi
exec "$KIOSK" --config "$CONFIG" server "$@"
