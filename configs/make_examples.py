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


if __name__ == "__main__":
    import json
    for build in (seed_mlp, seed_two_io):
        model = build()
        spec = json.loads(model.to_json())
        with open(os.path.join(HERE, f"{build.__name__}.json"), "w") as f:
            json.dump(spec, f, indent=1)
        with open(os.path.join(HERE, f"{build.__name__}.yaml"), "w") as f:
            yaml.safe_dump(spec, f, sort_keys=False)
