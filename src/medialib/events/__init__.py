"""Signed delivery of outbox events (db/outbox.py): a finished job's webhook is one kind."""
