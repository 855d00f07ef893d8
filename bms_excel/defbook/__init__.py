"""The scorecard definition as a workbook (issue 18): ``bms definition export`` and ``import``.

:mod:`~bms_excel.defbook.layout` holds the sheets and columns both directions share;
:mod:`~bms_excel.defbook.export` writes the workbook (openpyxl), :mod:`~bms_excel.defbook.importer`
reads it back defensively with every problem at ``'sheet'!cell``, and
:mod:`~bms_excel.defbook.shape` turns a definition into the YAML it came from.
"""
