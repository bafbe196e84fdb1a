"""Safeguarding concerns: raised by anyone about a task or a client, read by the leads."""
