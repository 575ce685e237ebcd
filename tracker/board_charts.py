"""The board's two charts as geometry: the template draws them as SVG (autoescaped), so the page needs no script and
no request leaves the server. Colour is never the only cue: late chains are also counted in words, and each chart
has its data as a table beside it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from products.rules.stages import STAGES
from tracker.board import Board, VeinToVein

# --- the pipeline: one column per stage, the late part of it stacked on top ---------------------------------------

PIPE_W, PIPE_H = 960, 240
PIPE_TOP, PIPE_BOTTOM = 28, 196  # the bars' area; stage names below it
PIPE_LEFT, PIPE_RIGHT = 8, 8


@dataclass(frozen=True)
class StageBar:
    stage: str
    label: str
    count: int
    late: int
    x: float
    width: float
    center: float
    on_time_y: float
    on_time_height: float
    late_y: float
    late_height: float
    count_y: float
    url: str
    late_url: str


@dataclass(frozen=True)
class PipelineChart:
    width: int
    height: int
    baseline: float
    label_y: float
    bars: list[StageBar]
    description: str


def pipeline_chart(board: Board, stage_urls: dict[str, str], late_urls: dict[str, str]) -> PipelineChart:
    slot = (PIPE_W - PIPE_LEFT - PIPE_RIGHT) / len(STAGES)
    width = slot * 0.7
    highest = max([*board.stages.values(), 1])
    scale = (PIPE_BOTTOM - PIPE_TOP) / highest
    bars = []
    for index, stage in enumerate(STAGES):
        count, late = board.stages[stage.value], board.late_by_stage[stage.value]
        x = PIPE_LEFT + index * slot + (slot - width) / 2
        late_height = late * scale
        on_time_height = (count - late) * scale
        bars.append(
            StageBar(
                stage=stage.value,
                label=stage.label,
                count=count,
                late=late,
                x=round(x, 1),
                width=round(width, 1),
                center=round(x + width / 2, 1),
                on_time_y=round(PIPE_BOTTOM - on_time_height, 1),
                on_time_height=round(on_time_height, 1),
                late_y=round(PIPE_BOTTOM - on_time_height - late_height, 1),
                late_height=round(late_height, 1),
                count_y=round(PIPE_BOTTOM - count * scale - 6, 1),
                url=stage_urls[stage.value],
                late_url=late_urls[stage.value],
            )
        )
    total, late_total = board.open_chains, len(board.late)
    parts = ", ".join(f"{bar.label.lower()} {bar.count}" + (f" ({bar.late} late)" if bar.late else "") for bar in bars)
    return PipelineChart(
        width=PIPE_W,
        height=PIPE_H,
        baseline=PIPE_BOTTOM,
        label_y=PIPE_BOTTOM + 20,
        bars=bars,
        description=f"{total} open chain{'s' * (total != 1)}, {late_total} running late: {parts}.",
    )


# --- the vein-to-vein time: per product, each chain a dot, the range a line, the median a tick ----------------

V2V_W = 960
V2V_LEFT, V2V_RIGHT = 150, 24
V2V_ROW = 46
V2V_TOP = 16


@dataclass(frozen=True)
class Dot:
    x: float
    coi: str
    days: float


@dataclass(frozen=True)
class ProductRow:
    summary: VeinToVein
    y: float
    label_y: float
    min_x: float
    max_x: float
    median_x: float
    tick_top: float
    tick_bottom: float
    dots: list[Dot]
    url: str


@dataclass(frozen=True)
class VeinToVeinChart:
    width: int
    height: int
    label_x: int
    axis_y: float
    tick_label_y: float
    ticks: list[tuple[float, int]]
    rows: list[ProductRow]
    description: str


def _tick_step(longest: float) -> int:
    for step in (7, 14, 28):
        if longest / step <= 10:
            return step
    return 7 * math.ceil(longest / 70)


def vein_to_vein_chart(board: Board, product_urls: dict[int, str]) -> VeinToVeinChart | None:
    if not board.vein_to_vein:
        return None
    longest = max(v.max for v in board.vein_to_vein)
    step = _tick_step(longest)
    end = step * max(1, math.ceil(longest / step))
    plot = V2V_W - V2V_LEFT - V2V_RIGHT

    def x(days: float) -> float:
        return round(V2V_LEFT + plot * max(days, 0) / end, 1)

    rows = []
    for index, summary in enumerate(board.vein_to_vein):
        y = V2V_TOP + index * V2V_ROW + V2V_ROW / 2
        rows.append(
            ProductRow(
                summary=summary,
                y=y,
                label_y=y + 4,
                min_x=x(summary.min),
                max_x=x(summary.max),
                median_x=x(summary.median),
                tick_top=y - 12,
                tick_bottom=y + 12,
                dots=[Dot(x(chain.days), chain.coi, chain.days) for chain in summary.chains],
                url=product_urls[summary.product_id],
            )
        )
    axis_y = V2V_TOP + len(rows) * V2V_ROW + 4
    description = "; ".join(
        f"{v.product_name}: {v.n} chain{'s' * (v.n != 1)}, median {v.median} days (range {v.min} to {v.max})"
        for v in board.vein_to_vein
    )
    return VeinToVeinChart(
        width=V2V_W,
        height=int(axis_y + 30),
        label_x=V2V_LEFT - 8,
        axis_y=axis_y,
        tick_label_y=axis_y + 16,
        ticks=[(x(day), day) for day in range(0, end + 1, step)],
        rows=rows,
        description=f"Vein-to-vein days (collection to first infusion): {description}.",
    )
