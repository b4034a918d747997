"""``modelcli predict`` on a .npy bigger than the memory its process may use.

The process gets an address-space limit (``RLIMIT_AS``) of what a predict of a small file
peaks at plus half the big file's size: loading the big file, or even mapping it whole,
cannot fit. The rows must stream from disk and the predictions stream to disk.
"""
import os
import resource
import shutil
import subprocess
import sys

import numpy as np
import pytest

import modelcli as keras

ROWS, FEATURES = 1 << 20, 64  # 256 MiB of float32
BATCH = 8192

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")

# Runs `modelcli predict ARGS...` in-process, then loads LOAD whole ("-": nothing), as a predict
# that does not stream would; prints the process's peak address space.
PEAK = """
import sys, numpy as np
from modelcli.cli import main
try:
    main(sys.argv[2:], standalone_mode=False)
    if sys.argv[1] != "-":
        np.load(sys.argv[1])
except MemoryError:
    sys.exit(3)
peak = [l for l in open('/proc/self/status') if l.startswith('VmPeak:')][0]
print(int(peak.split()[1]) * 1024)
"""


def _limited(limit):
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _model(folder):
    model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    path = str(folder / "model.keras")
    model.save(path)
    return model, path


def _write_rows(path, rows):
    """A .npy of random rows, written a slab at a time through a memory map."""
    array = np.lib.format.open_memmap(path, mode="w+", dtype="float32", shape=(rows, FEATURES))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 1 << 16):
        array[start:start + (1 << 16)] = rng.random((min(1 << 16, rows - start), FEATURES), dtype="float32")
    array.flush()
    del array


def test_a_npy_bigger_than_the_memory_limit_predicts_through_modelcli(tmp_path):
    executable = shutil.which("modelcli")
    assert executable, "the modelcli executable is not on PATH (pip install -e .)"
    model, model_path = _model(tmp_path)
    small, big, out = (str(tmp_path / name) for name in ("small.npy", "big.npy", "out.npy"))
    _write_rows(small, 4 * BATCH)
    _write_rows(big, ROWS)
    file_size = os.path.getsize(big)
    assert file_size >= 256 << 20

    args = ["predict", model_path, "--input", small, "--batch-size", str(BATCH), "-o", str(tmp_path / "s.npy")]
    baseline = int(subprocess.run([sys.executable, "-c", PEAK, "-", *args],
                                  capture_output=True, text=True, check=True).stdout.split()[-1])
    limit = baseline + file_size // 2

    # The limit bites: the same process cannot also hold the big file.
    control = subprocess.run([sys.executable, "-c", PEAK, big, *args],
                             capture_output=True, text=True, preexec_fn=_limited(limit))
    assert control.returncode == 3, ("the memory limit should stop a whole load", control.stderr)

    result = subprocess.run([executable, "predict", model_path, "--input", big, "--output", out,
                             "--batch-size", str(BATCH)],
                            capture_output=True, text=True, preexec_fn=_limited(limit), timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout

    predictions = np.load(out, mmap_mode="r")
    rows = np.load(big, mmap_mode="r")
    assert predictions.shape == (ROWS, 10) and predictions.dtype == np.float32
    for start in (0, ROWS // 2, ROWS - 4 * BATCH):  # slabs at the start, middle and end
        expected = model.predict(np.array(rows[start:start + 4 * BATCH]), batch_size=BATCH)
        np.testing.assert_array_equal(predictions[start:start + 4 * BATCH], expected)
    assert np.allclose(predictions[::997].sum(axis=1), 1.0, atol=1e-5)
