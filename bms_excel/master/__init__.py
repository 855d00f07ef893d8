"""The county master workbook: consolidation run and database (:mod:`.run`), what the
master shows (:mod:`.data`), cell helpers (:mod:`.cells`), the sheets (:mod:`.overview`,
:mod:`.scorecard`, :mod:`.lists`) and the atomic save (:mod:`.save`).

The entry point of ``bms consolidate`` and the Konsolider button is
:func:`consolidate_project`.
"""

from bms_excel.master.run import ConsolidationResult, consolidate_project

__all__ = ["ConsolidationResult", "consolidate_project"]
