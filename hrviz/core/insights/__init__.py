"""Insights from a stored session: zones, resting rate, sustained episodes, recoveries, data quality.

Pure functions over readings and events (docs/insights.md has every definition, source and
limit): :func:`summary.summarize` folds the readings in one pass, :func:`report.insights` turns
that into the figures, ``as_dict`` into the documented JSON.
"""

from hrviz.core.insights.report import Insights, backfill, from_store, insights
from hrviz.core.insights.summary import Summary, SummaryBuilder, resting_bpm, summarize
from hrviz.core.insights.zones import Profile, profile

__all__ = [
    "Insights",
    "Profile",
    "Summary",
    "SummaryBuilder",
    "backfill",
    "from_store",
    "insights",
    "profile",
    "resting_bpm",
    "summarize",
]
