"""Signed delivery of outbox events, end to end: the task and its retries (tasks.py), the
signed request and its POST through the fetcher port (delivery.py), the rows of deliveries and
attempts and the records shown of them (store.py). What the events are, and who receives each,
is the catalogue's (library/events.py)."""
