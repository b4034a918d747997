"""Arrays for training, evaluation and prediction, from the files a config names.

A data split (``data.train``, ``data.validation``, ``data.test``) is one of:

- ``{x: SOURCE, y: SOURCE, sample_weight: SOURCE}``, where x (and y, for several outputs) may
  also be a list of sources in the model's input order or a mapping by input (output) name;
- a file holding every array: ``train: data.npz`` (or ``.h5``) with arrays keyed by the model's
  input and output names, or ``x`` and ``y`` (and optionally ``sample_weight``);
- a table: ``{path: table.csv, features: [a, b] | "all but label", label: name}``; a plain
  numeric ``table.csv`` has its label in the last column.

A SOURCE is ``x.npy`` (memory-mapped: a file bigger than RAM is read as batches touch it),
``file.npz:key``, ``file.h5:group/dataset``, ``file.csv`` (every column) or
``{path: file.csv, columns: [...]}``. Nothing is unpickled (``allow_pickle=False``).
Before training, the arrays are checked against the model: shapes and dtypes of each
input and output, equal sample counts, no empty data, no NaN or inf.
"""
from __future__ import annotations

import os
import re

import numpy as np

from .errors import DataError, did_you_mean

DATA_SUFFIXES = (".npy", ".npz", ".csv", ".h5", ".hdf5")
_KEYED = re.compile(r"(.+\.(?:npz|h5|hdf5)):([^:]+)", re.IGNORECASE)
_MANY = (".npz", ".h5", ".hdf5")  # files that may hold several arrays
_FALLBACK = {"input": "x", "output": "y", "weight": "sample_weight"}
_CHECK_BYTES = 32 << 20  # NaN checks read this much at a time, so a memory-mapped file stays on disk


def split_source(text: str):
    """``file.npz:key`` → ('file.npz', 'key'); a plain path → (path, None)."""
    match = _KEYED.fullmatch(text)
    return (match[1], match[2]) if match else (text, None)


def show_path(path: str) -> str:
    """A path as short as is clear: relative to the working folder when inside it."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


class _Labelled(list):
    """Arrays with the place each came from, for error messages."""


# ----- public API -------------------------------------------------------------------------------------------
def load_split(spec, base_dir, model, where):
    """(x, y, sample_weight) for a data split, checked against ``model``.

    x is one array for a single-input model, else a list in ``model.inputs`` order; y likewise
    for the outputs (None when the split has no targets); sample_weight is an array or None.
    """
    xs, ys, sw = _read_split(spec, base_dir, model, where)
    _check(model, xs, ys, sw, where)
    return _unwrap(xs), (None if ys is None else _unwrap(ys)), (None if sw is None else sw[0])


def load_input(path, model):
    """The inputs for ``model.predict`` from one file, in ``model.inputs`` order (always a list)."""
    names = _input_names(model)
    file, key = split_source(os.fspath(path))
    if not os.path.exists(file):
        raise DataError("no such input file", where=show_path(file))
    if key is not None or file.lower().endswith(".npy"):
        xs = _Labelled([_read_source(os.fspath(path), "input")])
        xs.labels = [show_path(os.fspath(path))]
    elif file.lower().endswith(".csv"):
        table, header = _read_csv(file)
        xs = _Labelled([table])
        xs.labels = [show_path(file)]
    else:
        arrays = _arrays_in_file(file)
        xs = _pick(arrays, names, "x", file)
        if xs is None:
            if len(arrays) == 1:
                xs = _Labelled([_load_key(file, next(iter(arrays)))])
                xs.labels = [f"{show_path(file)}:{next(iter(arrays))}"]
            else:
                raise DataError(f"cannot tell which arrays are the inputs: the file has {sorted(arrays)}",
                                where=show_path(file),
                                hint=f"key them by the model's input names {names}, or name one as x")
    _check(model, xs, None, None, "input")
    return list(xs)


def check_data(model, x, y=None, where="data", sample_weight=None):
    """Raise DataError unless x (and y) fit the model's inputs (and outputs)."""
    xs = _Labelled(_as_list(x, _input_names(model)))
    xs.labels = [f"x[{n}]" for n in _input_names(model)][:len(xs)]
    ys = None
    if y is not None:
        ys = _Labelled(_as_list(y, model.output_names))
        ys.labels = [f"y[{n}]" for n in model.output_names][:len(ys)]
    sw = None
    if sample_weight is not None:
        sw = _Labelled([np.asarray(sample_weight)])
        sw.labels = ["sample_weight"]
    _check(model, xs, ys, sw, where)


