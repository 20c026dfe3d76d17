"""Product images: a hostile-input-safe pipeline, storage under names never reused, fast serving."""
