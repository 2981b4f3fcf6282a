"""minisent: few-shot sentiment classification of short reviews with all-MiniLM-L6-v2 sentence embeddings."""