# ----- reading a split --------------------------------------------------------------------------------------
def _read_split(spec, base_dir, model, where):
    if isinstance(spec, str):
        spec = {"path": spec}
    if "path" in spec:
        path = _join(base_dir, spec["path"])
        if path.lower().endswith(".csv"):
            return _read_table_split(path, spec.get("features"), spec.get("label"), where)
        return _read_file_split(path, spec.get("features"), spec.get("label"), model, where)
    xs = _read_arrays(spec["x"], base_dir, _input_names(model), f"{where}.x", "input")
    ys = None
    if spec.get("y") is not None:
        ys = _read_arrays(spec["y"], base_dir, model.output_names, f"{where}.y", "output")
    sw = None
    if spec.get("sample_weight") is not None:
        sw = _read_arrays(spec["sample_weight"], base_dir, ["sample_weight"], f"{where}.sample_weight", "weight")
    return xs, ys, sw


def _read_arrays(value, base_dir, names, where, role):
    """One source, a list of sources (in order), or a mapping by name, as a labelled list in ``names`` order."""
    if isinstance(value, dict) and "path" not in value:
        missing = [n for n in names if n not in value]
        unknown = [k for k in value if k not in names]
        if unknown or missing:
            bad = unknown[0] if unknown else missing[0]
            raise DataError(f"the model's {role}s are {names}; " +
                            (f"'{bad}' is not one of them" if unknown else f"no data for '{bad}'"),
                            where=f"{where}.{bad}" if unknown else where, hint=did_you_mean(bad, names))
        value = [value[n] for n in names]
    sources = value if isinstance(value, list) else [value]
    arrays, labels = _Labelled(), []
    for source in sources:
        if isinstance(source, dict):
            path = _join(base_dir, source["path"])
            table, header = _read_csv(path)
            arrays.append(_columns(table, header, source.get("columns"), path, f"{where}.columns"))
            labels.append(show_path(path))
        else:
            file, key = split_source(source)
            path = _join(base_dir, file)
            if key is None and not isinstance(value, list) and path.lower().endswith(_MANY):
                found = _arrays_in_file(path)
                picked = _pick(found, names, _FALLBACK[role], path) if len(found) > 1 else None
                if picked is not None:
                    return picked
            source = path + (f":{key}" if key is not None else "")
            arrays.append(_read_source(source, role))
            labels.append(show_path(source))
    arrays.labels = labels
    return arrays


def _read_file_split(path, features, label, model, where):
    """A whole split from one .npz / .h5: arrays keyed by input/output names or x/y."""
    if path.lower().endswith(".npy"):
        raise DataError("a .npy file holds one array, so it cannot be a whole split", where=show_path(path),
                        hint="give {x: x.npy, y: y.npy}")
    arrays = _arrays_in_file(path)
    names = _input_names(model)
    if features is not None or label is not None:
        xs = _named(path, features if isinstance(features, list) else [features], arrays)
        ys = None if label is None else _named(path, label if isinstance(label, list) else [label], arrays)
    else:
        xs = _pick(arrays, names, "x", path)
        ys = _pick(arrays, model.output_names, "y", path)
        if xs is None:
            raise DataError(f"cannot find the inputs: the file has {sorted(arrays)}; expected the model's "
                            f"input names {names} or 'x'", where=f"{where} ({show_path(path)})",
                            hint="or give the split as {x: file:key, y: file:key}")
    sw = _named(path, ["sample_weight"], arrays) if "sample_weight" in arrays else None
    return xs, ys, sw


def _pick(arrays, names, fallback, path):
    if all(n in arrays for n in names):
        return _named(path, names, arrays)
    if fallback in arrays:
        return _named(path, [fallback], arrays)
    return None


def _named(path, keys, arrays):
    out = _Labelled()
    out.labels = []
    for key in keys:
        if key not in arrays:
            raise DataError(f"has no array '{key}'; it has {sorted(arrays)}", where=show_path(path),
                            hint=did_you_mean(key, arrays))
        out.append(_load_key(path, key))
        out.labels.append(f"{show_path(path)}:{key}")
    return out


