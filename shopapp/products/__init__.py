"""Products, their images and the catalog."""
