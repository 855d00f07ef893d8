"""Everything that writes or patches the parts of an .xlsx package: cell references and XML
text (:mod:`.cells`), the in-memory package writer (:mod:`.package`), the hand-written row
splice (:mod:`.rows`), formulas with their cached results (:mod:`.cached_formula`), Excel's
limits (:mod:`.limits`) and the atomic write (:mod:`.files`).

Nothing here imports the pipeline (generate, collect, master, ...): the writers get plain
values and openpyxl workbooks.
"""
