# The two commands: `make demo` and `make test`. Each sets up what it needs first
# (Debian packages, uv, the virtual environment from requirements/lock.txt) and is idempotent.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export KIOSK_REPO_ROOT := $(CURDIR)

.PHONY: setup test lint typecheck imports pytest demo rig lock screenshots package package-test clean

setup:
	@./packaging/bootstrap.sh

lint: setup
	$(VENV)/bin/ruff check kiosk hardware models ui server tests
	$(VENV)/bin/ruff format --check kiosk hardware models ui server tests

typecheck: setup
	$(VENV)/bin/mypy kiosk hardware models server ui

imports: setup
	$(VENV)/bin/lint-imports

# The whole suite runs as two pytest processes side by side (tests/run_suite.sh: the server
# tests beside the others); with
# PYTEST_ARGS, one pytest process runs what they name.
pytest: setup
ifeq ($(strip $(PYTEST_ARGS)),)
	QT_QPA_PLATFORM=offscreen PY=$(PY) ./tests/run_suite.sh
else
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)
endif

test: setup
	@$(MAKE) --no-print-directory lint typecheck imports pytest

demo: setup
	@./packaging/demo.sh

# The production rig: the packaged lane service (`kiosk run`) from a TOML naming real drivers
# (pcsc, serial, opencv, serial) on real-protocol stand-ins; a table, or RIG_ARGS=--json for
# one JSON object as the last line. tests/rig runs the same cases in `make test`.
rig: setup
	$(PY) -m kiosk.rig $(RIG_ARGS)

# Every main screen of the three applications (traveller in every language), rendered
# offscreen on simulated devices into docs/screenshots/*.png (see docs/SCREENSHOTS.md).
screenshots: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m ui.screenshots docs/screenshots

# Regenerate the pinned lock (pins only, no registry hosts). dlib comes from dlib-bin:
# the override drops face_recognition's `dlib` requirement so it is never compiled.
lock:
	uv pip compile pyproject.toml --extra dev --override requirements/overrides.txt \
	  --python-version 3.11 --no-header --no-annotate -o requirements/lock.txt

clean:
	rm -rf $(VENV) build *.egg-info

# Debian packages of the kiosk and the server (build/packages/); DEB_REVISION=N sets the
# packaging revision. package-test installs them in a debootstrap root (slow; not in `make test`).
package: setup
	@./packaging/deb/build_debs.sh

package-test: setup
	@./packaging/test_install.sh
