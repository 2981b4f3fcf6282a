"""Fit the feature centroids on shapes seed 0, report per-slot and exact-caption accuracy on seed 1.

    python train_captioner.py [--train-size 4000] [--validation-size 2000]
"""

from __future__ import annotations

import argparse

import numpy as np

from captioner import SLOT_VALUES, WEIGHTS_FILE, Captioner, features, fit, save_parameters, slot_value
from shapes import make_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-size", type=int, default=4000)
    parser.add_argument("--validation-size", type=int, default=2000)
    args = parser.parse_args()
    parameters = fit(*make_dataset(args.train_size, seed=0))
    save_parameters(parameters)
    print(f"wrote {WEIGHTS_FILE}")
    captioner = Captioner(parameters)
    images, scenes = make_dataset(args.validation_size, seed=1)
    captions = [captioner.caption(image) for image in images]
    print(f"exact captions on seed 1: {np.mean([c == s.caption() for c, s in zip(captions, scenes)]):.4f}")
    for slot in SLOT_VALUES:
        right = [captioner.predict_slot(slot, features(image).of(slot)) == slot_value(scene, slot)
                 for image, scene in zip(images, scenes)]
        print(f"  {slot}: {np.mean(right):.4f}")


if __name__ == "__main__":
    main()
