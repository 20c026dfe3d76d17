"""Product images: a hostile-input-safe pipeline, content-addressed storage, fast serving."""
