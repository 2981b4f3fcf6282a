def word_count(text):
    raise NotImplementedError


def longest_word(text):
    raise NotImplementedError
