"""Renditions: imgix's URL parameters read into a spec, its geometry planned, libvips making it."""
