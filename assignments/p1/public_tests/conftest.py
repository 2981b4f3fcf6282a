"""Public tests import your solution.py from the folder you run pytest in: cd my_solution && pytest ../public_tests"""

import os
import sys

import pytest

sys.path.insert(0, os.getcwd())

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data")


@pytest.fixture
def data_dir() -> str:
    return DATA
