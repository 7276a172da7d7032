"""The booth's additions to the desk style: lane tiles by severity, the alarm banner."""

from __future__ import annotations

from ui.theme import CALM, DESK_TYPE, LARGE_TEXT_FACTOR, desk_style


def booth_style(large_text: bool = False) -> str:
    sizes = DESK_TYPE.scaled(LARGE_TEXT_FACTOR) if large_text else DESK_TYPE
    p = CALM
    return (
        desk_style(sizes)
        + f"""
    QLabel#alarm {{ background: #B3261E; color: white; font-weight: 700; padding: 8px 12px;
        border-radius: 6px; font-size: {sizes.body + 2}px; }}
    QLabel#tileStep {{ font-size: {sizes.title}px; font-weight: 600; color: {p.primary}; }}
    QLabel#tileAlarm {{ color: #B3261E; font-weight: 700; }}
    QFrame#tile {{ background: {p.surface}; border: 2px solid {p.border}; border-radius: 10px; }}
    QFrame#tile[severity="alarm"] {{ background: #FBE4E2; border-color: #B3261E; }}
    QFrame#tile[severity="fault"] {{ background: #FDEBD8; border-color: {p.attention}; }}
    QFrame#tile[severity="assist"] {{ background: #FFF6CC; border-color: #C9A400; }}
    QFrame#tile[severity="closed"] {{ background: #E6E9EE; border-color: #8893A2; }}
    QPushButton#tileAction {{ min-height: 28px; padding: 2px 8px; font-size: {sizes.small}px; }}
    """
    )
