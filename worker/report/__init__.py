"""`python -m worker report`: what the worker achieved in a period, for the people who run it."""

from worker.report.outcomes import Outcome, Row, rows_of
from worker.report.page import Period, summary_lines, write_report

__all__ = ["Outcome", "Period", "Row", "rows_of", "summary_lines", "write_report"]
