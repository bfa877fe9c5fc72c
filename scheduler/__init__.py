"""scheduler layer of the petitions service."""
