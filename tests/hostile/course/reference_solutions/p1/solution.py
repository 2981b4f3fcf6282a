# REFERENCE-SECRET-5e6f7a8b: the reference solution must never be readable from a submission.
def word_count(text):
    return len(text.split())


def longest_word(text):
    return max(text.split(), key=len)
