"""Grading queues: how job ids reach a worker. The job itself is `grader.queue.jobs.execute_job`."""
