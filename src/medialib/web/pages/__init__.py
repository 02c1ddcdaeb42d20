"""One module per page group of the web view."""
