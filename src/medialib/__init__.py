"""medialib: a media library service with a bulk import API."""

__version__ = "0.1.0"
