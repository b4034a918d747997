"""Real Keras 3 models for the parity suites, each with fixed float32 (or int) inputs.

Each builder is plain Keras code written against the API module it is given (``keras``,
or ``modelcli``, which serves the same API). ``build(name)`` returns ``(model, inputs)``:
a Keras model whose weights were all redrawn from a seeded normal (positive moving
variances for BatchNormalization), so that any wrong kernel layout, gate order or
transposition changes the numbers, and the inputs to predict on. Models are built once
per process and cached: tests must not modify them. Together the architectures cover
every layer in ``REQUIRED_LAYERS``.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest

keras = pytest.importorskip("keras")
BATCH = 4

ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "softmax", "log_softmax", "softplus",
               "softsign", "swish", "silu", "gelu", "hard_sigmoid", "relu6", "mish", "exponential", "linear"]

REQUIRED_LAYERS = {
    "InputLayer", "Dense", "Activation", "Dropout", "SpatialDropout1D", "SpatialDropout2D", "GaussianNoise",
    "GaussianDropout", "Flatten", "Reshape", "Permute", "RepeatVector", "Masking", "Embedding", "Conv1D",
    "Conv2D", "Conv2DTranspose", "DepthwiseConv2D", "SeparableConv2D", "MaxPooling1D", "MaxPooling2D",
    "AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D",
    "ZeroPadding2D", "Cropping1D", "Cropping2D", "SimpleRNN", "LSTM", "GRU", "Bidirectional", "TimeDistributed",
    "BatchNormalization", "LayerNormalization", "Concatenate", "Add", "Subtract", "Multiply", "Average",
    "Maximum", "Minimum", "Dot", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "MultiHeadAttention",
    "Rescaling", "RandomFlip", "RandomRotation", "GroupNormalization", "UnitNormalization", "Attention",
    "AdditiveAttention", "RMSNormalization", "GroupQueryAttention",
}


def _normal(rng, *shape):
    return rng.normal(size=shape).astype("float32")


def _tokens(rng, shape, vocab, lengths=None):
    """Token ids in [1, vocab); with ``lengths``, each row is zero-padded after its length."""
    ids = rng.integers(1, vocab, size=shape).astype("int32")
    if lengths is not None:
        for row, length in enumerate(lengths):
            ids[row, length:] = 0
    return ids


def randomize(model, seed):
    """Every weight redrawn from N(0, 0.3²); BatchNormalization variances from 0.5 + |N(0, 0.3²)|."""
    rng = np.random.default_rng(seed)
    values = []
    for variable in model.weights:
        value = rng.normal(size=tuple(variable.shape)) * 0.3
        if variable.path.endswith("moving_variance"):
            value = 0.5 + np.abs(value)
        values.append(value.astype("float32"))
    model.set_weights(values)
    return model


# ----- the user's two tutorial models -----------------------------------------------------------
def tutorial_sequential(keras, rng):
    """The Sequential MLP for binary classification from the Keras guide."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((20,)),
        L.Dense(64, activation="relu"),
        L.Dropout(0.5),
        L.Dense(64, activation="relu"),
        L.Dropout(0.5),
        L.Dense(1, activation="sigmoid"),
    ])
    return model, _normal(rng, BATCH, 20)


def tutorial_multi_io(keras, rng):
    """The functional guide's two-input, two-output model (Embedding shrunk from 10000x512 to 1000x64)."""
    L = keras.layers
    main_input = keras.Input(shape=(100,), dtype="int32", name="main_input")
    x = L.Embedding(output_dim=64, input_dim=1000)(main_input)
    lstm_out = L.LSTM(32)(x)
    auxiliary_output = L.Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = keras.Input(shape=(5,), name="aux_input")
    x = L.concatenate([lstm_out, auxiliary_input])
    x = L.Dense(64, activation="relu")(x)
    x = L.Dense(64, activation="relu")(x)
    x = L.Dense(64, activation="relu")(x)
    main_output = L.Dense(1, activation="sigmoid", name="main_output")(x)
    model = keras.Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])
    return model, [_tokens(rng, (BATCH, 100), 1000), _normal(rng, BATCH, 5)]


