"""Logging for every process: channels, JSON lines, redaction, a ring buffer for the console."""
