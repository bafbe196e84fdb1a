"""Tenant isolation lives here and nowhere else (DESIGN.md decision 2)."""
