"""Shared test setup: real Keras 3 runs on the torch backend, on the CPU, in float32.

``MODELCLI_TEST_CUDA=1`` leaves the GPU visible, so the same tests run modelcli on CUDA
(modelcli picks CUDA by itself when it is there). Keras stays on the CPU even then: its
numbers are the reference, and on the CPU they are exact float32 (its CUDA convolutions
differ from its own CPU ones by up to 1e-4), so the GPU run checks modelcli on CUDA
against Keras as the CPU computes it.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("KERAS_TORCH_DEVICE", "cpu")
if os.environ.get("MODELCLI_TEST_CUDA") != "1":
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _device_chosen_afresh():
    """A test that pins the device (``--device cpu`` through the CLI in-process, ``backend.set_device``)
    must not leave it pinned for the tests that follow in the same process."""
    yield
    from modelcli import backend

    backend.set_device(None)