def _read_table_split(path, features, label, where):
    table, header = _read_csv(path)
    if table.shape[1] < 2:
        raise DataError(f"the table has {table.shape[1]} column; a split needs features and a label",
                        where=show_path(path))
    if label is None:
        label_index = [table.shape[1] - 1]
    else:
        label_index = [_column_index(c, header, path, f"{where}.label", table.shape[1])
                       for c in (label if isinstance(label, list) else [label])]
    if features is None or features == "all but label":
        feature_index = [i for i in range(table.shape[1]) if i not in label_index]
    else:
        feature_index = [_column_index(c, header, path, f"{where}.features", table.shape[1]) for c in features]
    xs, ys = _Labelled([table[:, feature_index]]), _Labelled([table[:, label_index]])
    xs.labels = [f"{show_path(path)} (features)"]
    ys.labels = [f"{show_path(path)} (label)"]
    return xs, ys, None


def _columns(table, header, columns, path, where):
    if columns is None:
        return table
    columns = columns if isinstance(columns, list) else [columns]
    return table[:, [_column_index(c, header, path, where, table.shape[1]) for c in columns]]


def _column_index(column, header, path, where, width):
    if isinstance(column, int) and not isinstance(column, bool):
        if not -width <= column < width:
            raise DataError(f"column {column} is not in {show_path(path)}, which has {width} columns", where=where,
                            hint="columns count from 0")
        return column
    if header is None or column not in header:
        known = header or []
        raise DataError(f"no column '{column}' in {show_path(path)}" +
                        (f"; its columns are {known}" if known else " (it has no header row)"),
                        where=where, hint=did_you_mean(column, known))
    return header.index(column)


# ----- reading files ----------------------------------------------------------------------------------------
def _read_source(source, role):
    path, key = split_source(source)
    lower = path.lower()
    if not os.path.exists(path):
        raise DataError("no such data file", where=show_path(path))
    if lower.endswith(".npy"):
        return _load_npy(path)
    if lower.endswith(".csv"):
        return _read_csv(path)[0]
    if key is None:
        arrays = _arrays_in_file(path)
        if len(arrays) != 1:
            raise DataError(f"holds {len(arrays)} arrays {sorted(arrays)}, none named by the model's "
                            f"{role}s or '{_FALLBACK[role]}'; say which one",
                            where=show_path(path), hint=f"write {show_path(path)}:NAME")
        key = next(iter(arrays))
    return _load_key(path, key)


def _load_npy(path):
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as err:
        text = str(err)
        if "pickle" in text or "Python objects" in text:
            raise DataError("the array holds pickled Python objects, which modelcli never loads",
                            where=show_path(path),
                            hint="save plain numbers: np.save(path, array.astype('float32'))") from None
        if "mmap length" in text:
            raise DataError("the file is truncated: it is shorter than its header says", where=show_path(path),
                            hint="write it again") from None
        raise DataError(f"not a readable .npy file ({text})", where=show_path(path)) from None
    except OSError as err:
        raise DataError(f"cannot read the file ({err.strerror or err})", where=show_path(path)) from None
    if array.ndim == 0:
        raise DataError("the array is a scalar; expected one row per sample", where=show_path(path))
    return array


def _arrays_in_file(path):
    """{key: shape} of the arrays in a .npz, or of the datasets in an .h5 (paths like group/name)."""
    if not os.path.exists(path):
        raise DataError("no such data file", where=show_path(path))
    if path.lower().endswith(".npz"):
        with _open_npz(path) as archive:
            return {k: None for k in archive.files}
    with _open_h5(path) as f:
        import h5py
        found = {}
        f.visititems(lambda name, obj: found.setdefault(name, obj.shape) if isinstance(obj, h5py.Dataset) else None)
        return found


