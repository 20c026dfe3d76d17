"""Users: registration, authentication, sessions and API tokens."""
