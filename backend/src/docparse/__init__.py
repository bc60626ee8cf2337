"""docparse: a self-hosted document parsing service."""
