"""Initializers against Keras 3's: exact for the constant ones, by statistics for the random ones."""
import math

import numpy as np
import pytest
import torch

from keras_reference import keras
from modelcli import initializers

CONV = (3, 3, 16, 32)  # a Conv2D kernel: fan_in = 3·3·16 = 144, fan_out = 3·3·32 = 288
FAN_IN, FAN_OUT = 144, 288
TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated at ±2


def ours(init, shape=CONV):
    return init(shape).numpy()


def theirs(init, shape=CONV):
    return keras.ops.convert_to_numpy(init(shape, dtype="float32"))


# ----- exact ones -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, kwargs, shape", [
    ("Zeros", {}, (2, 3)), ("Ones", {}, (4,)), ("Constant", {"value": 0.7}, (2, 2, 3)),
    ("Identity", {}, (3, 5)), ("Identity", {"gain": 2.5}, (4, 4)),
])
def test_constant_initializers_match_keras_exactly(name, kwargs, shape):
    got = ours(getattr(initializers, name)(**kwargs), shape)
    np.testing.assert_array_equal(got, theirs(getattr(keras.initializers, name)(**kwargs), shape))
    assert got.dtype == np.float32


def test_identity_needs_a_matrix():
    with pytest.raises(ValueError, match="identity initializer needs a 2D shape"):
        initializers.Identity()((2, 2, 2))


# ----- uniform and normal ------------------------------------------------------------------------------------
# Tolerances: about 4 standard errors of the estimate over the 4608 values of CONV.
def test_random_uniform_bounds_and_mean():
    std = 0.8 / math.sqrt(12)
    for v in (ours(initializers.RandomUniform(-0.2, 0.6)), theirs(keras.initializers.RandomUniform(-0.2, 0.6))):
        assert v.min() >= -0.2 and v.max() < 0.6
        assert abs(v.mean() - 0.2) < 4 * std / 68 and abs(v.std() - std) < 0.04 * std


def test_random_normal_mean_and_stddev_like_keras():
    got, expected = ours(initializers.RandomNormal(1.0, 0.5)), theirs(keras.initializers.RandomNormal(1.0, 0.5))
    for v in (got, expected):
        assert abs(v.mean() - 1.0) < 4 * 0.5 / 68 and abs(v.std() - 0.5) < 0.05 * 0.5
    assert got.min() < 1.0 - 2 * 0.5  # not truncated


def within_cut(v, cut, ours_drawn):
    """Ours never passes the cut; Keras on torch keeps a value drawn 4 times outside it (p = 4e-6)."""
    top = np.abs(v).max() if ours_drawn else np.quantile(np.abs(v), 0.999)
    return top <= cut and np.abs(v).max() > 0.95 * cut


def test_truncated_normal_stays_within_two_stddev_like_keras():
    got, expected = ours(initializers.TruncatedNormal(0.0, 0.3)), theirs(keras.initializers.TruncatedNormal(0.0, 0.3))
    for v, ours_drawn in ((got, True), (expected, False)):
        assert within_cut(v, 0.6, ours_drawn)
        assert abs(v.std() - 0.3 * TRUNCATED_STD) < 0.05 * 0.3 * TRUNCATED_STD


# ----- variance scaling family on a conv kernel ---------------------------------------------------------
UNIFORM_LIMITS = {
    "GlorotUniform": math.sqrt(6 / (FAN_IN + FAN_OUT)),
    "HeUniform": math.sqrt(6 / FAN_IN),
    "LecunUniform": math.sqrt(3 / FAN_IN),
}
NORMAL_STDS = {  # the std of the truncated draw; it is cut at ±2σ with σ = std / 0.8796
    "GlorotNormal": math.sqrt(2 / (FAN_IN + FAN_OUT)),
    "HeNormal": math.sqrt(2 / FAN_IN),
    "LecunNormal": math.sqrt(1 / FAN_IN),
}


@pytest.mark.parametrize("name", sorted(UNIFORM_LIMITS))
def test_uniform_fan_initializers_fill_the_keras_limit(name):
    limit = UNIFORM_LIMITS[name]
    for v in (ours(getattr(initializers, name)()), theirs(getattr(keras.initializers, name)())):
        assert np.abs(v).max() <= limit and np.abs(v).max() > 0.99 * limit
        assert abs(v.std() - limit / math.sqrt(3)) < 0.04 * limit / math.sqrt(3)


@pytest.mark.parametrize("name", sorted(NORMAL_STDS))
def test_truncated_fan_initializers_have_keras_std_and_cut(name):
    std = NORMAL_STDS[name]
    cut = 2 * std / TRUNCATED_STD
    for v, ours_drawn in ((ours(getattr(initializers, name)()), True),
                          (theirs(getattr(keras.initializers, name)()), False)):
        assert within_cut(v, cut, ours_drawn)
        assert abs(v.std() - std) < 0.05 * std


@pytest.mark.parametrize("kwargs, std, top", [  # top: the largest |value| relative to std
    ({"scale": 2.0, "mode": "fan_out", "distribution": "untruncated_normal"}, math.sqrt(2 / FAN_OUT), None),
    ({"scale": 0.5, "mode": "fan_avg", "distribution": "uniform"}, math.sqrt(0.5 / ((FAN_IN + FAN_OUT) / 2)),
     math.sqrt(3)),
    ({"scale": 1.0, "mode": "fan_in", "distribution": "normal"}, math.sqrt(1 / FAN_IN), 2 / TRUNCATED_STD),
])
def test_variance_scaling_options_match_keras(kwargs, std, top):
    """'normal' means the truncated normal in Keras."""
    for v in (ours(initializers.VarianceScaling(**kwargs)), theirs(keras.initializers.VarianceScaling(**kwargs))):
        assert abs(v.std() - std) < 0.05 * std
        if top is None:
            assert np.abs(v).max() > 3 * std
        else:
            assert np.quantile(np.abs(v), 0.999) <= top * std < 1.05 * np.abs(v).max()


