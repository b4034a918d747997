"""Host arrays sent to the device through two chunk buffers (trainer/upload.py), exercised CPU to CPU."""
import numpy as np
import pytest
import torch

from modelcli.trainer import upload

CPU = torch.device("cpu")


@pytest.mark.parametrize("shape, dtype, chunk_bytes", [
    ((1000, 7), torch.float32, 4 * 64),    # 110 chunks, the last one short
    ((3, 5, 5, 2), torch.int64, 8 * 150),  # exactly one chunk
    ((10,), torch.uint8, 3),               # chunks of 3 bytes
    ((4, 2), torch.float64, 1 << 20),      # a buffer larger than the array
])
def test_the_chunked_copy_is_the_array(shape, dtype, chunk_bytes):
    tensor = torch.from_numpy(np.random.default_rng(0).integers(0, 100, shape)).to(dtype)
    copied = upload.chunked_copy(tensor, CPU, chunk_bytes, pin=False)
    assert copied.shape == tensor.shape and copied.dtype == tensor.dtype
    assert copied.data_ptr() != tensor.data_ptr()
    assert torch.equal(copied, tensor)


def test_a_strided_view_is_copied_in_its_logical_order():
    tensor = torch.arange(60.0).reshape(6, 10)[:, ::3]
    assert torch.equal(upload.chunked_copy(tensor, CPU, 8, pin=False), tensor)


def test_only_large_host_arrays_bound_for_cuda_go_in_chunks():
    cuda = torch.device("cuda")
    big = torch.zeros(2 * upload.CHUNK_BYTES // 4, dtype=torch.float32)
    assert upload.chunked(big, cuda)
    assert not upload.chunked(big[:-1], cuda)  # under two chunks: one plain copy
    assert not upload.chunked(big, CPU)
    assert upload.to_device(big, CPU) is big  # to the CPU: nothing to send
