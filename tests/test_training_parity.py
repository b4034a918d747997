"""Training parity with real Keras 3: same initial weights, same data, no shuffling.

For an MLP, a CNN and an LSTM model, each with SGD(momentum), RMSprop and Adam and
the matching loss, two epochs of ``fit`` in Keras 3 and in modelcli must give the same
History (every epoch's loss and metrics, and validation values) within 1e-4 relative,
and the same final weights within 1e-4.
"""

import numpy as np
import pytest

from keras_reference import keras
from modelcli.models import model_from_json

RNG = np.random.default_rng(7)


def mlp():
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(3, activation="softmax")])
    x = RNG.normal(size=(96, 12)).astype("float32")
    y = keras.utils.to_categorical(RNG.integers(0, 3, 96), 3).astype("float32")
    return model, x, y, "categorical_crossentropy", ["accuracy"]


def cnn():
    model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, activation="relu", padding="same"),
                              keras.layers.MaxPooling2D(), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(5, activation="softmax")])
    x = RNG.normal(size=(64, 8, 8, 1)).astype("float32")
    y = RNG.integers(0, 5, (64,)).astype("int64")
    return model, x, y, "sparse_categorical_crossentropy", ["accuracy"]


def lstm():
    inputs = keras.Input((6,), dtype="int32")
    x = keras.layers.Embedding(20, 4, mask_zero=True)(inputs)
    x = keras.layers.LSTM(5)(x)
    outputs = keras.layers.Dense(1)(x)
    model = keras.Model(inputs, outputs)
    tokens = RNG.integers(1, 20, (64, 6))
    tokens[::3, 4:] = 0  # right padding, masked
    y = RNG.normal(size=(64, 1)).astype("float32")
    return model, tokens.astype("int32"), y, "mse", ["mae"]


OPTIMIZERS = {
    "sgd_momentum": lambda: {"class_name": "SGD", "config": {"learning_rate": 0.05, "momentum": 0.9}},
    "rmsprop": lambda: {"class_name": "RMSprop", "config": {"learning_rate": 0.01}},
    "adam": lambda: {"class_name": "Adam", "config": {"learning_rate": 0.01}},
}


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("build", [mlp, cnn, lstm], ids=lambda f: f.__name__)
def test_two_epochs_match_keras(build, optimizer):
    kmodel, x, y, loss, metrics = build()
    start = kmodel.get_weights()
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(start)
    kmodel.compile(optimizer=keras.optimizers.deserialize(OPTIMIZERS[optimizer]()), loss=loss, metrics=metrics)
    ours.compile(optimizer=OPTIMIZERS[optimizer](), loss=loss, metrics=metrics)
    fit = dict(epochs=2, batch_size=16, shuffle=False, validation_split=0.25, verbose=0)
    expected = kmodel.fit(x, y, **fit).history
    got = ours.fit(x, y, **fit).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-6, err_msg=key)
    for mine, theirs in zip(ours.get_weights(), kmodel.get_weights()):
        np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-4, atol=1e-5)


def test_seed_two_output_model_trains_like_keras():
    main_input = keras.Input(shape=(10,), dtype="int32", name="main_input")
    x = keras.layers.Embedding(output_dim=8, input_dim=50)(main_input)
    lstm_out = keras.layers.LSTM(4)(x)
    aux_output = keras.layers.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    aux_input = keras.Input(shape=(5,), name="aux_input")
    x = keras.layers.concatenate([lstm_out, aux_input])
    x = keras.layers.Dense(8, activation="relu")(x)
    main_output = keras.layers.Dense(1, activation="sigmoid", name="main_output")(x)
    kmodel = keras.Model([main_input, aux_input], [main_output, aux_output])
    ours = model_from_json(kmodel.to_json())
    ours.set_weights(kmodel.get_weights())
    data = [RNG.integers(0, 50, (40, 10)).astype("int32"), RNG.normal(size=(40, 5)).astype("float32")]
    targets = {"main_output": RNG.integers(0, 2, (40, 1)).astype("float32"),
               "aux_output": RNG.integers(0, 2, (40, 1)).astype("float32")}
    compile_args = dict(optimizer="rmsprop", loss=["binary_crossentropy", "binary_crossentropy"],
                        loss_weights=[1.0, 0.2],
                        metrics={"main_output": ["accuracy"]})
    kmodel.compile(**compile_args)
    ours.compile(**compile_args)
    expected = kmodel.fit(data, targets, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    got = ours.fit(data, targets, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(ours.evaluate(data, targets, verbose=0),
                               kmodel.evaluate(data, targets, verbose=0), rtol=1e-4)


