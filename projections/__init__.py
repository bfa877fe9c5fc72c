"""projections layer of the petitions service."""
