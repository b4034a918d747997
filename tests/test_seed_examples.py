"""The user's tutorial (shared/reference/keras-api-notes-zh.md), with `tf` swapped for NumPy.

Each example runs as written there against `import modelcli as keras`; the expected
values are what real Keras gives (two of the tutorial's printed comments are
typos: MaxPooling2D on the 3x3 grid gives [[5, 6], [8, 9]], AveragePooling2D on the
3x4 grid gives [[3.5, 5.5]]).
"""
import numpy as np

import modelcli as keras


def test_dense_output_shape():
    model = keras.models.Sequential()
    model.add(keras.Input(shape=(16,)))
    model.add(keras.layers.Dense(32, activation="relu"))
    model.add(keras.layers.Dense(32))
    assert model.output_shape == (None, 32)


def test_conv1d_shape():
    x = np.random.normal(size=(4, 10, 128)).astype("float32")
    y = keras.layers.Conv1D(32, 3, activation="relu", input_shape=(10, 128))(x)
    assert tuple(y.shape) == (4, 8, 32)


def test_conv2d_shapes_valid_and_same():
    x = np.random.normal(size=(4, 28, 28, 3)).astype("float32")
    assert tuple(keras.layers.Conv2D(2, 3, activation="relu")(x).shape) == (4, 26, 26, 2)
    assert tuple(keras.layers.Conv2D(2, 3, activation="relu", padding="same")(x).shape) == (4, 28, 28, 2)


def test_channels_first_conv_then_flatten():
    model = keras.models.Sequential()
    model.add(keras.layers.Conv2D(64, (3, 3), input_shape=(3, 32, 32), padding="same",
                                  data_format="channels_first"))
    assert model.output_shape == (None, 64, 32, 32)
    model.add(keras.layers.Flatten())
    assert model.output_shape == (None, 65536)


def test_reshape_output_shape():
    model = keras.Sequential()
    model.add(keras.layers.Reshape((3, 4), input_shape=(12,)))
    assert model.output_shape == (None, 3, 4)


def test_embedding_predict_shape():
    model = keras.Sequential()
    model.add(keras.layers.Embedding(1000, 64, input_length=10))
    input_array = np.random.randint(1000, size=(32, 10))
    assert model.predict(input_array).shape == (32, 10, 64)
    assert model.output_shape == (None, 10, 64)


def series():
    return np.array([1.0, 2.0, 3.0, 4.0, 5.0], "float32").reshape(1, 5, 1)


def test_max_pooling_1d_valid_and_same():
    valid = keras.layers.MaxPooling1D(pool_size=2, strides=1, padding="valid")(series())
    np.testing.assert_array_equal(valid.cpu().numpy().ravel(), [2, 3, 4, 5])
    same = keras.layers.MaxPooling1D(pool_size=2, strides=1, padding="same")(series())
    np.testing.assert_array_equal(same.cpu().numpy().ravel(), [2, 3, 4, 5, 5])


def test_max_pooling_2d():
    x = np.arange(1.0, 10.0, dtype="float32").reshape(1, 3, 3, 1)
    y = keras.layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="valid")(x)
    assert tuple(y.shape) == (1, 2, 2, 1)
    np.testing.assert_array_equal(y.cpu().numpy()[0, :, :, 0], [[5, 6], [8, 9]])


def test_average_pooling_1d_and_2d():
    y = keras.layers.AveragePooling1D(pool_size=2, strides=1, padding="valid")(series())
    np.testing.assert_allclose(y.cpu().numpy().ravel(), [1.5, 2.5, 3.5, 4.5])
    same = keras.layers.AveragePooling1D(3, 1, "same")(series())
    np.testing.assert_allclose(same.cpu().numpy().ravel(), [1.5, 2, 3, 4, 4.5])
    grid = np.arange(1.0, 13.0, dtype="float32").reshape(1, 3, 4, 1)
    y2 = keras.layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2), padding="valid")(grid)
    assert tuple(y2.shape) == (1, 1, 2, 1)
    np.testing.assert_allclose(y2.cpu().numpy().ravel(), [3.5, 5.5])


def test_gru_shapes_with_return_state():
    inputs = np.random.normal(size=(32, 10, 8)).astype("float32")
    assert tuple(keras.layers.GRU(4)(inputs).shape) == (32, 4)
    whole_sequence_output, final_state = keras.layers.GRU(4, return_sequences=True, return_state=True)(inputs)
    assert tuple(whole_sequence_output.shape) == (32, 10, 4)
    assert tuple(final_state.shape) == (32, 4)


def test_the_sequential_classifier_builds_and_predicts():
    model = keras.Sequential()
    model.add(keras.layers.Dense(64, input_dim=20, activation="relu"))
    model.add(keras.layers.Dropout(0.5))
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dropout(0.5))
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    x_test = np.random.random((100, 20))
    result = model.predict(x_test)
    assert result.shape == (100, 1) and ((result > 0) & (result < 1)).all()
    assert model.count_params() == 20 * 64 + 64 + 64 * 64 + 64 + 64 + 1


def test_the_two_input_two_output_model():
    np.random.seed(0)
    headline_data = np.round(np.abs(np.random.rand(12, 100) * 100))
    additional_data = np.random.randn(12, 5)
    main_input = keras.Input(shape=(100,), dtype="int32", name="main_input")
    embedding_out = keras.layers.Embedding(output_dim=512, input_dim=10000, input_length=100)(main_input)
    lstm_out = keras.layers.LSTM(32)(embedding_out)
    aux_output = keras.layers.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    aux_input = keras.Input(shape=(5,), name="aux_input")
    merge_out = keras.layers.concatenate([lstm_out, aux_input])
    dense1 = keras.layers.Dense(64, activation="relu")(merge_out)
    dense2 = keras.layers.Dense(64, activation="relu")(dense1)
    dense3 = keras.layers.Dense(64, activation="relu")(dense2)
    main_output = keras.layers.Dense(1, activation="sigmoid", name="main_output")(dense3)
    model = keras.Model(inputs=[main_input, aux_input], outputs=[main_output, aux_output])
    main, aux = model.predict([headline_data, additional_data])
    assert main.shape == (12, 1) and aux.shape == (12, 1)
    by_name = model.predict({"main_input": headline_data, "aux_input": additional_data})
    np.testing.assert_allclose(by_name[0], main, rtol=1e-6)
    assert model.output_names == ["main_output", "aux_output"]
    assert [type(layer).__name__ for layer in model.layers][:3] == ["InputLayer", "Embedding", "LSTM"]