def test_variance_scaling_with_explicit_axes_uses_keras_fans():
    shape = (4, 5, 6)  # fan_in from axis 0 (4), fan_out from axes 1, 2 (30)
    kwargs = {"mode": "fan_in", "distribution": "uniform", "input_axes": [0], "output_axes": [1, 2]}
    for v in (ours(initializers.VarianceScaling(**kwargs), shape),
              theirs(keras.initializers.VarianceScaling(**kwargs), shape)):
        assert np.abs(v).max() <= math.sqrt(3 / 4) and np.abs(v).max() > 0.9 * math.sqrt(3 / 4)


def test_variance_scaling_rejects_bad_arguments():
    with pytest.raises(ValueError, match="scale must be positive"):
        initializers.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="mode must be one of"):
        initializers.VarianceScaling(mode="fan_sum")
    with pytest.raises(ValueError, match="distribution must be one of"):
        initializers.VarianceScaling(distribution="cauchy")


# ----- orthogonal -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 32), (32, 8), (3, 3, 4, 8)])
def test_orthogonal_gives_orthonormal_rows_or_columns_like_keras(shape):
    """A recurrent kernel (u, 4u) has orthonormal rows; a tall matrix orthonormal columns."""
    for init, draw in [(initializers.Orthogonal(gain=1.5, seed=2), ours),
                       (keras.initializers.Orthogonal(gain=1.5, seed=2), theirs)]:
        w = draw(init, shape).reshape(-1, shape[-1]) / 1.5
        small = w @ w.T if w.shape[0] < w.shape[1] else w.T @ w
        np.testing.assert_allclose(small, np.eye(len(small)), atol=1e-5)


def test_orthogonal_needs_two_dimensions_like_keras():
    with pytest.raises(ValueError, match="rank 2 or more"):
        initializers.Orthogonal()((5,))


# ----- seeds ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["RandomNormal", "RandomUniform", "TruncatedNormal", "GlorotUniform", "HeNormal",
                                  "Orthogonal", "VarianceScaling"])
def test_a_seed_repeats_values_and_no_seed_does_not(name):
    cls = getattr(initializers, name)
    seeded = cls(seed=5)
    first = ours(seeded, (6, 4))
    np.testing.assert_array_equal(first, ours(seeded, (6, 4)))  # called again, as Keras: the same values
    np.testing.assert_array_equal(first, ours(cls(seed=5), (6, 4)))
    assert not np.array_equal(first, ours(cls(seed=6), (6, 4)))
    unseeded = cls()
    assert not np.array_equal(ours(unseeded, (6, 4)), ours(unseeded, (6, 4)))


def test_seed_must_be_an_integer():
    with pytest.raises(ValueError, match="seed: expected an integer seed or null"):
        initializers.RandomNormal(seed="abc")


# ----- configs --------------------------------------------------------------------------------------------------------
KERAS_INITIALIZERS = [
    keras.initializers.Zeros(), keras.initializers.Ones(), keras.initializers.Constant(0.25),
    keras.initializers.RandomNormal(0.1, 0.2, seed=3), keras.initializers.RandomUniform(-1.0, 2.0),
    keras.initializers.TruncatedNormal(stddev=0.1, seed=4), keras.initializers.GlorotUniform(seed=1),
    keras.initializers.GlorotNormal(), keras.initializers.HeNormal(seed=2), keras.initializers.HeUniform(),
    keras.initializers.LecunNormal(), keras.initializers.LecunUniform(seed=9),
    keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=3),
    keras.initializers.VarianceScaling(input_axes=[0], output_axes=[1, 2]),
    keras.initializers.Orthogonal(gain=2.0, seed=1), keras.initializers.Identity(gain=3.0),
]


@pytest.mark.parametrize("keras_init", KERAS_INITIALIZERS, ids=lambda i: type(i).__name__)
def test_config_from_keras_round_trips(keras_init):
    spec = keras.saving.serialize_keras_object(keras_init)
    init = initializers.get(spec)
    assert type(init).__name__ == spec["class_name"]
    config = init.get_config()
    # Unset input/output axes are left out so that Keras < 3.12, which does not know them, reads the file;
    # Keras 3 writes no gain for Identity (so a file from Keras means 1.0); ours writes it.
    expected = {k: v for k, v in spec["config"].items() if not (k.endswith("_axes") and v is None)}
    if spec["class_name"] == "Identity":
        expected["gain"] = 1.0
    assert config == expected
    assert type(init).from_config(config).get_config() == config
    rebuilt = keras.saving.deserialize_keras_object(initializers.serialize(init))  # Keras reads ours back
    assert type(rebuilt).__name__ == spec["class_name"]


def test_identity_gain_is_written_and_keras_reads_it():
    config = initializers.Identity(gain=3.0).get_config()
    assert keras.initializers.Identity.from_config(config).gain == 3.0


@pytest.mark.parametrize("name", ["glorot_uniform", "he_normal", "orthogonal", "zeros", "uniform", "normal",
                                  "truncated_normal", "identity", "lecun_normal", "variance_scaling"])
def test_keras_string_names_resolve_to_the_same_class(name):
    assert type(initializers.get(name)).__name__ == type(keras.initializers.get(name)).__name__


def test_keras2_config_reads():
    init = initializers.get({"class_name": "VarianceScaling",
                             "config": {"scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None}})
    assert init.distribution == "truncated_normal"
