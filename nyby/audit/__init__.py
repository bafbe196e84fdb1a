"""The audit trail: who changed or read what, when, and from which request or job.

``trail.py`` is the one mechanism (session hooks over every model that says
``__audited__ = True``, plus ``record_read`` where a client is resolved); the rest is
the admins' view of it.
"""
