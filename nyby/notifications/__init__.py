"""Telling people what happened: the in-app inbox (push channels come with dispatch)."""