# ----- dense and activations --------------------------------------------------------------------
def mlp_every_activation(keras, rng):
    """One Dense branch per activation string, the activation layers, and the inference no-op noise layers."""
    L = keras.layers
    x = keras.Input((8,), name="features")
    h = L.GaussianNoise(0.3)(x)
    h = L.GaussianDropout(0.3)(h)
    branches = [L.Dense(4, activation=name, name=f"dense_{name}")(h) for name in ACTIVATIONS]
    branches += [L.Activation(name, name=f"activation_{name}")(L.Dense(3)(h)) for name in ("selu", "softsign", "gelu")]
    pre = L.Dense(6)(h)
    branches += [
        L.ReLU()(pre),
        L.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2)(pre),
        L.LeakyReLU(negative_slope=0.2)(pre),
        L.PReLU()(pre),
        L.ELU(alpha=0.7)(pre),
        L.Softmax()(pre),
    ]
    y = L.Dense(3)(L.Concatenate()(branches))
    return keras.Model(x, y), _normal(rng, BATCH, 8)


# ----- convolutional ----------------------------------------------------------------------------
def cnn_batchnorm_pooling(keras, rng):
    """channels_last CNN: same/valid padding, strides, dilation, groups, BN, pooling, dropout."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        L.Conv2D(8, 3, padding="same", activation="relu"),
        L.BatchNormalization(),
        L.MaxPooling2D(),
        L.Conv2D(8, 3, dilation_rate=2, padding="same", groups=2),
        L.BatchNormalization(center=False),
        L.Conv2D(6, (3, 2), strides=2, padding="valid", activation="tanh"),
        L.SpatialDropout2D(0.2),
        L.AveragePooling2D(2, padding="same"),
        L.Dropout(0.3),
        L.Flatten(),
        L.Dense(10, activation="softmax"),
    ])
    return model, _normal(rng, BATCH, 12, 12, 3)


def cnn_channels_first(keras, rng):
    """The same kind of CNN in channels_first, including Flatten(data_format='channels_first')."""
    L = keras.layers
    cf = "channels_first"
    x = keras.Input((3, 10, 9))
    h = L.Conv2D(6, 3, padding="same", data_format=cf, activation="relu")(x)
    h = L.BatchNormalization(axis=1)(h)
    h = L.ZeroPadding2D(((1, 0), (0, 2)), data_format=cf)(h)
    h = L.MaxPooling2D(data_format=cf)(h)
    h = L.Conv2D(4, (2, 3), strides=(1, 2), groups=2, data_format=cf)(h)
    h = L.UpSampling2D((1, 2), data_format=cf)(h)
    h = L.Cropping2D(((1, 0), (0, 1)), data_format=cf)(h)
    pooled = L.AveragePooling2D(2, padding="same", data_format=cf)(h)
    flat = L.Flatten(data_format=cf)(pooled)
    gmax = L.GlobalMaxPooling2D(data_format=cf)(h)
    gavg = L.GlobalAveragePooling2D(data_format=cf)(h)
    y = L.Dense(5)(L.Concatenate()([flat, gmax, gavg]))
    return keras.Model(x, y), _normal(rng, BATCH, 3, 10, 9)


def conv1d_text(keras, rng):
    """Token CNN: causal + dilated Conv1D, strides, groups, 1D pooling, padding, cropping, upsampling."""
    L = keras.layers
    tokens = keras.Input((16,), dtype="int32")
    h = L.Embedding(50, 8)(tokens)
    h = L.Conv1D(8, 3, padding="causal", dilation_rate=2, activation="relu")(h)
    h = L.SpatialDropout1D(0.3)(h)
    h = L.Conv1D(8, 3, padding="same", strides=2, groups=4)(h)
    h = L.ZeroPadding1D((1, 2))(h)
    h = L.MaxPooling1D(2)(h)
    h = L.UpSampling1D(3)(h)
    h = L.Cropping1D((2, 1))(h)
    h = L.Conv1D(6, 2, padding="valid", activation="elu")(h)
    h = L.AveragePooling1D(3, strides=1, padding="same")(h)
    y = L.Dense(2)(L.Concatenate()([L.GlobalMaxPooling1D()(h), L.GlobalAveragePooling1D()(h)]))
    return keras.Model(tokens, y), _tokens(rng, (BATCH, 16), 50)


def conv_transpose_depthwise_separable(keras, rng):
    """Conv2DTranspose, DepthwiseConv2D, SeparableConv2D with zero padding, cropping and upsampling."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((7, 6, 4)),
        L.ZeroPadding2D(((1, 2), (0, 1))),
        L.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu"),
        L.DepthwiseConv2D(3, depth_multiplier=2, padding="valid"),
        L.SeparableConv2D(5, 3, depth_multiplier=2, padding="same", activation="tanh"),
        L.Conv2DTranspose(4, (2, 3), strides=(1, 2), padding="valid", use_bias=False),
        L.Cropping2D(((1, 0), (2, 1))),
        L.UpSampling2D(2),
        L.MaxPooling2D(3, strides=2, padding="same"),
        L.DepthwiseConv2D((2, 2), strides=2, padding="same"),
        L.GlobalAveragePooling2D(),
        L.Dense(3),
    ])
    return model, _normal(rng, BATCH, 7, 6, 4)


