"""The gradebook's tables. Importing any of them registers them all, so relationships between modules resolve."""

from grader.db import account_models, course_models, models, plagiarism_models, request_models, worker_models  # noqa: F401
