"""Gradebook: course rules (configuration), the pure score computation, and the repository over the database."""
