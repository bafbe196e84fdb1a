"""Tenant configuration as code: roles, checks and categories from tenants/*.yaml."""