def _load_key(path, key):
    if path.lower().endswith(".npz"):
        with _open_npz(path) as archive:
            if key not in archive.files:
                raise DataError(f"has no array '{key}'; it has {sorted(archive.files)}", where=show_path(path),
                                hint=did_you_mean(key, archive.files))
            try:
                array = archive[key]
            except ValueError as err:
                if "pickle" in str(err) or "allow_pickle" in str(err):
                    raise DataError(f"the array '{key}' holds pickled Python objects, which modelcli never "
                                    "loads", where=show_path(path), hint="save plain numbers") from None
                raise DataError(f"cannot read the array '{key}' ({err})", where=show_path(path)) from None
            except (OSError, EOFError) as err:
                raise DataError(f"cannot read the array '{key}' (truncated? {err})", where=show_path(path)) from None
    else:
        with _open_h5(path) as f:
            import h5py
            item = f.get(key)
            if not isinstance(item, h5py.Dataset):
                names = list(_arrays_in_file(path))
                raise DataError(f"has no dataset '{key}'; it has {sorted(names)}", where=show_path(path),
                                hint=did_you_mean(key, names))
            try:
                array = item[()]
            except (OSError, KeyError, ValueError) as err:
                raise DataError(f"cannot read the dataset '{key}' ({str(err).splitlines()[0][:100]})",
                                where=show_path(path), hint="the file may be truncated") from None
    if not isinstance(array, np.ndarray) or array.ndim == 0:
        raise DataError(f"'{key}' is a scalar; expected one row per sample", where=show_path(path))
    return array


class _open_npz:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        import zipfile
        try:
            self.archive = np.load(self.path, allow_pickle=False)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
            raise DataError(f"not a readable .npz archive ({err})", where=show_path(self.path),
                            hint="the file may be truncated") from None
        if not hasattr(self.archive, "files"):
            raise DataError("is a .npy array, not an .npz archive", where=show_path(self.path),
                            hint="name it .npy")
        return self.archive

    def __exit__(self, *exc):
        self.archive.close()


class _open_h5:
    def __init__(self, path):
        self.path = path

    def __enter__(self):
        import h5py
        try:
            self.file = h5py.File(self.path, "r")
        except OSError as err:
            text = str(err).lower()
            reason = ("it is truncated" if "truncated" in text else
                      "it has no HDF5 signature: another format" if "signature" in text else str(err).splitlines()[0])
            raise DataError(f"not a readable HDF5 file: {reason}", where=show_path(self.path),
                            hint="write the file again") from None
        return self.file

    def __exit__(self, *exc):
        self.file.close()


def _read_csv(path):
    """(float32 table, header or None): a first row with any non-number is the header."""
    import csv

    try:
        with open(path, newline="", encoding="utf8") as f:
            rows = [row for row in csv.reader(f) if row and any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise DataError("is not a text CSV file", where=show_path(path)) from None
    header = None
    if rows and not all(_is_number(cell) for cell in rows[0]):
        header = [cell.strip() for cell in rows[0]]
        rows = rows[1:]
    if not rows:
        raise DataError("the table has no rows of data", where=show_path(path))
    width = len(header) if header else len(rows[0])
    table = np.empty((len(rows), width), dtype=np.float32)
    first = 2 if header else 1
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"line {i + first} has {len(row)} columns; expected {width}", where=show_path(path))
        for j, cell in enumerate(row):
            try:
                table[i, j] = float(cell)
            except ValueError:
                column = f"'{header[j]}'" if header else f"{j + 1}"
                raise DataError(f"line {i + first}, column {column}: '{cell}' is not a number",
                                where=show_path(path), hint="modelcli reads numeric tables only") from None
    return table, header


def _is_number(cell):
    try:
        float(cell)
        return True
    except ValueError:
        return False


# ----- checks against the model -----------------------------------------------------------------------------
def _check(model, xs, ys, sws, where):
    names = _input_names(model)
    if len(xs) != len(names):
        raise DataError(f"the model has {len(names)} input(s) {names} but the data gives {len(xs)} array(s)",
                        where=where, hint="give one array per input, in order or by name")
    groups = [("input", names, [t.shape for t in model.inputs], [t.dtype for t in model.inputs], xs)]
    if ys is not None:
        outs = model.output_names
        if len(ys) != len(outs):
            raise DataError(f"the model has {len(outs)} output(s) {outs} but the data gives {len(ys)} target "
                            f"array(s)", where=where, hint="give one array per output, in order or by name")
        groups.append(("output", outs, [t.shape for t in model.outputs], [None] * len(outs), ys))
    counts = []
    for role, names_, shapes, dtypes, arrays in groups:
        for name, shape, dtype, array, label in zip(names_, shapes, dtypes, arrays, _labels(arrays)):
            _check_array(array, label, where)
            if role == "input":
                _check_input(array, tuple(shape), dtype, name, label, where)
            else:
                _check_target(array, tuple(shape), name, label, where)
            counts.append((label, len(array)))
    for array, label in zip(sws or [], _labels(sws or [])):
        _check_array(array, label, where)
        if array.ndim != 1 and not (array.ndim == 2 and array.shape[1] == 1):
            raise DataError(f"sample weights must be one number per sample; {label} has shape {array.shape}",
                            where=where)
        counts.append((label, len(array)))
    if len({n for _, n in counts}) > 1:
        (a, n), (b, m) = counts[0], next(c for c in counts if c[1] != counts[0][1])
        raise DataError(f"{a} has {n} samples but {b} has {m}", where=where,
                        hint="x, y and sample_weight need one row per sample")