# ----- recurrent and masking --------------------------------------------------------------------
def masked_bidirectional_gru(keras, rng):
    """Embedding(mask_zero) -> Bidirectional(GRU reset_after=False) -> masked GlobalAveragePooling1D."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((10,), dtype="int32"),
        L.Embedding(30, 8, mask_zero=True),
        L.Bidirectional(L.GRU(6, reset_after=False, return_sequences=True)),
        L.GlobalAveragePooling1D(),
        L.Dense(2),
    ])
    return model, _tokens(rng, (BATCH, 10), 30, lengths=[10, 7, 3, 5])


def masked_embedding_lstm_gru(keras, rng):
    """An Embedding mask reaching LSTM, GRU (reset_after=True), SimpleRNN and GlobalAveragePooling1D.

    Sequential on purpose: in a Keras 3.15 functional model the mask becomes a ``NotEqual``
    op node that Keras itself cannot deserialize (``Unknown layer: 'NotEqual'``).
    """
    L = keras.layers
    model = keras.Sequential([
        keras.Input((9,), dtype="int32"),
        L.Embedding(40, 6, mask_zero=True),
        L.LSTM(5, return_sequences=True),
        L.GRU(4, reset_after=True, return_sequences=True),
        L.SimpleRNN(4, return_sequences=True),
        L.GlobalAveragePooling1D(),
        L.Dense(3),
    ])
    return model, _tokens(rng, (BATCH, 9), 40, lengths=[9, 4, 6, 2])


def stacked_lstm_time_distributed(keras, rng):
    """Masking -> stacked LSTMs with return_sequences -> TimeDistributed(Dense) -> masked pooling."""
    L = keras.layers
    x = _normal(rng, BATCH, 7, 5)
    x[1, 4:] = 0.0
    x[2, 2] = 0.0
    x[3, 5:] = 0.0
    model = keras.Sequential([
        keras.Input((7, 5)),
        L.Masking(mask_value=0.0),
        L.LSTM(8, return_sequences=True),
        L.LSTM(6, return_sequences=True, go_backwards=True),
        L.TimeDistributed(L.Dense(3, activation="tanh")),
        L.GlobalAveragePooling1D(),
        L.Dense(2),
    ])
    return model, x


def recurrent_return_state(keras, rng):
    """GRU / SimpleRNN / LSTM / Bidirectional with return_state (and return_sequences) feeding Dense."""
    L = keras.layers
    x = keras.Input((6, 4))
    gru_out, gru_h = L.GRU(5, return_state=True, reset_after=True)(x)
    gru2_out, gru2_h = L.GRU(3, return_state=True, reset_after=False, recurrent_activation="hard_sigmoid")(x)
    rnn_seq, rnn_h = L.SimpleRNN(4, return_sequences=True, return_state=True)(x)
    lstm_out, lstm_h, lstm_c = L.LSTM(3, return_state=True)(rnn_seq)
    bi_out, *bi_states = L.Bidirectional(L.LSTM(2, return_state=True, recurrent_activation="hard_sigmoid"))(x)
    merged = [gru_out, gru_h, gru2_out, gru2_h, rnn_h, lstm_out, lstm_h, lstm_c, bi_out, *bi_states]
    seq_out = L.TimeDistributed(L.Dense(2))(rnn_seq)
    y = L.Dense(3)(L.Concatenate()(merged))
    return keras.Model(x, [y, seq_out]), _normal(rng, BATCH, 6, 4)


def bidirectional_merge_modes(keras, rng):
    """Bidirectional over LSTM / GRU / SimpleRNN with each merge mode."""
    L = keras.layers
    x = keras.Input((5, 3))
    a = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="sum")(x)
    b = L.Bidirectional(L.GRU(3), merge_mode="mul")(a)
    c = L.Bidirectional(L.SimpleRNN(3), merge_mode="ave")(x)
    d = L.Bidirectional(L.GRU(2, reset_after=False), merge_mode="concat")(x)
    y = L.Dense(2)(L.Concatenate()([b, c, d]))
    return keras.Model(x, y), _normal(rng, BATCH, 5, 3)


# ----- reshaping, merging, attention, nesting ----------------------------------------------------
def reshape_permute_repeat(keras, rng):
    """Reshape, Permute, RepeatVector and Flatten around Dense layers on 3D tensors."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((12,)),
        L.Reshape((3, 4)),
        L.Permute((2, 1)),
        L.Dense(5, activation="softplus"),
        L.Flatten(),
        L.Dense(6),
        L.RepeatVector(3),
        L.Reshape((3, 2, 3)),
        L.Permute((3, 1, 2)),
        L.Reshape((-1,)),
        L.Dense(2),
    ])
    return model, _normal(rng, BATCH, 12)


