"""Server-rendered SVG charts for the manager's page: horizontal bars, stacked bars, rates.

Why hand-written rather than a charting library: the charts are four kinds of bars, and
pygal (the usual pure-Python choice) loads its tooltip script from a CDN unless told not to
and emits far more markup than these need. Each function returns a complete `<svg>` element
(well-formed XML: every text goes through `_esc`), with a `<title>` and an `aria-label` for
screen readers, and the same numbers as text, so the page reads without the picture too.
Colours are fixed per state (the lifecycle's order), so a state has one colour everywhere.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
PALETTE = ("#2f6db5", "#4f9bd9", "#7cc0c8", "#5aa469", "#a3c75a", "#e0b84c", "#e08a3c", "#c9563c", "#8a8f98")
ACCENT = "#2f6db5"
MUTED = "#8a8f98"


# Characters XML 1.0 does not allow (control characters a CRM name may carry): dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _esc(text: object) -> str:
    return escape(_NOT_XML.sub("", str(text)))


def _attr(text: object) -> str:
    return quoteattr(_NOT_XML.sub("", str(text)))


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" aria-label={_attr(title)} font-family={_attr(FONT)} font-size="13">')
    return Markup("".join([head, f"<title>{_esc(title)}</title>", *body, "</svg>"]))


def percent(rate: float | None) -> str:
    """0.4567 -> '45,7 %'; None -> '—' (no denominator: nothing to measure yet)."""
    if rate is None:
        return "—"
    return f"{rate * 100:.1f}".replace(".", ",") + "\u00a0%"


def _label_width(labels: list[str]) -> int:
    return min(260, max(80, 7 * max((len(x) for x in labels), default=0) + 12))


def bars(items: list[tuple[str, float]], title: str, *, width: int = 560, fmt=lambda v: f"{v:g}",
         color: str = ACCENT, max_value: float | None = None) -> Markup:
    """One horizontal bar per (label, value), the value written at its end."""
    bar_h, gap, top = 20, 8, 6
    labels = [label for label, _ in items]
    left = _label_width(labels)
    room = width - left - 70
    top_value = max_value if max_value is not None else max((v for _, v in items), default=0)
    height = top + len(items) * (bar_h + gap) + 4
    body: list[str] = []
    if not items:
        return _svg(width, 40, title, [f'<text x="0" y="24" fill="{MUTED}">Aucune donnée</text>'])
    for i, (label, value) in enumerate(items):
        y = top + i * (bar_h + gap)
        w = 0 if not top_value else max(1.0 if value else 0.0, room * value / top_value)
        body.append(f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">{_esc(label)}</text>')
        body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{color}">'
                    f"<title>{_esc(label)} : {_esc(fmt(value))}</title></rect>")
        body.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{_esc(fmt(value))}</text>')
    return _svg(width, height, title, body)


def rates(items: list[tuple[str, float | None]], title: str, *, width: int = 560) -> Markup:
    """Rates from 0 to 100 %: a grey track, the rate in colour, '—' when there is nothing to measure."""
    bar_h, gap, top = 18, 10, 6
    left = _label_width([label for label, _ in items])
    room = width - left - 80
    height = top + len(items) * (bar_h + gap) + 4
    body: list[str] = []
    if not items:
        return _svg(width, 40, title, [f'<text x="0" y="24" fill="{MUTED}">Aucune donnée</text>'])
    for i, (label, rate) in enumerate(items):
        y = top + i * (bar_h + gap)
        body.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{_esc(label)}</text>')
        body.append(f'<rect x="{left}" y="{y}" width="{room}" height="{bar_h}" rx="3" fill="#e6e8eb"/>')
        if rate is not None:
            w = room * max(0.0, min(1.0, rate))
            body.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" rx="3" fill="{ACCENT}">'
                        f"<title>{_esc(label)} : {_esc(percent(rate))}</title></rect>")
        body.append(f'<text x="{left + room + 6}" y="{y + 14}">{_esc(percent(rate))}</text>')
    return _svg(width, height, title, body)


@dataclass(frozen=True)
class Series:
    key: str
    label: str


def stacked(rows: list[tuple[str, dict[str, int]]], series: list[Series], title: str, *,
            width: int = 640) -> Markup:
    """One stacked bar per row (label, {series key: count}), a legend above, the total at the end."""
    bar_h, gap = 20, 8
    used = [s for s in series if any(counts.get(s.key) for _, counts in rows)]
    colors = {s.key: PALETTE[i % len(PALETTE)] for i, s in enumerate(series)}
    # Legend: as many entries per line as fit.
    legend: list[str] = []
    x, y = 0, 14
    for s in used:
        w = 22 + 7 * len(s.label) + 14
        if x + w > width:
            x, y = 0, y + 20
        legend.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" rx="2" fill="{colors[s.key]}"/>')
        legend.append(f'<text x="{x + 17}" y="{y}">{_esc(s.label)}</text>')
        x += w
    top = y + 14
    left = _label_width([label for label, _ in rows])
    room = width - left - 50
    biggest = max((sum(c.values()) for _, c in rows), default=0)
    body = list(legend)
    if not rows:
        return _svg(width, top + 30, title, body + [f'<text x="0" y="{top + 16}" fill="{MUTED}">Aucune donnée</text>'])
    for i, (label, counts) in enumerate(rows):
        yy = top + i * (bar_h + gap)
        body.append(f'<text x="{left - 8}" y="{yy + 15}" text-anchor="end">{_esc(label)}</text>')
        xx = float(left)
        total = sum(counts.values())
        for s in used:
            n = counts.get(s.key, 0)
            if not n:
                continue
            w = room * n / biggest if biggest else 0
            body.append(f'<rect x="{xx:.1f}" y="{yy}" width="{w:.1f}" height="{bar_h}" fill="{colors[s.key]}">'
                        f"<title>{_esc(label)} — {_esc(s.label)} : {n}</title></rect>")
            xx += w
        body.append(f'<text x="{xx + 6:.1f}" y="{yy + 15}">{total}</text>')
    height = top + len(rows) * (bar_h + gap) + 4
    return _svg(width, height, title, body)


def before_after(before: float | None, after: float | None, title: str, *, width: int = 560) -> Markup:
    """Two rates side by side: before the bilan, after it."""
    return rates([("Avant le bilan", before), ("Après le bilan", after)], title, width=width)
