"""The show catalogue: IMDb ingestion, title normalisation, matching and search."""