def merge_zoo_shared(keras, rng):
    """Every merge layer; one Dense shared by two inputs; Dot with normalize and on 3D axes."""
    L = keras.layers
    a = keras.Input((6,), name="left")
    b = keras.Input((6,), name="right")
    shared = L.Dense(5, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    merged = [
        L.Add()([sa, sb]),
        L.Subtract()([sa, sb]),
        L.Multiply()([sa, sb]),
        L.Average()([sa, sb]),
        L.Maximum()([sa, sb]),
        L.Minimum()([sa, sb]),
        L.Dot(axes=1)([sa, sb]),
        L.Dot(axes=1, normalize=True)([sa, sb]),
        L.Concatenate(axis=-1)([sa, sb]),
    ]
    sa3 = L.Reshape((5, 1))(sa)
    sb3 = L.Reshape((1, 5))(sb)
    outer = L.Dot(axes=(2, 1))([sa3, sb3])
    merged.append(L.Flatten()(outer))
    y = L.Dense(2)(L.Concatenate()(merged))
    return keras.Model([a, b], y), [_normal(rng, BATCH, 6), _normal(rng, BATCH, 6)]


def transformer_block(keras, rng):
    """MultiHeadAttention + residual Add + LayerNormalization + feed-forward, twice (self and cross)."""
    L = keras.layers
    x = keras.Input((6, 8), name="tokens")
    context = keras.Input((4, 5), name="context")
    att = L.MultiHeadAttention(num_heads=2, key_dim=4)(x, x)
    h = L.LayerNormalization()(L.Add()([x, L.Dropout(0.1)(att)]))
    ff = L.Dense(8)(L.Dense(16, activation="gelu")(h))
    h = L.LayerNormalization(epsilon=1e-5)(L.Add()([h, ff]))
    cross = L.MultiHeadAttention(num_heads=3, key_dim=2, value_dim=3, output_shape=7, use_bias=False)(h, context)
    y = L.Dense(3, activation="softmax")(L.GlobalAveragePooling1D()(cross))
    return keras.Model([x, context], y), [_normal(rng, BATCH, 6, 8), _normal(rng, BATCH, 4, 5)]


def grouped_query_decoder_block(keras, rng):
    """Causal GroupQueryAttention (two query heads per key/value head) + residual Add + LayerNormalization,
    then a gated multi-query layer over a sliding window, feeding Dense."""
    L = keras.layers
    x = keras.Input((6, 8), name="tokens")
    att = L.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(x, x, use_causal_mask=True)
    h = L.LayerNormalization()(L.Add()([x, att]))
    local = L.GroupQueryAttention(head_dim=3, num_query_heads=2, num_key_value_heads=1, use_gate=True,
                                  sliding_window=3)(h, h)
    y = L.Dense(3)(L.Add()([h, local]))
    return keras.Model(x, y), _normal(rng, BATCH, 6, 8)


def nested_sequential_in_functional(keras, rng):
    """A Sequential used as a layer, shared by two inputs of a functional model."""
    L = keras.layers
    inner = keras.Sequential([keras.Input((4,)), L.Dense(6, activation="relu"), L.BatchNormalization(),
                              L.Dense(3)], name="inner_mlp")
    a = keras.Input((4,))
    b = keras.Input((4,))
    y = L.Dense(2)(L.Add()([inner(a), inner(b)]))
    return keras.Model([a, b], y), [_normal(rng, BATCH, 4), _normal(rng, BATCH, 4)]


def functional_in_sequential(keras, rng):
    """A functional model with a skip connection used as a layer of a Sequential."""
    L = keras.layers
    x = keras.Input((5,))
    h = L.Dense(4, activation="selu")(x)
    inner = keras.Model(x, L.Concatenate()([h, x]), name="inner_skip")
    model = keras.Sequential([keras.Input((5,)), L.Dense(5), inner, L.LayerNormalization(), L.Dense(2)])
    return model, _normal(rng, BATCH, 5)


def multi_io_named(keras, rng):
    """Three named inputs (an image, a sequence and a vector) and three named outputs."""
    L = keras.layers
    image = keras.Input((8, 8, 2), name="image")
    sequence = keras.Input((5, 3), name="sequence")
    vector = keras.Input((4,), name="vector")
    i = L.GlobalMaxPooling2D()(L.Conv2D(4, 3, activation="relu")(image))
    s = L.SimpleRNN(4)(sequence)
    v = L.Dense(4, activation="relu")(vector)
    joint = L.Concatenate()([i, s, v])
    outputs = [
        L.Dense(3, activation="softmax", name="label")(joint),
        L.Dense(1, name="score")(joint),
        L.Dense(2, activation="sigmoid", name="flags")(L.Multiply()([i, v])),
    ]
    inputs = [_normal(rng, BATCH, 8, 8, 2), _normal(rng, BATCH, 5, 3), _normal(rng, BATCH, 4)]
    return keras.Model([image, sequence, vector], outputs), inputs


def conv1d_channels_first(keras, rng):
    """Conv1D, 1D pooling and global pooling in channels_first; keepdims global pooling."""
    L = keras.layers
    cf = "channels_first"
    x = keras.Input((4, 11))
    h = L.Conv1D(6, 3, padding="same", strides=2, data_format=cf, activation="relu")(x)
    h = L.MaxPooling1D(2, padding="same", data_format=cf)(h)
    h = L.Conv1D(4, 2, dilation_rate=2, groups=2, data_format=cf)(L.AveragePooling1D(1, data_format=cf)(x))
    pooled = [L.GlobalAveragePooling1D(data_format=cf)(h), L.GlobalMaxPooling1D(data_format=cf)(h),
              L.Flatten()(L.GlobalAveragePooling1D(data_format=cf, keepdims=True)(h))]
    return keras.Model(x, L.Dense(2)(L.Concatenate()(pooled))), _normal(rng, BATCH, 4, 11)


def normalization_variants(keras, rng):
    """BatchNormalization on a middle axis or without scale; LayerNormalization over two axes or unscaled."""
    L = keras.layers
    model = keras.Sequential([
        keras.Input((5, 6)),
        L.BatchNormalization(axis=1, scale=False),
        L.Dense(6),
        L.LayerNormalization(axis=(1, 2), center=False),
        L.BatchNormalization(momentum=0.9, epsilon=1e-2),
        L.LayerNormalization(epsilon=1e-6, scale=False),
        L.Flatten(),
        L.Dense(2),
    ])
    return model, _normal(rng, BATCH, 5, 6)


def frozen_layers_nested(keras, rng):
    """Frozen layers, inside and outside a nested model: the legacy .h5 orders their weights differently.

    Keras's legacy layout lists a (nested) layer's trainable weights before its non-trainable
    ones, while ``get_weights`` and ``.weights.h5`` keep layer order.
    """
    L = keras.layers
    frozen_bn = L.BatchNormalization()
    frozen_bn.trainable = False
    frozen_dense = L.Dense(3)
    frozen_dense.trainable = False
    inner = keras.Sequential([keras.Input((4,)), frozen_bn, L.Dense(5, activation="relu"), frozen_dense,
                              L.BatchNormalization()], name="partly_frozen")
    x = keras.Input((4,))
    head = L.Dense(2)
    head.trainable = False
    return keras.Model(x, head(L.Dense(3)(inner(x)))), _normal(rng, BATCH, 4)


def image_and_attention_extras(keras, rng):
    """An image branch (Rescaling, inference-time augmentation, GroupNormalization, UnitNormalization)
    and a token branch (Attention with a concat score, AdditiveAttention, RMSNormalization)."""
    L = keras.layers
    image = keras.Input((8, 8, 3), name="image")
    h = L.RandomRotation(0.1)(L.RandomFlip()(L.Rescaling(1 / 127.5, offset=-1.0)(image)))
    h = L.GroupNormalization(groups=2)(L.Conv2D(4, 3)(h))
    h = L.UnitNormalization()(L.GlobalAveragePooling2D()(h))
    query, value = keras.Input((5, 6), name="query"), keras.Input((7, 6), name="value")
    attended = L.Add()([L.Attention(use_scale=True, score_mode="concat")([query, value]),
                        L.AdditiveAttention()([query, value])])
    t = L.GlobalAveragePooling1D()(L.RMSNormalization()(attended))
    inputs = [rng.uniform(0, 255, (BATCH, 8, 8, 3)).astype("float32"), _normal(rng, BATCH, 5, 6),
              _normal(rng, BATCH, 7, 6)]
    return keras.Model([image, query, value], L.Dense(3)(L.Concatenate()([h, t]))), inputs


def symbolic_indexing(keras, rng):
    """``x[:, 0]``, ``x[..., 1:3]`` and ``x[:, -1, ::2]`` on symbolic tensors: Keras 3's GetItem op nodes."""
    L = keras.layers
    x = keras.Input((4, 6))
    first = L.Dense(3)(x[:, 0])
    window = L.Flatten()(x[..., 1:3])
    strided = x[:, -1, ::2]
    return keras.Model(x, L.Concatenate()([first, window, strided])), _normal(rng, BATCH, 4, 6)


ARCHITECTURES = {builder.__name__: builder for builder in [
    tutorial_sequential, tutorial_multi_io, mlp_every_activation, cnn_batchnorm_pooling, cnn_channels_first,
    conv1d_text, conv_transpose_depthwise_separable, masked_bidirectional_gru, masked_embedding_lstm_gru,
    stacked_lstm_time_distributed, recurrent_return_state, bidirectional_merge_modes, reshape_permute_repeat,
    merge_zoo_shared, transformer_block, grouped_query_decoder_block, nested_sequential_in_functional,
    functional_in_sequential, multi_io_named, conv1d_channels_first, normalization_variants, frozen_layers_nested,
    image_and_attention_extras, symbolic_indexing,
]}


@functools.lru_cache(maxsize=None)
def build(name):
    """``(keras_model, inputs)`` for architecture ``name``, built and randomized once per process."""
    model, inputs = build_with(keras, name)
    return randomize(model, sorted(ARCHITECTURES).index(name) + 100), inputs


def build_with(api, name):
    """``(model, inputs)`` from the builder of ``name`` run against ``api``; the inputs do not depend on it."""
    return ARCHITECTURES[name](api, np.random.default_rng(sorted(ARCHITECTURES).index(name)))


def layer_class_names(config) -> set:
    """Every ``class_name`` in a Keras config, nested models and wrapped layers included."""
    found = set()
    if isinstance(config, dict):
        if "class_name" in config and isinstance(config.get("config"), dict):
            found.add(config["class_name"])
        for value in config.values():
            found |= layer_class_names(value)
    elif isinstance(config, list):
        for value in config:
            found |= layer_class_names(value)
    return found


def as_list(outputs) -> list:
    return [np.asarray(o) for o in outputs] if isinstance(outputs, (list, tuple)) else [np.asarray(outputs)]


def assert_predictions_close(got, expected, atol=1e-5):
    """Same number of outputs, same shapes, and every value within ``atol`` (float32 arithmetic)."""
    got, expected = as_list(got), as_list(expected)
    assert len(got) == len(expected), f"{len(got)} outputs, Keras has {len(expected)}"
    for index, (mine, theirs) in enumerate(zip(got, expected)):
        assert mine.shape == theirs.shape, f"output {index}: shape {mine.shape}, Keras {theirs.shape}"
        np.testing.assert_allclose(mine, theirs, atol=atol, rtol=1e-5, err_msg=f"output {index}")
