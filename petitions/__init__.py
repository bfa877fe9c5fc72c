"""petitions layer of the petitions service."""
