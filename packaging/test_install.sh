#!/usr/bin/env bash
# `make package-test`: the Debian packages end to end in a throwaway Debian 12 root.
#
#  1. builds revision N and N+1 of both packages (build/package-test/rev-*),
#  2. makes a minimal bookworm root with debootstrap (cached as a tarball in build/ so a second
#     run only unpacks it),
#  3. installs revision N: `kiosk --version`, `kiosk config show`, permissions of the data and
#     key directories, shared libraries, a headless demo (or, until `kiosk demo` exists, an MRZ
#     check plus one transaction recorded through the recorder), the server answering /healthz,
#  4. installs N+1 over it: the transaction made before is still there, keys and the edited
#     configuration are unchanged, the schema is at head,
#  5. removes the packages (data kept), then purges them (data and users gone).
# Needs root (debootstrap, chroot). Not part of `make test`: it takes minutes.
#
# Environment: PACKAGE_TEST_REVISION (N, default 1), KEEP_CHROOT=1 keeps build/chroot.
# Commands in single quotes run inside the root, where they are expanded:
# shellcheck disable=SC2016
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
CHROOT=$PWD/build/chroot
OUT=build/package-test
REV=${PACKAGE_TEST_REVISION:-1}
NEXT=$((REV + 1))
T_START=$(date +%s)
declare -a TIMINGS=()

log() { printf '\npackage-test: %s\n' "$*" >&2; }
die() { printf 'package-test: FAILED: %s\n' "$*" >&2; exit 1; }
lap() { local now; now=$(date +%s); TIMINGS+=("$(printf '%-34s %4ss' "$1" $((now - LAP)))"); LAP=$now; }
LAP=$T_START

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and chroot)"
# debootstrap (and zstd for the cached base) come from the machine's own apt sources; a second
# run finds them installed and installs nothing.
need=()
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v zstd >/dev/null || need+=(zstd)
if [ "${#need[@]}" -gt 0 ]; then
    log "installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
        || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            --no-install-recommends "${need[@]}" >/dev/null; } || die "apt-get install ${need[*]}"
fi

# The Debian mirror: PACKAGE_TEST_MIRROR, else the one this machine's apt sources name (deb822
# or one-line format, the security archive skipped). No mirror host is written in this file.
machine_mirror() {
    {
        sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null
        sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) bookworm .*/\2/p' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
    } | grep -v -e security -e '^$' | grep -i debian | head -n1
}
MIRROR=${PACKAGE_TEST_MIRROR:-$(machine_mirror || true)}
[ -n "$MIRROR" ] || die "no Debian mirror in this machine's apt sources: set PACKAGE_TEST_MIRROR"

# --- 1. two builds ------------------------------------------------------------------------
log "building revision $REV and $NEXT"
rm -rf "$OUT"
DEB_REVISION=$REV PACKAGE_OUT=$OUT/rev-$REV packaging/deb/build_debs.sh
lap "build revision $REV"
DEB_REVISION=$NEXT PACKAGE_OUT=$OUT/rev-$NEXT packaging/deb/build_debs.sh
lap "build revision $NEXT (cached)"

