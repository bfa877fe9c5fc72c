"""domain layer of the petitions service."""
