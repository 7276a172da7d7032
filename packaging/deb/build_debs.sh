#!/usr/bin/env bash
# `make package`: build open-egate-kiosk_<version>_amd64.deb and open-egate-server_<version>_amd64.deb
# into build/packages/ with dpkg-deb (no debhelper).
#
# Each package holds the application in its own virtual environment (/opt/open-egate/kiosk,
# /opt/open-egate/server), made by uv from the pinned lock: only the runtime pins (a subset of
# requirements/lock.txt, checked line by line) plus the project's wheel, installed non-editable.
# The environments are relocatable (uv venv --relocatable) and built against /usr/bin/python3.11,
# Debian 12's python3, so they run at /opt after installation.
#
# Second builds are fast: the staged environments under build/deb/stage persist; `uv pip sync`
# changes nothing when the lock did not change, only the project's wheel is reinstalled, and
# byte-compilation skips unchanged files.
#
# Environment: DEB_REVISION (packaging revision, default 1: version <project version>-<revision>),
# DEB_PYTHON (default /usr/bin/python3.11), PACKAGE_OUT (default build/packages).
set -euo pipefail
cd "$(dirname "$0")/../.."

HERE=packaging/deb
OUT=${PACKAGE_OUT:-build/packages}
WORK=build/deb
PYTHON=${DEB_PYTHON:-/usr/bin/python3.11}
REVISION=${DEB_REVISION:-1}
LOCK=requirements/lock.txt
PYVER=3.11

log() { printf 'package: %s\n' "$*" >&2; }
die() { printf 'package: error: %s\n' "$*" >&2; exit 1; }

command -v uv >/dev/null || die "uv is needed (make setup installs it)"
command -v dpkg-deb >/dev/null || die "dpkg-deb is needed (apt-get install dpkg)"
[ -x "$PYTHON" ] || die "$PYTHON is needed: apt-get install python3.11 (Debian 12's python3)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || die "$PYTHON is not Python $PYVER"
[[ $REVISION =~ ^[0-9][0-9a-z.+~]*$ ]] || die "DEB_REVISION '$REVISION' is not a Debian revision"

UPSTREAM=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
VERSION="$UPSTREAM-$REVISION"
mkdir -p "$OUT" "$WORK"

# 1. The project's wheel, built from its sdist (so nothing stale from an in-tree build/ leaks in).
log "building the wheel of open-egate-kiosk $UPSTREAM"
rm -rf "$WORK/dist"
build_python=()
if [ -x .venv/bin/python ]; then
    build_python=(--no-build-isolation --python .venv/bin/python)
fi
uv build --quiet "${build_python[@]}" --out-dir "$WORK/dist" .
WHEEL=$(ls "$WORK"/dist/open_egate_kiosk-"$UPSTREAM"-py3-none-any.whl)

# 2. The runtime pins: what the distribution needs, resolved with the lock as constraints, and
# every resulting line checked to be a line of the lock (nothing unpinned, no dev tools).
uv pip compile --quiet pyproject.toml --override requirements/overrides.txt --constraint "$LOCK" \
    --python-version "$PYVER" --no-header --no-annotate --no-emit-package open-egate-kiosk \
    -o "$WORK/runtime.txt"
if grep -vxF -f "$LOCK" "$WORK/runtime.txt" | grep -q .; then
    die "runtime pins not in $LOCK: $(grep -vxF -f "$LOCK" "$WORK/runtime.txt" | tr '\n' ' ')"
fi

