"""Feedback on a completed task from both sides, coordinators' thanks, a task's timeline."""
