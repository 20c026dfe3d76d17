"""The catalog's read side: what customers browse and search (views.py), the filter form (forms.py), the query
compiler (query.py) and full-text search, one module per database (search/). Products own their writes and
rules (products/services.py); the catalog only reads them."""
