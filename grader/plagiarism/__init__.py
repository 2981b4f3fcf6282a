"""Plagiarism detection over folders of submissions: token fingerprints + code-unit embeddings, starter-aware."""
