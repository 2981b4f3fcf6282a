def add(a, b):
    return a + b


def mean(values):
    return 0.0
