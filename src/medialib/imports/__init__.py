"""Asynchronous image and file imports from URLs: requests, jobs, the item pipeline."""
