"""Ratings: file formats (pure parsers), the batched importer and the bundled demo data."""
