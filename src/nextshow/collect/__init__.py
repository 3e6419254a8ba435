"""Data collection: IMDb dataset downloads and the polite user-review spider."""
