"""Writes the datasets in this folder (run once; outputs committed, same bytes on every run).

    pip install scikit-learn    # only for digits.npz
    python configs/data/make_data.py

- ``digits.npz``: the UCI handwritten digits (8x8 images, 1797 samples) as scikit-learn ships
  them; pixels scaled from 0..16 to [0, 1]; a seeded 70/10/20 split into train / val / test.
  ``x_*`` are flat rows (N, 64), ``images_*`` the same pixels as (N, 8, 8, 1), ``y_*`` the digit.
- ``text.npz`` + ``text_vocab.txt``: short movie-review-like sentences GENERATED here from a small
  vocabulary (no real text corpus ships with the repo). The label is the sentence's sentiment:
  each positive word counts +1, each negative word -1, and "not" flips the word after it, so a
  model has to read word order, not just count words. Tokens are padded with 0 to 16.
- ``seed_mlp.npz``: 20 random features, label 1 when a fixed random projection is positive
  (the seed's Sequential classifier, Keras's own example uses random numbers too).
- ``seed_two_io.npz``: the seed's two-input / two-output model: ``main_input`` (100 token ids),
  ``aux_input`` (5 features) and the targets ``main_output`` / ``aux_output``, keyed by name.
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def _save(name, **arrays):
    np.savez_compressed(os.path.join(HERE, name), **arrays)


def _splits(n, rng, fractions=(0.7, 0.1)):
    order = rng.permutation(n)
    a, b = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    return {"train": order[:a], "val": order[a:b], "test": order[b:]}


def digits():
    from sklearn.datasets import load_digits
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    arrays = {}
    for split, index in _splits(len(x), np.random.default_rng(0)).items():
        arrays[f"x_{split}"] = x[index]
        arrays[f"images_{split}"] = x[index].reshape(-1, 8, 8, 1)
        arrays[f"y_{split}"] = y[index]
    _save("digits.npz", **arrays)


POSITIVE = ["good", "great", "fun", "moving", "clever", "beautiful", "funny", "brilliant"]
NEGATIVE = ["bad", "dull", "boring", "awful", "silly", "slow", "weak", "messy"]
SUBJECTS = ["the movie", "the plot", "the acting", "the music", "the ending", "the cast", "the script"]
FILLER = ["was", "felt", "seemed", "and", "but", "really", "quite", "very", "also", "overall"]
LENGTH = 16


def _sentence(rng):
    words, score = [], 0
    for _ in range(rng.integers(1, 4)):
        words += rng.choice(SUBJECTS).split() + [rng.choice(FILLER)]
        negated = rng.random() < 0.3
        if negated:
            words.append("not")
        positive = rng.random() < 0.5
        words.append(rng.choice(POSITIVE if positive else NEGATIVE))
        score += (1 if positive else -1) * (-1 if negated else 1)
    return words[:LENGTH], score


def text(n=3000):
    vocab = ["<pad>", "not"] + sorted({w for s in SUBJECTS for w in s.split()} | set(FILLER)) + POSITIVE + NEGATIVE
    index = {w: i for i, w in enumerate(vocab)}
    rng = np.random.default_rng(1)
    tokens = np.zeros((n, LENGTH), "int32")
    labels = np.zeros((n, 1), "float32")
    kept = 0
    while kept < n:
        words, score = _sentence(rng)
        if score == 0:  # no sentiment either way: leave it out
            continue
        tokens[kept, :len(words)] = [index[w] for w in words]
        labels[kept, 0] = score > 0
        kept += 1
    arrays = {}
    for split, rows in _splits(n, rng).items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = tokens[rows], labels[rows]
    _save("text.npz", **arrays)
    with open(os.path.join(HERE, "text_vocab.txt"), "w") as f:
        f.write("\n".join(vocab) + "\n")


def seed_mlp(n=768):
    rng = np.random.default_rng(2)
    x = rng.random((n, 20), dtype="float32")
    w = rng.standard_normal(20).astype("float32")
    y = ((x - 0.5) @ w > 0).astype("float32")[:, None]
    arrays = {}
    for split, rows in _splits(n, rng).items():
        arrays[f"x_{split}"], arrays[f"y_{split}"] = x[rows], y[rows]
    _save("seed_mlp.npz", **arrays)


def seed_two_io(n=384):
    rng = np.random.default_rng(3)
    tokens = rng.integers(1, 1000, (n, 100)).astype("int32")
    aux = rng.random((n, 5), dtype="float32")
    aux_target = (tokens < 500).mean(1, keepdims=True) > 0.5  # from the tokens, through the LSTM
    main_target = aux[:, :2].sum(1, keepdims=True) > 1  # from aux_input, through the Dense stack
    for split, rows in _splits(n, rng).items():
        _save(f"seed_two_io_{split}.npz", main_input=tokens[rows], aux_input=aux[rows],
              main_output=main_target[rows].astype("float32"), aux_output=aux_target[rows].astype("float32"))


if __name__ == "__main__":
    digits()
    text()
    seed_mlp()
    seed_two_io()
