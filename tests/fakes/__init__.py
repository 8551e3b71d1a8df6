"""Local stand-ins for outside services, so tests run the real client libraries offline."""
