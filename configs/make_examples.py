"""Writes the example model specs in this folder with real Keras 3 (run once; outputs committed).

    KERAS_BACKEND=torch python configs/make_examples.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import yaml  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def seed_mlp():
    return keras.Sequential([keras.Input((20,)), layers.Dense(64, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(64, activation="relu"), layers.Dropout(0.5),
                             layers.Dense(1, activation="sigmoid")], name="seed_mlp")


def seed_two_io():
    main_input = keras.Input(shape=(100,), dtype="int32", name="main_input")
    x = layers.Embedding(output_dim=512, input_dim=10000)(main_input)
    lstm_out = layers.LSTM(32)(x)
    aux_output = layers.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    aux_input = keras.Input(shape=(5,), name="aux_input")
    x = layers.concatenate([lstm_out, aux_input])
    for _ in range(3):
        x = layers.Dense(64, activation="relu")(x)
    main_output = layers.Dense(1, activation="sigmoid", name="main_output")(x)
    return keras.Model([main_input, aux_input], [main_output, aux_output], name="seed_two_io")


def digits_cnn():
    """A small CNN for the 8x8 digit images in data/digits.npz."""
    keras.utils.clear_session()  # layer names count from 0 in this file
    return keras.Sequential([keras.Input((8, 8, 1), name="image"),
                             layers.Conv2D(16, 3, padding="same", activation="relu"),
                             layers.MaxPooling2D(2),
                             layers.Conv2D(32, 3, padding="same", activation="relu"),
                             layers.GlobalAveragePooling2D(),
                             layers.Dense(10, activation="softmax", name="digit")], name="digits_cnn")


def text_lstm():
    """An LSTM sentiment classifier for the token ids in data/text.npz (36 words, 0 pads)."""
    keras.utils.clear_session()
    return keras.Sequential([keras.Input((16,), dtype="int32", name="tokens"),
                             layers.Embedding(36, 16, mask_zero=True),
                             layers.LSTM(32),
                             layers.Dense(1, activation="sigmoid", name="sentiment")], name="text_lstm")


if __name__ == "__main__":
    import json
    for build in (seed_mlp, seed_two_io, digits_cnn, text_lstm):
        model = build()
        spec = json.loads(model.to_json())
        with open(os.path.join(HERE, f"{build.__name__}.json"), "w") as f:
            json.dump(spec, f, indent=1)
        with open(os.path.join(HERE, f"{build.__name__}.yaml"), "w") as f:
            yaml.safe_dump(spec, f, sort_keys=False)
