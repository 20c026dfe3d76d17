"""Pieces shared by every feature: the database base, errors, logging, pagination."""
