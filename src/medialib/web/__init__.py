"""The web view at `/ui`: jobs, library and entries in a browser (Jinja2, vendored htmx)."""
