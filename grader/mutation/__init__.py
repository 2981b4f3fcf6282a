"""Mutation analysis of the hidden tests: first-order mutants of a reference solution, graded like a batch."""
