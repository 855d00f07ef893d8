"""bms_excel: balanced scorecard (balansert målstyring) workbooks in Excel."""

__version__ = "0.1.0"
