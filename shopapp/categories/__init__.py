"""The category tree that groups products and drives filtering."""
