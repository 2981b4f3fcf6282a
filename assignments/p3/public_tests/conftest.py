"""Public tests of project 3: run them from the folder that holds your solution.py (`pytest path/to/public_tests`)."""

import os
import sys

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the default model ships in a pip package: no download needed
if os.getcwd() not in sys.path:
    sys.path.insert(0, os.getcwd())  # plain `pytest` does not put the current folder on sys.path


@pytest.fixture(scope="session")
def solution():
    import solution as module

    return module


@pytest.fixture(scope="session")
def embedder(solution):
    return solution.Embedder(device="auto")


@pytest.fixture(scope="session")
def documents() -> dict[str, str]:
    return {
        "bread.txt": (
            "Sourdough bread rises because of a culture of wild yeast and lactic acid bacteria called a starter.\n\n"
            "Feed the starter with equal weights of flour and water every day, and keep it at room temperature.\n"
            "A loaf needs about four hours of bulk fermentation before shaping.\n\n"
            "Bake the loaf in a preheated Dutch oven at 250 degrees Celsius for twenty minutes with the lid on."
        ),
        "bikes.txt": (
            "A bicycle chain should be cleaned and lubricated every few hundred kilometres.\n"
            "Tyre pressure for a road bike is usually between six and eight bar.\n\n"
            "To fix a puncture, remove the inner tube, find the hole by pumping air and listening for the leak, "
            "then roughen the area and apply a patch with rubber cement."
        ),
        "orbits.txt": (
            "The Moon orbits the Earth once every 27.3 days, which is called the sidereal month.\n"
            "Because the Earth moves around the Sun meanwhile, the cycle of lunar phases takes 29.5 days.\n\n"
            "A geostationary satellite orbits at about 35,786 kilometres above the equator, so it stays above "
            "the same point on the ground."
        ),
    }


@pytest.fixture(scope="session")
def system(solution, embedder, documents):
    rag = solution.RagSystem(embedder)
    rag.ingest(documents)
    return rag
