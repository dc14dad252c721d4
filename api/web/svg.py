"""Charts and maps drawn as inline SVG on the server: no script, no tiles, no other host.

Colours come from the site's stylesheet (classes), so the Content-Security-Policy needs no
inline style.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import h3
from markupsafe import Markup, escape

from offers.core.geo import EARTH_RADIUS_M, covering

Series = tuple[str, Sequence[int]]


def _nice_ceiling(value: int) -> int:
    """The axis maximum: 1, 2 or 5 times a power of ten, at least ``value``."""
    if value <= 0:
        return 1
    power: int = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def bar_chart(
    title: str,
    days: Sequence[str],
    series: Sequence[Series],
    *,
    exponent: int = 0,
    label: Callable[[str], str] = lambda day: day[5:],
) -> Markup:
    """Grouped bars, one group per day (or month) and one bar per series, with a y axis and
    labels (``label``: what the axis shows of a day; the month and day by default).

    Each bar carries its day, series and value as data attributes and as a tooltip. Values
    in minor units (``exponent`` > 0) are labelled in major units.
    """
    height, top, bottom, left, right = 220, 12, 34, 56, 8
    group = max(14, 8 * len(series) + 6, (640 - left - right) // max(1, len(days)))
    width = left + right + group * len(days)
    unit = 10**exponent
    plot_h = height - top - bottom
    peak = _nice_ceiling(max((max(values, default=0) for _, values in series), default=0))
    bar_w = min(24, (group - 6) / max(1, len(series)))
    parts = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'role="img" '
        f'aria-label="{escape(title)}" preserveAspectRatio="xMinYMin meet">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in range(5):
        value = peak * tick / 4 / unit
        y = top + plot_h - plot_h * tick / 4
        tick_label = f"{value:,.0f}" if peak >= 4 * unit else f"{value:,g}"
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{tick_label}</text>"
        )
    every = max(1, math.ceil(len(days) / max(1, (width - left) // 70)))
    for n, day in enumerate(days):
        x0 = left + n * group + (group - bar_w * len(series)) / 2
        for s, (name, values) in enumerate(series):
            value = values[n]
            h = plot_h * value / peak
            x = x0 + s * bar_w
            parts.append(
                f'<rect class="bar s{s}" x="{x:.1f}" y="{top + plot_h - h:.1f}" '
                f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" data-day="{escape(day)}" '
                f'data-series="{escape(name)}" data-value="{value}">'
                f"<title>{escape(day)} · {escape(name)}: "
                f"{value / unit:,.{exponent}f}</title></rect>"
            )
        if n % every == 0:
            parts.append(
                f'<text class="tick" x="{x0:.1f}" y="{height - bottom + 16}">'
                f"{escape(label(day))}</text>"
            )
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/></svg>'
    )
    # Every text interpolated above went through escape(); the rest are numbers.
    return Markup("".join(parts))  # noqa: S704


def _offset(lat: float, lng: float, lat0: float, lng0: float) -> tuple[float, float]:
    """Metres east and south of (lat0, lng0): a local flat projection, fine for a city block."""
    x = math.radians(lng - lng0) * EARTH_RADIUS_M * math.cos(math.radians(lat0))
    y = -math.radians(lat - lat0) * EARTH_RADIUS_M
    return x, y


def _circle(lat: float, lng: float, radius_m: float, points: int = 72) -> list[tuple[float, float]]:
    """The points at ``radius_m`` on the sphere around (lat, lng), as (lat, lng)."""
    phi1, lam1, d = math.radians(lat), math.radians(lng), radius_m / EARTH_RADIUS_M
    found = []
    for n in range(points):
        bearing = 2 * math.pi * n / points
        phi2 = math.asin(
            math.sin(phi1) * math.cos(d) + math.cos(phi1) * math.sin(d) * math.cos(bearing)
        )
        lam2 = lam1 + math.atan2(
            math.sin(bearing) * math.sin(d) * math.cos(phi1),
            math.cos(d) - math.sin(phi1) * math.sin(phi2),
        )
        found.append((math.degrees(phi2), math.degrees(lam2)))
    return found


def store_map(describe: Callable[[int, int], str], lat: float, lng: float, radius_m: int) -> Markup:
    """The store, its geofence circle and the H3 cells the nearby search looks it up by;
    ``describe(cells, resolution)`` is what the map says it shows (its accessible name)."""
    resolution, cells = covering(lat, lng, radius_m)
    shapes = [
        [_offset(a, b, lat, lng) for a, b in h3.cell_to_boundary(h3.int_to_str(c))] for c in cells
    ]
    fence = [_offset(a, b, lat, lng) for a, b in _circle(lat, lng, radius_m)]
    reach = max(max(abs(x), abs(y)) for shape in [*shapes, fence] for x, y in shape) * 1.05

    def path(points: list[tuple[float, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)

    label = describe(len(cells), resolution)
    parts = [
        f'<svg class="map" viewBox="{-reach:.1f} {-reach:.1f} {2 * reach:.1f} {2 * reach:.1f}" '
        f'role="img" aria-label="{escape(label)}" data-cells="{len(cells)}" '
        f'data-resolution="{resolution}">',
        f"<title>{escape(label)}</title>",
        f'<rect class="ground" x="{-reach:.1f}" y="{-reach:.1f}" width="{2 * reach:.1f}" '
        f'height="{2 * reach:.1f}"/>',
    ]
    parts.extend(f'<polygon class="cell" points="{path(s)}"/>' for s in shapes)
    parts.append(f'<polygon class="fence" points="{path(fence)}"/>')
    dot = max(reach / 60, 3)
    parts.append(f'<circle class="store" cx="0" cy="0" r="{dot:.1f}"/>')
    scale: int = 10 ** math.floor(math.log10(radius_m))
    parts.append(
        f'<line class="scale" x1="{-reach * 0.9:.1f}" x2="{-reach * 0.9 + scale:.1f}" '
        f'y1="{reach * 0.9:.1f}" y2="{reach * 0.9:.1f}"/>'
        f'<text class="scale-label" x="{-reach * 0.9:.1f}" y="{reach * 0.9 - dot * 2:.1f}" '
        f'font-size="{reach / 14:.1f}">{scale} m</text></svg>'
    )
    # Every text interpolated above went through escape(); the rest are numbers.
    return Markup("".join(parts))  # noqa: S704
