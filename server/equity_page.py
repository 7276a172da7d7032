"""The equity report as one self-contained HTML page (no script, no external resource), for
supervisors and the agency's analysts: a table per site and month, flagged groups first."""

from __future__ import annotations

from html import escape
from typing import Any

_STYLE = """
body { font-family: "DejaVu Sans", sans-serif; margin: 24px; color: #1b1f24; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 26px 0 6px; }
p.rule { font-size: 13px; color: #444; max-width: 980px; }
table { border-collapse: collapse; font-size: 13px; margin-bottom: 8px; }
th, td { border-bottom: 1px solid #d0d4d9; padding: 4px 10px; text-align: right; }
th, td { white-space: nowrap; }
th { background: #eef1f4; }
td.name, th.name { text-align: left; }
tr.flagged td { background: #fde2e1; font-weight: bold; }
span.flag { color: #b3261e; }
.overall { font-size: 14px; margin: 2px 0 8px; }
"""


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.2f} %"


def _rows(groups: list[dict[str, Any]], dimension: str) -> str:
    cells = []
    for group in groups:
        low, high = group["rate_interval"]
        ratio = group["ratio_to_overall"]
        cells.append(
            f'<tr class="{"flagged" if group["flagged"] else ""}">'
            f'<td class="name">{escape(dimension)} {escape(str(group["value"]))}</td>'
            f"<td>{group['travellers']}</td><td>{group['mismatch_referrals']}</td>"
            f"<td>{_percent(group['rate'])}</td>"
            f"<td>{_percent(low)} to {_percent(high)}</td>"
            f"<td>{'n/a' if ratio is None else f'{ratio:.2f}x'}</td>"
            f"<td>{group['admitted_same_person']}</td>"
            f"<td>{_percent(group['likely_false_non_match_rate'])}</td>"
            f"<td>{'<span class=flag>FLAGGED</span>' if group['flagged'] else ''}</td></tr>"
        )
    return "".join(cells)


def render_equity_html(report: dict[str, Any]) -> str:
    sections = []
    for block in report["sites"]:
        header = (
            "<tr><th class=name>group</th><th>travellers</th><th>mismatch referrals</th>"
            "<th>rate</th><th>interval (flag level)</th><th>vs overall</th>"
            "<th>admitted as same person</th><th>likely false non-match</th><th></th></tr>"
        )
        body = "".join(
            _rows(block["by"][dimension], dimension) for dimension in ("nationality", "sex")
        )
        sections.append(
            f"<h2>Site {escape(block['site'])}, {escape(block['month'])}</h2>"
            f'<div class="overall">{block["travellers"]} travellers, '
            f"{block['mismatch_referrals']} biometric-mismatch referrals "
            f"({_percent(block['rate'])}); {block['admitted_same_person']} admitted by the "
            f"officer as the same person ({_percent(block['likely_false_non_match_rate'])} "
            f"likely false non-matches)</div><table>{header}{body}</table>"
        )
    flagged = sum(g["flagged"] for b in report["sites"] for d in b["by"].values() for g in d)
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        f"<title>Face-match equity {escape(report['from'])} to {escape(report['to'])}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Face-match equity, {escape(report['from'])} to {escape(report['to'])}</h1>"
        f"<p class=rule>Biometric-mismatch referral rate by nationality and by sex as read "
        f"from the passport's MRZ, per site and month, with the officer's outcome. "
        f"{flagged} group(s) flagged: {escape(report['rule'])}.</p>"
        + ("".join(sections) or "<p>No decisions in this period.</p>")
        + "</body></html>"
    )
