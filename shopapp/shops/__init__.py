"""Shops, owned by a user."""
