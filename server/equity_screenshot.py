"""``python -m server.equity_screenshot OUT.png``: the equity page with simulated traffic, as
Debian's headless Chromium renders it.

A throw-away server (SQLite in a temporary folder) ingests a month of simulated decisions
(:mod:`server.equity_simulation`), a supervisor logs in and fetches ``/v1/equity/report``
through the real application, and Chromium takes the screenshot of that page.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def chromium_binary() -> str:
    found = shutil.which("chromium") or (CHROMIUM if Path(CHROMIUM).exists() else None)
    if found is None:
        raise RuntimeError("Debian's chromium is not installed (packaging/bootstrap.sh adds it)")
    return found


def chromium(args: list[str], timeout_s: float = 120.0) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium (no sandbox: it may run as root in a container)."""
    command = [
        chromium_binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, check=True)


def equity_page_html(workdir: Path, month: datetime) -> str:
    """The HTML of ``/v1/equity/report`` for ``month``, after a month of simulated traffic."""
    from fastapi.testclient import TestClient

    from server.accounts import add_user
    from server.app import build_state, create_app
    from server.config import ServerConfig
    from server.equity_simulation import simulate_month
    from server.security.tokens import Role

    config = ServerConfig(data_dir=workdir / "server", port=0)
    state = build_state(config)
    try:
        with state.database.session() as session:
            simulate_month(session, month, travellers_per_kiosk=4000)
        add_user(state.database, "supervisor", Role.SUPERVISOR, "simulated-supervisor")
        with TestClient(create_app(config, state=state), base_url="https://testserver") as client:
            token = client.post(
                "/v1/auth/token",
                json={"username": "supervisor", "password": "simulated-supervisor"},
            ).json()["access_token"]
            answer = client.get(
                f"/v1/equity/report?from_month={month:%Y-%m}&to_month={month:%Y-%m}",
                headers={"Authorization": f"Bearer {token}"},
            )
            answer.raise_for_status()
            html: str = answer.text
            return html
    finally:
        state.database.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs/screenshots/server-equity-report.png").resolve()
    month = datetime(2026, 11, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "equity.html"
        page.write_text(equity_page_html(Path(folder), month), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        chromium([f"--screenshot={out}", "--window-size=1200,860", page.as_uri()])
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
