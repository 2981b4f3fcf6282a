"""TODO: your project."""
