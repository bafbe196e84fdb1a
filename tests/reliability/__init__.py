"""Reliability tests that need real services (Redis): see docs/architecture.md."""
