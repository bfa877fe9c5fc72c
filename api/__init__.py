"""api layer of the petitions service."""
