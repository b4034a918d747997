"""Data splits from .npy / .npz / .csv / .h5, checked against the model before any training."""
import h5py
import numpy as np
import pytest

import modelcli as keras
from modelcli.data import check_data, load_input, load_split
from modelcli.errors import DataError


@pytest.fixture(autouse=True)
def in_tmp_path(tmp_path, monkeypatch):
    """Messages name files relative to the working folder when inside it."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def mlp():
    inputs = keras.Input(shape=(3,), name="features")
    return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid", name="label")(inputs))


@pytest.fixture(scope="module")
def two_io():
    tokens = keras.Input(shape=(4,), dtype="int32", name="tokens")
    extra = keras.Input(shape=(2,), name="extra")
    hidden = keras.layers.concatenate([keras.layers.Flatten()(keras.layers.Embedding(10, 2)(tokens)), extra])
    return keras.Model([tokens, extra], [keras.layers.Dense(1, name="main")(hidden),
                                         keras.layers.Dense(3, activation="softmax", name="aux")(hidden)])


def arrays(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 3), dtype=np.float32), (rng.random((n, 1)) > 0.5).astype(np.float32)


def error(*args):
    with pytest.raises(DataError) as info:
        load_split(*args)
    return str(info.value)


def test_npy_files_are_memory_mapped(tmp_path, mlp):
    x, y = arrays()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    got_x, got_y, sw = load_split({"x": "x.npy", "y": "y.npy"}, str(tmp_path), mlp, "data.train")
    assert isinstance(got_x, np.memmap) and not got_x.flags.writeable
    np.testing.assert_array_equal(got_x, x)
    np.testing.assert_array_equal(got_y, y)
    assert sw is None


def test_npz_keys_x_y_and_key_syntax(tmp_path, mlp):
    x, y = arrays()
    np.savez(tmp_path / "d.npz", x=x, y=y, sample_weight=np.ones(6, np.float32), x_val=x[:2])
    got_x, got_y, sw = load_split("d.npz", str(tmp_path), mlp, "data.train")
    np.testing.assert_array_equal(got_x, x)
    assert sw.shape == (6,)
    assert "d.npz:x_val has 2 samples but" in error({"x": "d.npz:x_val", "y": "d.npz:y"}, str(tmp_path), mlp, "data.v")


def test_npz_keyed_by_input_and_output_names(tmp_path, two_io):
    rng = np.random.default_rng(1)
    data = {"tokens": rng.integers(0, 10, (5, 4)).astype(np.int32), "extra": rng.random((5, 2), dtype=np.float32),
            "main": rng.random((5, 1), dtype=np.float32), "aux": rng.integers(0, 3, (5,))}
    np.savez(tmp_path / "d.npz", **data)
    for spec in ("d.npz", {"x": "d.npz", "y": "d.npz"}, {"x": {"extra": "d.npz:extra", "tokens": "d.npz:tokens"},
                                                          "y": ["d.npz:main", "d.npz:aux"]}):
        x, y, _ = load_split(spec, str(tmp_path), two_io, "data.train")
        np.testing.assert_array_equal(x[0], data["tokens"])
        np.testing.assert_array_equal(y[1], data["aux"])


def test_csv_tables_with_named_columns_or_the_last_column_as_label(tmp_path, mlp):
    (tmp_path / "t.csv").write_text("a,b,label,c\n1,2,0,3\n4,5,1,6\n")
    x, y, _ = load_split({"path": "t.csv", "label": "label"}, str(tmp_path), mlp, "data.train")
    np.testing.assert_array_equal(x, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(y, [[0], [1]])
    x, _, _ = load_split({"path": "t.csv", "features": ["c", "b", "a"], "label": "label"}, str(tmp_path), mlp, "d")
    np.testing.assert_array_equal(x[0], [3, 2, 1])
    (tmp_path / "plain.csv").write_text("1,2,3,1\n4,5,6,0\n")
    x, y, _ = load_split("plain.csv", str(tmp_path), mlp, "data.train")
    assert x.shape == (2, 3) and y.tolist() == [[1], [0]]
    columns = {"x": {"path": "t.csv", "columns": ["a", "b", "c"]}, "y": {"path": "t.csv", "columns": "label"}}
    x, y, _ = load_split(columns, str(tmp_path), mlp, "d")
    assert x.shape == (2, 3) and y.shape == (2, 1)


def test_hdf5_datasets(tmp_path, mlp):
    x, y = arrays()
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["train/x"] = x
        f["train/y"] = y
    got_x, got_y, _ = load_split({"x": "d.h5:train/x", "y": "d.h5:train/y"}, str(tmp_path), mlp, "data.train")
    np.testing.assert_array_equal(got_x, x)
    assert "has no dataset 'train/z'" in error({"x": "d.h5:train/z", "y": "d.h5:train/y"}, str(tmp_path), mlp, "d")


def test_load_input_for_predict(tmp_path, two_io, mlp):
    x, _ = arrays()
    np.save(tmp_path / "x.npy", x)
    assert isinstance(load_input(str(tmp_path / "x.npy"), mlp)[0], np.memmap)
    np.savez(tmp_path / "in.npz", extra=np.zeros((3, 2), np.float32), tokens=np.ones((3, 4), np.int32))
    tokens, extra = load_input(str(tmp_path / "in.npz"), two_io)
    assert tokens.shape == (3, 4) and extra.shape == (3, 2)
    (tmp_path / "in.csv").write_text("1,2,3\n4,5,6\n")
    assert load_input(str(tmp_path / "in.csv"), mlp)[0].shape == (2, 3)


def test_pickled_npy_is_refused(tmp_path, mlp):
    np.save(tmp_path / "x.npy", np.array([{"a": 1}] * 6, dtype=object), allow_pickle=True)
    np.save(tmp_path / "y.npy", arrays()[1])
    message = error({"x": "x.npy", "y": "y.npy"}, str(tmp_path), mlp, "data.train")
    assert "x.npy: the array holds pickled Python objects, which modelcli never loads" in message


def test_nan_empty_and_length_mismatch_name_the_file(tmp_path, mlp):
    x, y = arrays()
    x[4, 1] = np.nan
    np.save(tmp_path / "nan.npy", x)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "empty.npy", np.zeros((0, 3), np.float32))
    np.save(tmp_path / "short.npy", y[:5])
    message = error({"x": "nan.npy", "y": "y.npy"}, str(tmp_path), mlp, "data.train")
    assert "data.train: nan.npy holds NaN or infinite values (first at row 4)" in message
    assert "empty.npy is empty (0 samples)" in error({"x": "empty.npy", "y": "y.npy"}, str(tmp_path), mlp, "d")
    np.save(tmp_path / "x.npy", arrays()[0])
    assert "x.npy has 6 samples but short.npy has 5" in error({"x": "x.npy", "y": "short.npy"}, str(tmp_path), mlp, "d")


def test_shapes_that_do_not_fit_name_the_input_and_both_shapes(tmp_path, mlp, two_io):
    np.save(tmp_path / "x4.npy", np.zeros((6, 4), np.float32))
    np.save(tmp_path / "y.npy", arrays()[1])
    np.save(tmp_path / "y3.npy", np.zeros((6, 3), np.float32))
    message = error({"x": "x4.npy", "y": "y.npy"}, str(tmp_path), mlp, "data.train")
    assert "input 'features' expects shape (None, 3) but x4.npy has shape (6, 4)" in message
    np.save(tmp_path / "x.npy", arrays()[0])
    message = error({"x": "x.npy", "y": "y3.npy"}, str(tmp_path), mlp, "data.train")
    assert "output 'label' has shape (None, 1) but its targets y3.npy have shape (6, 3)" in message
    with pytest.raises(DataError, match=r"input 'tokens' takes integers .* holds fractional float32 values"):
        check_data(two_io, [np.full((2, 4), 0.5, np.float32), np.zeros((2, 2), np.float32)])
    with pytest.raises(DataError, match=r"the model has 2 input\(s\) \['tokens', 'extra'\] but the data gives 1"):
        check_data(two_io, np.zeros((2, 4), np.int32))


def test_damaged_files_are_refused_with_the_reason(tmp_path, mlp):
    x, y = arrays(200)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    whole = (tmp_path / "x.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(whole[:len(whole) // 2])
    assert "cut.npy: the file is truncated" in error({"x": "cut.npy", "y": "y.npy"}, str(tmp_path), mlp, "d")
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["x"] = x
    whole = (tmp_path / "d.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(whole[:len(whole) // 2])
    message = error({"x": "cut.h5:x", "y": "y.npy"}, str(tmp_path), mlp, "d")
    assert "cut.h5: not a readable HDF5 file: it is truncated" in message
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert "bad.npz: not a readable .npz archive" in error("bad.npz", str(tmp_path), mlp, "d")
    (tmp_path / "bad.csv").write_text("a,b\n1,x\n")
    assert "bad.csv: line 2, column 'b': 'x' is not a number" in error("bad.csv", str(tmp_path), mlp, "d")