def _check_array(array, label, where):
    if array.dtype.kind not in "biuf":
        raise DataError(f"{label} holds {array.dtype} values, not numbers", where=where)
    if len(array) == 0:
        raise DataError(f"{label} is empty (0 samples)", where=where)
    if array.dtype.kind == "f":
        row = _first_non_finite(array)
        if row is not None:
            raise DataError(f"{label} holds NaN or infinite values (first at row {row})", where=where,
                            hint="clean the data (drop or impute those rows) before training")


def _first_non_finite(array):
    """The first row with a NaN or inf, read in slabs so a memory-mapped array stays on disk."""
    row_bytes = max(array[:1].nbytes, 1)
    step = max(1, _CHECK_BYTES // row_bytes)
    for start in range(0, len(array), step):
        slab = np.asarray(array[start:start + step])
        finite = np.isfinite(slab).reshape(len(slab), -1).all(axis=1)
        if not finite.all():
            return start + int(np.argmin(finite))
    return None


def _check_input(array, expected, dtype, name, label, where):
    fits = len(array.shape) == len(expected) and all(
        e is None or d == e for d, e in zip(array.shape[1:], expected[1:]))
    if not fits:
        raise DataError(f"input '{name}' expects shape {_shape(expected)} but {label} has shape "
                        f"{tuple(array.shape)}", where=where, hint=_shape_hint(array.shape, expected))
    if dtype and str(dtype).startswith(("int", "uint")) and array.dtype.kind == "f":
        sample = np.asarray(array[:1000])
        if not np.array_equal(sample, np.round(sample)):
            raise DataError(f"input '{name}' takes integers ({dtype}: token or category ids) but {label} "
                            f"holds fractional {array.dtype} values", where=where)


def _check_target(array, expected, name, label, where):
    rank_ok = array.ndim in (len(expected), len(expected) - 1)
    inner_ok = all(e is None or d == e for d, e in zip(array.shape[1:-1], expected[1:-1]))
    last = array.shape[-1] if array.ndim == len(expected) and array.ndim > 1 else None
    last_ok = last is None or expected[-1] is None or last in (expected[-1], 1)
    if not (rank_ok and inner_ok and last_ok):
        raise DataError(f"output '{name}' has shape {_shape(expected)} but its targets {label} have shape "
                        f"{tuple(array.shape)}", where=where,
                        hint="targets are one row per sample: class ids, or one value per output unit")


def _shape_hint(shape, expected):
    if len(shape) == len(expected) - 1:
        return "the data lacks an axis: add one (e.g. x[..., None] for one channel)"
    if len(shape) == len(expected) + 1:
        return "the data has one axis too many"
    if len(shape) == 2 and len(expected) > 2 and int(np.prod([d or 1 for d in expected[1:]])) == shape[1]:
        return f"reshape it to {_shape((shape[0],) + tuple(expected[1:]))}"
    return None


def _shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + (",)" if len(shape) == 1 else ")")


# ----- small helpers ----------------------------------------------------------------------------------------
def _input_names(model):
    return [t.name for t in model.inputs]


def _labels(arrays):
    return getattr(arrays, "labels", None) or [f"array {i}" for i in range(len(arrays))]


def _unwrap(arrays):
    return arrays[0] if len(arrays) == 1 else list(arrays)


def _as_list(value, names):
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if missing:
            raise DataError(f"no data for '{missing[0]}'; the model's names are {names}, the data has {sorted(value)}",
                            hint=did_you_mean(missing[0], value))
        return [np.asarray(value[n]) for n in names]
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return [np.asarray(value)]


def _join(base_dir, path):
    return os.path.normpath(os.path.join(base_dir or "", os.path.expanduser(path)))
