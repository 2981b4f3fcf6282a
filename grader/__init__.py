"""grader: autograder and gradebook for the Workshop on applied language and generative models."""

__version__ = "0.1.0"
