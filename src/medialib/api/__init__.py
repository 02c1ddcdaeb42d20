"""The HTTP API: the app, its routes (one module per resource), versions, authentication
dependencies, rate limits, presenters, and the one place errors become responses."""
