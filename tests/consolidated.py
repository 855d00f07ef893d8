"""All of a period's consolidation frames in one call, on plain value records (a test helper:
the tool itself consolidates from the history, :func:`bms_excel.master.run.consolidate_period`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from bms_excel.consolidate import (
    aggregate_county,
    build_long_table,
    excluded_values,
    previous_period,
    rollup_scores,
    trend,
)
from bms_excel.model import Definition
from bms_excel.records import ValueRecord


@dataclass(frozen=True)
class Consolidation:
    """Everything consolidation computes for one period, ready for the master and exports."""

    period: str
    long: pd.DataFrame
    county: pd.DataFrame
    rollups: pd.DataFrame
    trends: pd.DataFrame
    excluded: pd.DataFrame


def consolidate_values(
    definition: Definition,
    values: Iterable[ValueRecord],
    period: str,
    previous_values: Iterable[ValueRecord] = (),
) -> Consolidation:
    """Long table, county values, roll-ups, trends and exclusions of ``period`` in one call.

    ``previous_values`` are the accepted values of :func:`previous_period` (from the history).
    """
    long = build_long_table(definition, values, period)
    county = aggregate_county(definition, long, period)
    before = previous_period(definition, period)
    previous = build_long_table(definition, previous_values if before else (), before or period)
    return Consolidation(
        period,
        long,
        county,
        rollup_scores(definition, long, county),
        trend(definition, long, previous if before else previous.iloc[0:0]),
        excluded_values(long),
    )
