"""Failed contact with a client, and the coordinators' escalation queue (which also holds
the push tasks nobody took after the last wave of offers)."""
