"""The toxicity chart: geometry.py (pure numbers), toxicity.py (from the timeline to a drawing), and the
template `tracker/chart.svg` (the markup)."""

from tracker.chart.geometry import MAX_LABELS, MAX_POINTS
from tracker.chart.toxicity import Chart, ChartRow, timeline_chart

__all__ = ["MAX_LABELS", "MAX_POINTS", "Chart", "ChartRow", "timeline_chart"]
