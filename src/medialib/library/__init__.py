"""The library: entries, projects and their media types, metadata rules, assets, patches, and the
rows that hold them."""
