"""Expenses: volunteers' out-of-pocket costs of a task, coordinators' decisions, CSV export."""
