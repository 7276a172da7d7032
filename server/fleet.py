"""The fleet view: every enrolled kiosk with its last heartbeat and the trust coverage it
reported, the states whose chipped passports it would refer flagged.

Each kiosk computes its coverage as ``kiosk trust coverage`` does (per state of its policy:
CSCAs, the earliest CRL next update, a status ``ok`` / ``no_csca`` / ``no_crl`` /
``crl_stale`` / ``not_a_state``) and sends it with its heartbeat. A state refers travellers
when its status is not ``ok``; a state still ``ok`` whose CRL's next update falls within
:data:`CRL_DUE_HOURS` is flagged ``crl_due`` so the technician fetches a CRL before it goes
stale. :func:`render_fleet_html` is the same as one self-contained HTML page.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape
from typing import Any

from models.base import utc_now
from models.server_tables import DeviceRow, HeartbeatRow
from server.api.schemas import DeviceOut, StateCoverageOut

CRL_DUE_HOURS = 48.0
STATUS_TEXT = {
    "ok": "ok",
    "no_csca": "NO CSCA: chipped passports referred",
    "no_crl": "NO CRL: revocation not checked, referred",
    "crl_stale": "CRL STALE: travellers referred",
    "not_a_state": "not a state: referred",
}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def coverage_out(stored: dict[str, Any] | None, now: datetime) -> list[StateCoverageOut]:
    """The stored coverage, each state with whether it refers now or its CRL is due."""
    states = stored.get("states") if isinstance(stored, dict) else None
    out: list[StateCoverageOut] = []
    for state in states if isinstance(states, list) else []:
        if not isinstance(state, dict):
            continue
        update = _moment(state.get("crl_next_update"))
        status = str(state.get("status", ""))
        refers = status != "ok" or (update is not None and update < now)
        due = not refers and update is not None and update < now + timedelta(hours=CRL_DUE_HOURS)
        out.append(
            StateCoverageOut(
                code=str(state.get("code", "")),
                cscas=int(state.get("cscas", 0)),
                crl_next_update=update,
                status="crl_stale" if status == "ok" and refers else status,
                refers=refers,
                crl_due=due,
            )
        )
    return out


def device_out(
    device: DeviceRow,
    beat: HeartbeatRow | None,
    now: datetime | None = None,
    refusals: tuple[int, str] | None = None,
) -> DeviceOut:
    """A kiosk of the fleet view (the technicians' ``/v1/devices``); ``refusals``: how many
    signed versions it refused, and the latest as one line."""
    coverage = coverage_out(beat.trust_coverage if beat else None, now or utc_now())
    return DeviceOut(
        refused_changes=refusals[0] if refusals else 0,
        latest_refusal=refusals[1] if refusals else None,
        name=device.name,
        enrolled_at=device.enrolled_at,
        revoked=device.revoked_at is not None,
        last_heartbeat_at=beat.received_at if beat else None,
        status=beat.status if beat else None,
        backlog=beat.backlog if beat else None,
        software_version=beat.software_version if beat else None,
        devices=beat.devices if beat else {},
        trust_reported_at=beat.trust_reported_at if beat else None,
        trust_coverage=coverage,
        trust_refers=[s.code for s in coverage if s.refers],
        trust_crl_due=[s.code for s in coverage if s.crl_due],
    )


_STYLE = """
body { font-family: "DejaVu Sans", sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 22px 0 6px; }
p.rule { font-size: 13px; color: #444; max-width: 980px; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; }
th, td { border-bottom: 1px solid #d0d4d9; padding: 4px 10px; text-align: left; }
th { background: #eef1f4; }
tr.refers td { background: #fde2e1; font-weight: bold; }
tr.due td { background: #fff4d6; }
span.flag { color: #b3261e; font-weight: bold; }
span.ok { color: #1e6b2e; }
"""


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "–"


def _kiosk_section(device: DeviceOut) -> str:
    if device.trust_refers:
        flag = (
            f'<span class="flag">REFERS chipped passports of {len(device.trust_refers)} '
            f"state(s): {escape(', '.join(device.trust_refers))}</span>"
        )
    elif device.trust_reported_at is None:
        flag = '<span class="flag">trust coverage not reported</span>'
    else:
        flag = '<span class="ok">every state of the policy covered</span>'
    due = (
        f" · CRL due within {CRL_DUE_HOURS:.0f} h: {escape(', '.join(device.trust_crl_due))}"
        if device.trust_crl_due
        else ""
    )
    rows = []
    for state in device.trust_coverage:
        kind = ' class="refers"' if state.refers else ' class="due"' if state.crl_due else ""
        rows.append(
            f"<tr{kind}><td>{escape(state.code)}</td>"
            f"<td>{escape(STATUS_TEXT.get(state.status, state.status))}</td>"
            f"<td>{state.cscas}</td><td>{_when(state.crl_next_update)}</td></tr>"
        )
    table = (
        "<table><tr><th>State</th><th>Status</th><th>CSCAs</th><th>CRL next update</th></tr>"
        + "".join(rows)
        + "</table>"
        if rows
        else ""
    )
    return (
        f'<section class="kiosk" id="kiosk-{escape(device.name)}">'
        f"<h2>Kiosk {escape(device.name)}</h2>"
        f"<p>Status {escape(device.status or 'no heartbeat')}, last heartbeat "
        f"{_when(device.last_heartbeat_at)}, coverage reported {_when(device.trust_reported_at)}"
        f"{' (revoked)' if device.revoked else ''}</p><p>{flag}{due}</p>{table}</section>"
    )


def render_fleet_html(devices: list[DeviceOut], now: datetime | None = None) -> str:
    """The fleet as one page (no script, no external resource); kiosks that refer first."""
    ordered = sorted(
        devices,
        key=lambda d: (
            not d.trust_refers,
            d.trust_reported_at is not None,
            not d.trust_crl_due,
            d.name,
        ),
    )
    referring = sum(1 for d in devices if d.trust_refers)
    summary = (
        f"{len(devices)} kiosk(s); {referring} refer chipped passports of at least one state "
        "of their policy."
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Fleet trust coverage</title><style>{_STYLE}</style></head><body>"
        f"<h1>Fleet: trust coverage</h1><p>{escape(summary)} "
        f"Generated {_when(now or utc_now())}.</p>"
        '<p class="rule">Each kiosk reports, per state of its policy, the CSCAs and CRLs it holds '
        "(as <code>kiosk trust coverage</code>). A state without a valid CSCA, without a CRL or "
        "with a CRL past its next update has its chipped passports referred; a CRL whose next "
        f"update is within {CRL_DUE_HOURS:.0f} hours is flagged before it goes stale.</p>"
        + "".join(_kiosk_section(d) for d in ordered)
        + "</body></html>"
    )
