"""Recruitment campaigns: a landing page and link each, aimed at the people a tenant
lacks, and the funnel from visit to a volunteer still active after 90 days."""
