#!/usr/bin/env bash
# The whole suite as two pytest processes side by side (`make pytest` without PYTEST_ARGS):
# the central server's tests, which mostly wait on servers and PostgreSQL, beside all the
# others (the production rig and the PC/SC tests come late in the second and run once the
# first has finished: pcscd's polling is timing-sensitive). Each process has its
# own temporary directory, pcscd socket and PostgreSQL schema (tests/conftest.py,
# tests/server/conftest.py). The first group's output follows the second's; the exit status
# is non-zero when either failed.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
GROUP_A=(tests/server)
work=$(mktemp -d /tmp/kiosk-suite-XXXXXX)
"$PY" -m pytest "${GROUP_A[@]}" --basetemp="$work/a" "$@" > "$work/a.log" 2>&1 &
first=$!
rest=()
for group in "${GROUP_A[@]}"; do rest+=(--ignore="$group"); done
"$PY" -m pytest "${rest[@]}" --basetemp="$work/b" "$@"
second=$?
wait "$first"
first_status=$?
echo
echo "=== ${GROUP_A[*]} (run beside the above) ==="
cat "$work/a.log"
rm -rf "$work"
echo "suite: ${GROUP_A[*]}: exit $first_status; the rest: exit $second"
[ "$first_status" -eq 0 ] && [ "$second" -eq 0 ]
