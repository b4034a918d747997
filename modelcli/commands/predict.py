"""``modelcli predict``: a model's outputs for a data file, streamed in slabs of rows.

A ``.npy`` input is read a slab at a time straight from the file — never loaded, and never
mapped whole: a mapping counts against a process's address-space limit as much as a read
does — and the outputs are written row by row as they come, so a file bigger than memory
predicts with bounded memory. Other inputs (``.npz``, ``.csv``, ``.h5``) come through
:func:`modelcli.data.load_input`. The output is ``.npy`` (one output), ``.npz`` (arrays
keyed by output name) or ``.csv``; it is written to a temporary file and renamed into place.
"""
from __future__ import annotations

import os
import zipfile

import numpy as np

from ..errors import DataError

OUTPUT_SUFFIXES = (".npy", ".npz", ".csv")
SLAB_BYTES = 16 << 20  # rows read per step: about this many bytes of input


def run(source, input_path, output=None, weights=None, batch_size=32, echo=print):
    """Predict ``input_path`` with the model of ``source``; returns the path written."""
    from ..saving.atomic import atomic_path
    from ..sources import load_model_source

    if output is not None:
        output_suffix(output)
    model = load_model_source(source)
    if weights:
        model.load_weights(weights)
    inputs = open_inputs(input_path, model)
    n = len(inputs[0])
    names = model.output_names
    output = output or ("predictions.npy" if len(names) == 1 else "predictions.npz")
    suffix = output_suffix(output)
    if suffix == ".npy" and len(names) > 1:
        raise DataError(f"the model has {len(names)} outputs ({', '.join(names)}); a .npy holds one",
                        where=output, hint="write a .npz (arrays keyed by output name) or a .csv")
    with atomic_path(output) as tmp:
        writer = {".npy": NpyWriter, ".npz": NpzWriter, ".csv": CsvWriter}[suffix](tmp, names, n)
        try:
            for outs in predict_slabs(model, inputs, batch_size):
                writer.write(outs)
        finally:
            writer.close()
        shapes = writer.shapes
    echo(f"wrote {output}: " + ", ".join(f"{name} {shape}" for name, shape in zip(names, shapes)))
    return output


def output_suffix(path) -> str:
    suffix = os.path.splitext(str(path))[1].lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise DataError(f"unknown output type '{suffix or os.path.basename(str(path))}'", where=str(path),
                        hint="use .npy, .npz or .csv")
    return suffix


def predict_slabs(model, inputs, batch_size):
    """Yield each slab's outputs (a list, one array per model output), in row order.

    A slab is a whole number of batches, so the batches are those ``model.predict`` makes
    over the whole array and the numbers are the same.
    """
    n = len(inputs[0])
    row_bytes = sum(int(np.prod(a.shape[1:], dtype=np.int64)) * a.dtype.itemsize for a in inputs)
    slab = max(1, SLAB_BYTES // max(row_bytes, 1) // batch_size) * batch_size
    for start in range(0, n, slab):
        xs = [np.asarray(a[start:start + slab]) for a in inputs]
        outs = model.predict(xs if len(xs) > 1 else xs[0], batch_size=batch_size, verbose=0)
        yield outs if isinstance(outs, list) else [outs]


# ----- inputs ---------------------------------------------------------------------------------------
def open_inputs(path, model) -> list:
    """The arrays for ``model.inputs`` in order, each sliceable by rows without reading the rest."""
    from ..trainer.inputs import check_shape

    if path.lower().endswith(".npy"):
        names = [t.name for t in model.inputs]
        array = NpyRows(path)
        if len(names) > 1:
            raise DataError(f"the model has {len(names)} inputs ({', '.join(names)}) but a .npy holds one "
                            f"array", where=path, hint="give a .npz with one array per input name")
        if names:
            check_shape(array.shape, model.inputs[0].shape, f"{path}: input '{names[0]}'")
        arrays = [array]
    else:
        from ..data import load_input
        arrays = load_input(path, model)
        arrays = list(arrays) if isinstance(arrays, (list, tuple)) else [arrays]
    if len(arrays[0]) == 0:
        raise DataError("the input has no samples", where=path)
    return arrays


class NpyRows:
    """Rows of a C-ordered ``.npy``, read from the file on demand (``rows[a:b]``)."""

    def __init__(self, path):
        self.path = path
        if not os.path.isfile(path):
            raise DataError("no such input file", where=path)
        try:
            with open(path, "rb") as f:
                version = np.lib.format.read_magic(f)
                read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                               (2, 0): np.lib.format.read_array_header_2_0}.get(version)
                if read_header is None:
                    raise ValueError(f"unsupported .npy version {version}")
                self.shape, fortran_order, self.dtype = read_header(f)
                self.offset = f.tell()
        except ValueError as err:
            raise DataError(f"not a readable .npy file ({err})", where=path) from None
        if self.dtype.hasobject:
            raise DataError("the array holds pickled Python objects, which modelcli never loads",
                            where=path, hint="save plain numbers: np.save(path, array.astype('float32'))")
        if not self.shape:
            raise DataError("the array is a scalar; expected a batch of samples", where=path)
        if fortran_order:
            raise DataError("the array is in Fortran order, so its rows cannot be streamed", where=path,
                            hint="save it C-ordered: np.save(path, np.ascontiguousarray(array))")
        self.row_items = int(np.prod(self.shape[1:], dtype=np.int64))
        expected = self.offset + self.shape[0] * self.row_items * self.dtype.itemsize
        if os.path.getsize(path) < expected:
            raise DataError(f"the file is truncated: {os.path.getsize(path)} bytes, the header promises "
                            f"{expected}", where=path)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        start, stop, step = rows.indices(len(self))
        if step != 1:
            raise IndexError("NpyRows reads contiguous row ranges only")
        count = max(stop - start, 0)
        with open(self.path, "rb") as f:
            f.seek(self.offset + start * self.row_items * self.dtype.itemsize)
            flat = np.fromfile(f, dtype=self.dtype, count=count * self.row_items)
        return flat.reshape((count,) + tuple(self.shape[1:]))


