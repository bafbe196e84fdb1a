"""Admins' exports: whole-tenant CSV files (tasks, volunteers, metrics) made by a job."""
