"""Merchants, stores, offers, H3 geofences, nearby search and card-linked matching."""
