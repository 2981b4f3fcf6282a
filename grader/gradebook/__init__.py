"""Gradebook: course rules (configuration), the pure score computation, and the repositories over the database
(`repository.Gradebook` composes them on one session)."""
