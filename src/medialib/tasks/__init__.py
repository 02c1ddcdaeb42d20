"""Background work: tasks defined once, deferred in the transaction that writes their rows, and
run by whichever runner the deployment uses (local, or procrastinate on PostgreSQL)."""