# ----- outputs --------------------------------------------------------------------------------------
class NpyWriter:
    """One ``.npy`` written front to back: the header once the first rows tell the row shape."""

    def __init__(self, path, names, n):
        self.file = open(path, "wb")
        self.n = n
        self.shapes = None

    def write(self, outs):
        (rows,) = outs
        if self.shapes is None:
            shape = (self.n,) + rows.shape[1:]
            np.lib.format.write_array_header_1_0(self.file, {
                "descr": np.lib.format.dtype_to_descr(rows.dtype), "fortran_order": False, "shape": shape})
            self.shapes = [shape]
        self.file.write(np.ascontiguousarray(rows).tobytes())

    def close(self):
        self.file.close()


class NpzWriter:
    """Arrays keyed by output name: each streamed to a ``.npy`` beside the target, then zipped."""

    def __init__(self, path, names, n):
        self.path, self.names = path, names
        self.parts = [f"{path}.{i}.npy" for i in range(len(names))]
        self.writers = [NpyWriter(p, [name], n) for p, name in zip(self.parts, names)]

    @property
    def shapes(self):
        return [w.shapes[0] for w in self.writers]

    def write(self, outs):
        for writer, rows in zip(self.writers, outs):
            writer.write([rows])

    def close(self):
        try:
            for writer in self.writers:
                writer.close()
            if all(w.shapes for w in self.writers):
                with zipfile.ZipFile(self.path, "w", allowZip64=True) as archive:
                    for part, name in zip(self.parts, self.names):
                        archive.write(part, f"{name}.npy")
        finally:
            for part in self.parts:
                if os.path.exists(part):
                    os.remove(part)


class CsvWriter:
    """A header of column names (``<output>`` or ``<output>_<i>``), then one line per sample."""

    def __init__(self, path, names, n):
        self.file = open(path, "w", encoding="utf8")
        self.names, self.n = names, n
        self.shapes = None

    def write(self, outs):
        flat = [o.reshape(len(o), -1) for o in outs]
        if self.shapes is None:
            columns = [name if f.shape[1] == 1 else f"{name}_{i}"
                       for name, f in zip(self.names, flat) for i in range(f.shape[1])]
            self.file.write(",".join(columns) + "\n")
            self.shapes = [(self.n,) + o.shape[1:] for o in outs]
        np.savetxt(self.file, np.concatenate(flat, axis=1), delimiter=",", fmt="%.9g")

    def close(self):
        self.file.close()
