"""``modelcli.utils.set_random_seed``: the same seed, the same run, bit for bit (on the CPU)."""
import random

import numpy as np
import pytest
import torch

import modelcli as keras


def seeded_run(seed, shuffle=True):
    """Build, initialize and train a model with dropout, every random draw after ``set_random_seed``."""
    keras.utils.set_random_seed(seed)
    x = np.random.normal(size=(64, 6)).astype("float32")
    y = np.random.randint(0, 2, (64, 1))
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=shuffle, validation_split=0.25, verbose=0)
    return history.history, model.get_weights()


@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_the_same_seed_gives_bit_identical_weights_and_history(shuffle):
    first_history, first_weights = seeded_run(42, shuffle)
    second_history, second_weights = seeded_run(42, shuffle)
    assert first_history == second_history
    for a, b in zip(first_weights, second_weights):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_another_run():
    assert seeded_run(1)[0] != seeded_run(2)[0]


def test_set_random_seed_seeds_python_numpy_and_torch():
    keras.utils.set_random_seed(7)
    first = (random.random(), np.random.rand(), torch.rand(()).item())
    keras.utils.set_random_seed(7)
    assert (random.random(), np.random.rand(), torch.rand(()).item()) == first


def test_set_random_seed_wants_an_integer():
    with pytest.raises(ValueError, match="Expected `seed` argument to be an integer"):
        keras.utils.set_random_seed(1.5)


def test_sequence_batch_order_is_reproducible_under_a_seed():
    class Batches(keras.utils.Sequence):
        def __init__(self):
            super().__init__(workers=0)
            self.order = []

        def __len__(self):
            return 6

        def __getitem__(self, index):
            self.order.append(index)
            return np.full((2, 1), index, "float32"), np.zeros((2, 1), "float32")

    orders = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
        model.compile("sgd", "mse")
        data = Batches()
        model.fit(data, epochs=2, shuffle=True, verbose=0)
        orders.append(data.order)
    assert orders[0] == orders[1] and orders[0][:6] != list(range(6))
