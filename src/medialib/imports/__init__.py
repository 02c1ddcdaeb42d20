"""Asynchronous imports from URLs: import kinds, requests, jobs, the item pipeline and its
tasks."""
