"""Colours, type sizes and the style sheet shared by the three applications.

A calm palette (deep blue on near-white, one accent for "go" and one for "see an officer"),
and a high-contrast variant (white/yellow on black) for the traveller screens. ``scale``
enlarges every font for the large-text mode. Touch targets are never smaller than
``MIN_TOUCH_PX`` (WCAG 2.5.5 asks for 44 CSS pixels).
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_TOUCH_PX = 44
FONT_FAMILY = "DejaVu Sans, Noto Sans, Segoe UI, Helvetica, Arial, sans-serif"


@dataclass(frozen=True)
class Palette:
    background: str
    surface: str
    text: str
    muted: str
    primary: str
    on_primary: str
    success: str
    attention: str
    border: str
    pictogram: str
    pictogram_fill: str


CALM = Palette(
    background="#F4F6F9",
    surface="#FFFFFF",
    text="#13233A",
    muted="#4A5A70",
    primary="#1F5AA6",
    on_primary="#FFFFFF",
    success="#17804A",
    attention="#B5471B",
    border="#C9D2DE",
    pictogram="#1F5AA6",
    pictogram_fill="#DCE7F5",
)

HIGH_CONTRAST = Palette(
    background="#000000",
    surface="#000000",
    text="#FFFFFF",
    muted="#FFFFFF",
    primary="#FFE400",
    on_primary="#000000",
    success="#00FF66",
    attention="#FFE400",
    border="#FFFFFF",
    pictogram="#FFE400",
    pictogram_fill="#1A1A1A",
)


@dataclass(frozen=True)
class TypeScale:
    title: int
    body: int
    small: int
    button: int

    def scaled(self, factor: float) -> TypeScale:
        return TypeScale(
            *(round(size * factor) for size in (self.title, self.body, self.small, self.button))
        )


TRAVELLER_TYPE = TypeScale(title=40, body=24, small=18, button=24)
DESK_TYPE = TypeScale(title=20, body=13, small=11, button=13)
LARGE_TEXT_FACTOR = 1.35


def traveller_style(palette: Palette, sizes: TypeScale) -> str:
    p, s = palette, sizes
    return f"""
    QWidget#travellerRoot {{ background: {p.background}; }}
    QWidget {{ color: {p.text}; font-family: {FONT_FAMILY}; font-size: {s.body}px; }}
    QLabel#title {{ font-size: {s.title}px; font-weight: 600; color: {p.text}; }}
    QLabel#instruction {{ font-size: {s.body}px; color: {p.text}; }}
    QLabel#hint {{ font-size: {s.small}px; color: {p.muted}; }}
    QLabel#guidance {{ font-size: {s.body}px; font-weight: 600; color: {p.on_primary};
        background: {p.primary}; border-radius: 12px; padding: 12px 24px; }}
    QLabel#brand {{ font-size: {s.small}px; font-weight: 600; color: {p.muted}; }}
    QPushButton#help {{ background: {p.attention}; color: {p.on_primary}; border: none;
        border-radius: 12px; padding: 4px 32px; font-weight: 600; }}
    QLabel#helpBanner {{ font-size: {s.body}px; font-weight: 600; color: {p.on_primary};
        background: {p.attention}; padding: 14px 32px; }}
    QLabel#familyBanner {{ font-size: {s.body}px; font-weight: 600; color: {p.on_primary};
        background: {p.primary}; padding: 14px 32px; }}
    QLabel#step {{ font-size: {s.small}px; color: {p.muted}; padding: 4px 10px; }}
    QLabel#stepActive {{ font-size: {s.small}px; color: {p.on_primary}; background: {p.primary};
        border-radius: 14px; padding: 4px 14px; font-weight: 600; }}
    QWidget#topBar {{ background: {p.surface}; border-bottom: 1px solid {p.border}; }}
    QWidget#moreTime {{ background: {p.surface}; border-top: 3px solid {p.attention}; }}
    QWidget#bottomBar {{ background: {p.surface}; border-top: 1px solid {p.border}; }}
    QPushButton {{ font-size: {s.button}px; min-height: {max(MIN_TOUCH_PX, s.button * 2)}px;
        min-width: {MIN_TOUCH_PX}px; padding: 6px 24px; border-radius: 10px;
        border: 2px solid {p.primary}; background: {p.surface}; color: {p.primary}; }}
    QPushButton:checked {{ background: {p.primary}; color: {p.on_primary}; }}
    QPushButton#primary {{ background: {p.primary}; color: {p.on_primary};
        min-height: {max(MIN_TOUCH_PX, s.button * 3)}px; min-width: 280px;
        font-weight: 600; border-radius: 16px; }}
    QPushButton#chip {{ font-size: {s.small}px; padding: 4px 16px;
        min-height: {MIN_TOUCH_PX}px; }}
    QProgressBar {{ min-height: 18px; max-height: 18px; border: none; border-radius: 9px;
        background: {p.pictogram_fill}; }}
    QProgressBar::chunk {{ background: {p.primary}; border-radius: 9px; }}
    """


def desk_style(sizes: TypeScale = DESK_TYPE, palette: Palette = CALM) -> str:
    """The officer booth and the technician console: a dense, calm desktop look."""
    p, s = palette, sizes
    return f"""
    QWidget {{ font-family: {FONT_FAMILY}; font-size: {s.body}px; color: {p.text}; }}
    QMainWindow, QWidget#deskRoot {{ background: {p.background}; }}
    QLabel#title {{ font-size: {s.title}px; font-weight: 600; }}
    QLabel#section {{ font-size: {s.body + 2}px; font-weight: 600; color: {p.primary};
        padding-top: 6px; }}
    QLabel#muted {{ color: {p.muted}; }}
    QLabel#error {{ color: {p.attention}; font-weight: 600; }}
    QLabel#score {{ font-size: {s.title}px; font-weight: 600; }}
    QFrame#card {{ background: {p.surface}; border: 1px solid {p.border}; border-radius: 8px; }}
    QPushButton {{ min-height: 32px; padding: 4px 14px; border-radius: 6px;
        border: 1px solid {p.border}; background: {p.surface}; }}
    QPushButton:hover {{ border-color: {p.primary}; }}
    QPushButton:disabled {{ color: #9AA5B4; background: #EEF1F5; }}
    QPushButton#admit {{ background: {p.success}; color: white; border: none; }}
    QPushButton#refuse {{ background: {p.attention}; color: white; border: none; }}
    QPushButton#secondary, QPushButton#primary {{ background: {p.primary}; color: white;
        border: none; }}
    QPushButton#admit:disabled, QPushButton#refuse:disabled, QPushButton#secondary:disabled,
    QPushButton#primary:disabled {{ background: #C5CDD8; color: #F4F6F9; }}
    QLineEdit, QPlainTextEdit, QComboBox {{ background: {p.surface}; border: 1px solid {p.border};
        border-radius: 6px; padding: 4px 6px; min-height: 24px; }}
    QListWidget, QTableWidget, QTreeWidget {{ background: {p.surface};
        border: 1px solid {p.border}; border-radius: 6px; }}
    QHeaderView::section {{ background: {p.background}; border: none;
        border-bottom: 1px solid {p.border}; padding: 4px 6px; font-weight: 600; }}
    QTabWidget::pane {{ border: 1px solid {p.border}; border-radius: 6px;
        background: {p.surface}; }}
    QTabBar::tab {{ padding: 8px 16px; }}
    QTabBar::tab:selected {{ color: {p.primary}; font-weight: 600;
        border-bottom: 2px solid {p.primary}; }}
    """