# build_venv STAGE_ROOT PREFIX: the environment at STAGE_ROOT/PREFIX, for use at PREFIX.
build_venv() {
    local root=$1 prefix=$2 venv=$1$2
    if [ ! -x "$venv/bin/python" ] || ! grep -q '^relocatable = true' "$venv/pyvenv.cfg" \
        || [ "$(readlink -f "$venv/bin/python")" != "$(readlink -f "$PYTHON")" ]; then
        rm -rf "$venv"
        uv venv --quiet --relocatable --python "$PYTHON" "$venv"
    fi
    uv pip sync --quiet --python "$venv/bin/python" --link-mode copy "$WORK/runtime.txt"
    uv pip install --quiet --python "$venv/bin/python" --link-mode copy --no-deps --reinstall \
        "$WHEEL"
    # The one accepted gap: face-recognition asks for `dlib`, which dlib-bin provides (the lock's
    # override); anything else missing or conflicting stops the build.
    local problems
    problems=$(uv pip check --python "$venv/bin/python" 2>&1 | grep -v -e '^Found [0-9]* incompat' \
        -e '^Checked [0-9]* packages' -e '^Using Python' -e 'requires `dlib>=' -e '^All installed packages' || true)
    [ -z "$problems" ] || die "$prefix: inconsistent environment: $problems"
    # uv's bookkeeping and other platforms' scripts do not ship; nothing is world-writable.
    rm -f "$venv/.lock" "$venv/.gitignore" "$venv/CACHEDIR.TAG" "$venv"/bin/*.bat "$venv"/bin/*.ps1
    chmod -R go-w "$venv"
    # Byte-compile for the final path (source paths in tracebacks read /opt/..., not build/).
    "$venv/bin/python" -m compileall -q -j 2 -x '\.tmpl\.py$' -s "$root" -p / "$venv/lib" >/dev/null \
        || die "$prefix: byte-compilation failed"
}

# stage_package NAME: a clean staging root for NAME except its persistent environment.
stage_package() {
    local name=$1 root=$WORK/stage/$1
    mkdir -p "$root"
    find "$root" -mindepth 1 -maxdepth 1 ! -name opt -exec rm -rf {} +
    find "$root/opt/open-egate" -mindepth 1 -maxdepth 1 ! -name "$name" -exec rm -rf {} + \
        2>/dev/null || true
    echo "$root"
}

# install_licence ROOT PACKAGE: the Apache-2.0 text, the NOTICE of third-party data and
# licences, and Debian's copyright file pointing at both.
install_licence() {
    local root=$1 doc=$1/usr/share/doc/$2
    install -D -m 0644 LICENSE "$doc/LICENSE"
    install -D -m 0644 NOTICE "$doc/NOTICE"
    {
        echo "$2: the open e-gate, licensed under the Apache License, Version 2.0."
        echo
        echo "The full text of the licence is in /usr/share/doc/$2/LICENSE (and"
        echo "/usr/share/common-licenses/Apache-2.0). Third-party data and the bundled"
        echo "Python packages, with their licences: /usr/share/doc/$2/NOTICE."
    } > "$doc/copyright"
    chmod 0644 "$doc/copyright"
}

# finish_package ROOT PKGDIR: control files, checksums, then the .deb.
finish_package() {
    local root=$1 src=$2 package size
    install -d -m 0755 "$root/DEBIAN"
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$size/" "$src/control.in" \
        > "$root/DEBIAN/control"
    install -m 0644 "$src/conffiles" "$root/DEBIAN/conffiles"
    install -m 0755 "$src/postinst" "$src/prerm" "$src/postrm" "$root/DEBIAN/"
    (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z \
        | xargs -0 md5sum) > "$root/DEBIAN/md5sums"
    chmod 0644 "$root/DEBIAN/md5sums"
    package=$(sed -n 's/^Package: //p' "$root/DEBIAN/control")
    dpkg-deb --root-owner-group -Zzstd -z3 --build "$root" "$OUT/${package}_${VERSION}_amd64.deb" >/dev/null
    log "built $OUT/${package}_${VERSION}_amd64.deb ($(du -h "$OUT/${package}_${VERSION}_amd64.deb" | cut -f1))"
}

# 3. open-egate-kiosk
log "staging open-egate-kiosk $VERSION"
root=$(stage_package kiosk)
build_venv "$root" /opt/open-egate/kiosk
install -D -m 0644 "$HERE/kiosk/gate_session.py" "$root/opt/open-egate/kiosk/libexec/gate_session.py"
install -D -m 0755 "$HERE/kiosk/kiosk-wrapper.sh" "$root/usr/bin/kiosk"
install -D -m 0644 "$HERE/kiosk/kiosk-gate.service" "$root/lib/systemd/system/kiosk-gate.service"
install -D -m 0640 "$HERE/kiosk/kiosk.toml" "$root/etc/open-egate/kiosk.toml"
install -D -m 0644 "$HERE/kiosk/open-egate-gate.pam" "$root/etc/pam.d/open-egate-gate"
install -D -m 0644 "$HERE/kiosk/kiosk-lane.service" "$root/lib/systemd/system/kiosk-lane.service"
install -D -m 0644 docs/OPERATOR.md "$root/usr/share/doc/open-egate-kiosk/OPERATOR.md"
install_licence "$root" open-egate-kiosk
finish_package "$root" "$HERE/kiosk"

# 4. open-egate-server
log "staging open-egate-server $VERSION"
root=$(stage_package server)
build_venv "$root" /opt/open-egate/server
install -D -m 0755 "$HERE/server/open-egate-server.sh" "$root/usr/sbin/open-egate-server"
install -D -m 0644 "$HERE/server/open-egate-server.service" \
    "$root/lib/systemd/system/open-egate-server.service"
install -D -m 0640 "$HERE/server/server.toml" "$root/etc/open-egate/server.toml"
install -D -m 0644 docs/OPERATOR.md "$root/usr/share/doc/open-egate-server/OPERATOR.md"
install_licence "$root" open-egate-server
finish_package "$root" "$HERE/server"
