import solution


def test_interface():
    assert callable(solution.word_count)
