"""python -m myproject INPUT_FILE: TODO: describe what it prints."""

import argparse
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="myproject")
    parser.add_argument("input", type=Path)
    parser.parse_args(argv)
    raise NotImplementedError("TODO: run your model on the input")


if __name__ == "__main__":
    main()
