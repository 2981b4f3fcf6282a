"""Batch grading for instructors: one submission per student from a folder or an LMS export zip."""
