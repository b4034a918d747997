"""Shared test setup: real Keras 3 runs on the torch backend, on the CPU, in float32.

``MODELCLI_TEST_CUDA=1`` leaves the GPU visible, so the same tests run modelcli on CUDA
(modelcli picks CUDA by itself when it is there).
"""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")
if os.environ.get("MODELCLI_TEST_CUDA") != "1":
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(0)