# --- 2. the throwaway root ------------------------------------------------------------------
# Everything the packages depend on goes into the cached base, so installing them needs no
# download; the cache key is the dependency list.
deps=$(for pkg in "$OUT/rev-$REV"/*.deb; do dpkg-deb -f "$pkg" Depends; done | tr ',' '\n' \
    | sed 's/[ ]*(.*)//; s/^ *//; s/ *$//' | grep -v '^$' | sort -u | tr '\n' ',')
deps="${deps}ca-certificates,procps"
BASE_TAR=build/chroot-base-$SUITE-$(printf '%s %s' "$deps" "$MIRROR" | sha256sum | cut -c1-12).tar.zst

cleanup() {
    for mount in "$CHROOT/proc" "$CHROOT/dev/pts" "$CHROOT/dev"; do
        if mountpoint -q "$mount" 2>/dev/null; then umount -l "$mount"; fi
    done
    if [ -z "${KEEP_CHROOT:-}" ] && [ -d "$CHROOT" ]; then
        rm -rf --one-file-system "$CHROOT"
    fi
}
trap cleanup EXIT
cleanup

if [ -f "$BASE_TAR" ]; then
    log "unpacking the cached base root $BASE_TAR"
    mkdir -p "$CHROOT"
    tar -C "$CHROOT" --zstd -xpf "$BASE_TAR"
    lap "unpack cached base root"
else
    log "debootstrap $SUITE (minbase + runtime dependencies) from $MIRROR"
    rm -rf "$CHROOT"
    debootstrap --variant=minbase --include="$deps" "$SUITE" "$CHROOT" "$MIRROR" >build/debootstrap.log 2>&1 \
        || { tail -n 20 build/debootstrap.log >&2; die "debootstrap"; }
    cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
    chroot "$CHROOT" apt-get update -qq
    chroot "$CHROOT" apt-get clean
    tar -C "$CHROOT" --zstd -cpf "$BASE_TAR" .
    lap "debootstrap base root (first run)"
fi
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
# No daemon may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$CHROOT/usr/sbin/policy-rc.d"
chmod 0755 "$CHROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$CHROOT/proc"
mount --bind /dev "$CHROOT/dev"
mkdir -p "$CHROOT/dev/pts"
mount --bind /dev/pts "$CHROOT/dev/pts"

in_root() { chroot "$CHROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
apt_install() {
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
}
check() { # check DESCRIPTION COMMAND...: run in the root, fail the test when it fails
    local what=$1
    shift
    in_root "$@" || die "$what"
    printf '  ok  %s\n' "$what" >&2
}

# --- 3. install revision N ----------------------------------------------------------------
mkdir -p "$CHROOT/tmp/debs"
cp "$OUT/rev-$REV"/*.deb "$OUT/rev-$NEXT"/*.deb "$CHROOT/tmp/debs/"
kiosk_n=/tmp/debs/$(basename "$OUT/rev-$REV"/open-egate-kiosk_*_amd64.deb)
server_n=${kiosk_n/open-egate-kiosk/open-egate-server}
kiosk_next=${kiosk_n/-$REV\_amd64/-$NEXT\_amd64}
server_next=${server_n/-$REV\_amd64/-$NEXT\_amd64}
log "installing revision $REV"
apt_install "$kiosk_n" "$server_n" >build/package-test-install.log 2>&1 \
    || { tail -n 30 build/package-test-install.log >&2; die "install of revision $REV"; }
lap "install revision $REV"

version=$(grep -m1 '^version' pyproject.toml | sed 's/.*"\(.*\)".*/\1/')
check "kiosk --version prints $version" sh -c "kiosk --version | grep -qx 'kiosk $version'"
check "kiosk config show uses /etc/open-egate/kiosk.toml" \
    sh -c 'kiosk config show | grep -q "\"data_dir\": \"/var/lib/open-egate\""'
check "no path of the build machine in the environment's scripts" \
    sh -c "! grep -rIl -e build/deb/stage -e '$PWD/' /opt/open-egate/kiosk/bin /opt/open-egate/kiosk/pyvenv.cfg"
check "byte code compiled for /opt (tracebacks name installed files)" /opt/open-egate/kiosk/bin/python -c '
import importlib.util, marshal, kiosk.cli.main as m
code = marshal.loads(open(m.__spec__.cached, "rb").read()[16:])
assert code.co_filename == "/opt/open-egate/kiosk/lib/python3.11/site-packages/kiosk/cli/main.py", code.co_filename'
check "data directory 0750 egate" sh -c '[ "$(stat -c %a:%U /var/lib/open-egate)" = 750:egate ]'
check "key directory 0700 egate" sh -c '[ "$(stat -c %a:%U /etc/open-egate/keys)" = 700:egate ]'
check "keys 0600 egate" sh -c 'for k in /etc/open-egate/keys/*; do [ "$(stat -c %a:%U "$k")" = 600:egate ] || exit 1; done'
check "configuration 0640 root:egate" sh -c '[ "$(stat -c %a:%U:%G /etc/open-egate/kiosk.toml)" = 640:root:egate ]'
check "units are installed" test -f /lib/systemd/system/kiosk-gate.service -a -f /lib/systemd/system/kiosk-lane.service -a -f /lib/systemd/system/open-egate-server.service
check "licence and notice in both packages" sh -c 'for p in open-egate-kiosk open-egate-server; do
    grep -q "Apache License" /usr/share/doc/$p/LICENSE && test -s /usr/share/doc/$p/NOTICE || exit 1; done'
check "no shared library is missing" sh -c '
    for lib in $(find /opt/open-egate/kiosk/lib -name "*.so*" \( -path "*cv2*" -o -path "*PySide6/Qt/lib/libQt6Widgets*" \
        -o -path "*platforms/libqwayland*" -o -path "*platforms/libqoffscreen*" -o -name "_dlib_pybind11*" -o -path "*smartcard*" \)); do
        if ldd "$lib" | grep -q "not found"; then echo "$lib: $(ldd "$lib" | grep "not found")" >&2; exit 1; fi
    done'
check "every package imports; Qt starts offscreen" runuser -u egate -- env QT_QPA_PLATFORM=offscreen \
    /opt/open-egate/kiosk/bin/python -c '
import cv2, dlib, face_recognition, smartcard, kiosk, hardware, models, ui, server
from PySide6.QtWidgets import QApplication
QApplication([])'

log "a transaction before the upgrade"
if in_root kiosk demo --help >/dev/null 2>&1; then
    # The headless demo (the whole transaction on simulated devices) as the service user.
    in_root runuser -u egate -- env KIOSK_CONFIG=/etc/open-egate/kiosk.toml \
        kiosk demo --headless --all >build/package-test-demo.log 2>&1 \
        || { tail -n 30 build/package-test-demo.log >&2; die "kiosk demo --headless --all"; }
    printf '  ok  kiosk demo --headless --all: %s\n' "$(grep -E 'scenarios? reached' build/package-test-demo.log | tail -n1)" >&2
else
    echo "  --  kiosk demo does not exist yet: skipped" >&2
fi
# The production rig in the install root: the installed `kiosk run` from a TOML naming the pcsc,
# serial, opencv and serial drivers (pcscd + vpcd with a simulated chip, pty stand-ins, a video
# file), trust from `kiosk trust import`, lists from the server through sync.
log "the production rig on the installed kiosk"
apt_install vsmartcard-vpcd >>build/package-test-install.log 2>&1 \
    || { tail -n 20 build/package-test-install.log >&2; die "install of vsmartcard-vpcd for the rig"; }
in_root /opt/open-egate/kiosk/bin/python -m kiosk.rig --json >build/package-test-rig.log 2>&1 \
    || { tail -n 30 build/package-test-rig.log >&2; die "the production rig (python -m kiosk.rig)"; }
printf '  ok  production rig: %s\n' "$(tail -n1 build/package-test-rig.log)" >&2
check "kiosk mrz check (ICAO TD3 specimen)" kiosk mrz check \
    'P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<' 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'
# One transaction with a known id, recorded through the application's own recorder.
check "record a transaction with kiosk.storage.recorder" runuser -u egate -- \
    env KIOSK_CONFIG=/etc/open-egate/kiosk.toml /opt/open-egate/kiosk/bin/python -c '
from datetime import UTC, datetime, timedelta
from kiosk.config import load_config
from kiosk.storage.database import open_database
from kiosk.storage.recorder import record_transaction
from models.records import CheckResult, CheckStatus, DecidedTransaction, Decision, DocumentSummary
now = datetime.now(UTC)
record = DecidedTransaction(
    transaction_id="pkg-test-before-upgrade", kiosk_id="kiosk-01",
    started_at=now - timedelta(seconds=8), decided_at=now, decision=Decision.ACCEPT, reasons=(),
    checks=(CheckResult("sod_signature", CheckStatus.PASSED),),
    document=DocumentSummary(doc_type="P", issuer="UTO", chip_read=True),
    referral_subject=None, samples=(), timings_ms={"chip": 800.0}, policy="default")
with open_database(load_config()) as database:
    record_transaction(database, record)'
count_sql='import sqlite3, sys; c = sqlite3.connect("file:/var/lib/open-egate/kiosk.db?mode=ro", uri=True)
print("\n".join(sorted(r[0] for r in c.execute("select id from transactions"))))'
in_root /opt/open-egate/kiosk/bin/python -c "$count_sql" >"$OUT/transactions-before.txt"
grep -qx pkg-test-before-upgrade "$OUT/transactions-before.txt" || die "no transaction recorded before the upgrade"
printf '  ok  %s transaction(s) recorded\n' "$(wc -l <"$OUT/transactions-before.txt")" >&2

log "the server answers /healthz"
port=$((20000 + RANDOM % 20000))
# chroot --userspec execs the server itself (no forking runuser), so $! is the server's PID.
chroot --userspec=egate-server:egate-server "$CHROOT" env -i PATH=/usr/bin:/bin HOME=/ LANG=C.UTF-8 \
    /opt/open-egate/server/bin/kiosk --config /etc/open-egate/server.toml \
    server run --no-tls --host 127.0.0.1 --port "$port" >build/package-test-server.log 2>&1 &
server_pid=$!
healthy=
for _ in $(seq 1 60); do
    if in_root /opt/open-egate/server/bin/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/healthz', timeout=2).read()" 2>/dev/null; then
        healthy=1
        break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 1
done
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
[ -n "$healthy" ] || { tail -n 20 build/package-test-server.log >&2; die "server /healthz"; }
printf '  ok  server /healthz as egate-server\n' >&2
lap "checks on revision $REV"

# --- 4. upgrade to N+1 ----------------------------------------------------------------------
log "upgrading to revision $NEXT"
in_root sh -c 'sed -i "s/^kiosk_id = .*/kiosk_id = \"gate-under-test\"/" /etc/open-egate/kiosk.toml'
keys_before=$(in_root sh -c 'sha256sum /etc/open-egate/keys/*')
apt_install "$kiosk_next" "$server_next" >>build/package-test-install.log 2>&1 \
    || { tail -n 30 build/package-test-install.log >&2; die "upgrade to revision $NEXT"; }
lap "upgrade to revision $NEXT"
check "revision $NEXT installed" sh -c "dpkg-query -W -f='\${Version}' open-egate-kiosk | grep -q -- '-$NEXT\$'"
in_root /opt/open-egate/kiosk/bin/python -c "$count_sql" >"$OUT/transactions-after.txt"
comm -23 "$OUT/transactions-before.txt" "$OUT/transactions-after.txt" | grep -q . \
    && die "transactions lost in the upgrade: $(comm -23 "$OUT/transactions-before.txt" "$OUT/transactions-after.txt")"
grep -qx pkg-test-before-upgrade "$OUT/transactions-after.txt" || die "transaction pkg-test-before-upgrade lost"
printf '  ok  all %s transactions made before the upgrade are still there\n' "$(wc -l <"$OUT/transactions-before.txt")" >&2
[ "$keys_before" = "$(in_root sh -c 'sha256sum /etc/open-egate/keys/*')" ] || die "keys changed in the upgrade"
printf '  ok  keys unchanged\n' >&2
check "edited configuration kept" grep -q '^kiosk_id = "gate-under-test"' /etc/open-egate/kiosk.toml
check "schema at head after the upgrade" sh -c '
    /opt/open-egate/kiosk/bin/python -c "import sqlite3; from models import migrations
c = sqlite3.connect(\"file:/var/lib/open-egate/kiosk.db?mode=ro\", uri=True)
assert c.execute(\"select version_num from alembic_version\").fetchone()[0] == migrations.head_revision()"'
check "kiosk --version after the upgrade" kiosk --version

# --- 5. remove keeps data, purge removes it -------------------------------------------------
log "remove, then purge"
in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q open-egate-kiosk open-egate-server \
    >>build/package-test-install.log 2>&1 || die "remove"
check "remove keeps the data, keys and configuration" \
    test -f /var/lib/open-egate/kiosk.db -a -f /etc/open-egate/keys/storage.key -a -f /etc/open-egate/kiosk.toml
check "remove keeps the egate user" getent passwd egate
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q open-egate-kiosk open-egate-server \
    >>build/package-test-install.log 2>&1 || die "purge"
check "purge removes data, keys, configuration" sh -c '! test -e /var/lib/open-egate -o -e /etc/open-egate -o -e /var/lib/open-egate-server'
check "purge removes the users" sh -c '! getent passwd egate && ! getent passwd egate-server'
lap "checks after upgrade, remove, purge"

log "PASSED in $(($(date +%s) - T_START)) s"
printf '  %s\n' "${TIMINGS[@]}" >&2
