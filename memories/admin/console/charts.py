"""Server-rendered SVG charts for the console: no script, nothing loaded from outside.

Every drawn value is a `<rect class="mark ...">` with a `<title>` (the browser shows it on hover),
so a chart of data has its marks and a chart of nothing has none (it says so instead). Sizes
are in a viewBox: the chart scales to the width of its box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 190
LEFT, RIGHT, TOP, BOTTOM = 48, 8, 26, 22
PALETTE = ("#417690", "#e08e0b", "#5b8c3a", "#a64ca6", "#c0392b", "#7f8c8d", "#2e86c1")


@dataclass(frozen=True)
class Series:
    key: str  # a CSS-safe name: the marks' class is "mark mark-<key>"
    label: str
    values: Sequence[int | float]
    colour: str


def _f(value: float) -> str:
    return f"{value:.1f}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def _frame(label: str, body: SafeString, legend: SafeString, caption: str) -> SafeString:
    return format_html(
        '<figure class="console-chart"><svg viewBox="0 0 {} {}" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
        '<g class="legend">{}</g>{}</svg><figcaption>{}</figcaption></figure>',
        WIDTH,
        HEIGHT,
        label,
        legend,
        body,
        caption,
    )


def _legend(series: Sequence[Series]) -> SafeString:
    items = []
    x = LEFT
    for s in series:
        items.append(
            format_html(
                '<rect x="{}" y="6" width="10" height="10" fill="{}"></rect>'
                '<text x="{}" y="15" font-size="12">{}</text>',
                x,
                s.colour,
                x + 14,
                s.label,
            )
        )
        x += 24 + 7 * len(s.label)
    return format_html_join("", "{}", ((i,) for i in items))


def bar_chart(*, title: str, days: Sequence[date], series: Sequence[Series]) -> SafeString:
    """Bars per day, side by side when there are several series; a day of zeros draws none."""
    top = max((v for s in series for v in s.values), default=0)
    caption = f"{title}, {days[0]:%d %b} – {days[-1]:%d %b %Y} (UTC)" if days else title
    if not days or top <= 0:
        empty = format_html(
            '<text class="empty" x="{}" y="{}" text-anchor="middle" font-size="14" '
            'fill="#777">Nothing in these {} days.</text>',
            WIDTH / 2,
            HEIGHT / 2,
            len(days),
        )
        return _frame(title, empty, _legend(series), caption)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(days)
    bar_w = max(1.0, (slot * 0.8) / len(series))
    marks = []
    for i, day in enumerate(days):
        for j, s in enumerate(series):
            value = s.values[i]
            if value <= 0:
                continue
            height = max(1.0, plot_h * value / top)
            marks.append(
                format_html(
                    '<rect class="mark mark-{}" x="{}" y="{}" width="{}" '
                    'height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                    s.key,
                    _f(LEFT + i * slot + slot * 0.1 + j * bar_w),
                    _f(TOP + plot_h - height),
                    _f(bar_w),
                    _f(height),
                    s.colour,
                    f"{day:%a %d %b}",
                    _number(value),
                    s.label.lower(),
                )
            )
    ticks = {0: days[0], len(days) - 1: days[-1], len(days) // 2: days[len(days) // 2]}
    axis = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"></line>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end">0</text>{}',
        LEFT,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h,
        LEFT - 4,
        TOP + 10,
        _number(top),
        LEFT - 4,
        TOP + plot_h,
        format_html_join(
            "",
            '<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>',
            (
                (_f(LEFT + i * slot + slot / 2), HEIGHT - 6, f"{day:%d %b}")
                for i, day in sorted(ticks.items())
            ),
        ),
    )
    body = format_html("{}{}", axis, format_html_join("", "{}", ((m,) for m in marks)))
    return _frame(title, body, _legend(series), caption)


def share_bar(*, title: str, parts: Sequence[tuple[str, int]]) -> SafeString:
    """One horizontal bar split by share (tiers, statuses); a part of zero draws nothing."""
    total = sum(n for _, n in parts)
    if total <= 0:
        return format_html('<p class="console-empty">{}: none.</p>', title)
    x, rects, legend = 0.0, [], []
    for k, (label, n) in enumerate(parts):
        colour = PALETTE[k % len(PALETTE)]
        if n > 0:
            width = 600 * n / total
            rects.append(
                format_html(
                    '<rect class="mark mark-share" x="{}" y="0" width="{}" height="18" '
                    'fill="{}"><title>{}: {} of {}</title></rect>',
                    _f(x),
                    _f(width),
                    colour,
                    label,
                    n,
                    total,
                )
            )
            x += width
        legend.append((colour, label, n))
    return format_html(
        '<div class="console-share"><svg viewBox="0 0 600 18" role="img" aria-label="{}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none">{}</svg>'
        '<ul class="console-legend">{}</ul></div>',
        title,
        format_html_join("", "{}", ((r,) for r in rects)),
        format_html_join("", '<li><span style="background:{}"></span>{} {}</li>', legend),
    )
