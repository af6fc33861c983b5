"""Coverage against its target per region, as the bars of an SVG drawn on the server, so
the chart needs no script and prints as it shows: the geometry is worked out here, the
drawing is templates/dashboard/_chart.html.

The chart is as wide as a phone's column (320 units) and scales with the page. Each region one
level down gets a bar per part (urban, rural) for a township or wider region, one bar for
a village; the target is a mark across the bar, and the verdict is written beside it, so
met or missed never rests on colour alone.
"""

from dataclasses import dataclass

WIDTH = 320
LEFT, BAR_WIDTH = 12, 220
TOP = 22  # room for the scale
ROW = 44  # a label line, then the bar
BAR = 14
STEP = 25  # the scale runs in quarters of 100 %


@dataclass
class Bar:
    name: str
    part: str | None  # urban, rural, or None for a whole village
    rate: float | None
    target: int | None
    met: bool | None
    y: float
    width: float
    target_x: float | None


@dataclass
class Chart:
    width: int
    height: int
    bars: list
    ticks: list  # (x, percent)
    left: int
    bar_height: int


def coverage_chart(table):
    """The chart of `table` (indicators.coverage's answer): its child regions, or the
    region itself when it has none."""
    entries = []
    for row in table["children"] or [table]:
        parts: list[tuple[str | None, dict]] = [(kind, row[kind]) for kind in ("urban", "rural") if row.get(kind)]
        for part, figures in parts or [(None, row)]:
            entries.append((row["name"] or row["region"], part, figures["coverage_rate"], figures["target"]))
    highest = max([100] + [value for _n, _p, rate, target in entries for value in (rate, target["rate"])
                           if value is not None])
    top = -(-highest // STEP) * STEP

    def x(percent):
        return LEFT + BAR_WIDTH * percent / top

    bars = []
    for n, (name, part, rate, target) in enumerate(entries):
        goal = target["rate"]
        bars.append(Bar(name, part, rate, goal, target["met"], y=TOP + n * ROW + 18,
                        width=BAR_WIDTH * (rate or 0) / top, target_x=None if goal is None else x(goal)))
    ticks = [(x(percent), int(percent)) for percent in range(0, int(top) + 1, STEP)]
    return Chart(WIDTH, TOP + len(bars) * ROW + 6, bars, ticks, LEFT, BAR)
