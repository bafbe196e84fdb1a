"""Reporting: metrics computed from the data, the NHS evaluation's Table 2, success
criteria evaluated into a history, and the dashboard."""
