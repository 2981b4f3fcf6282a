"""A tiny character-level GPT, one file per idea: cleaning, tokenizer, model, training, sampling, checkpoints."""
