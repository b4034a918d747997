"""Prefetching host batches to the GPU (trainer/prefetch.py): when it happens, and its one-ahead order."""
import torch

from modelcli.trainer.prefetch import one_ahead, staged

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def test_only_host_data_training_on_cuda_is_prefetched():
    assert staged(CPU, CUDA)
    assert not staged(CUDA, CUDA)  # it fit on the device: batches are cut there
    assert not staged(CPU, CPU)
    assert not staged(CPU, None)


def test_the_next_batch_is_sent_before_the_current_one_is_handed_out():
    events = []

    def send(item):
        events.append(f"send {item}")
        return item

    def receive(item):
        events.append(f"receive {item}")
        return item * 10

    assert list(one_ahead(range(3), send, receive)) == [0, 10, 20]
    assert events == ["send 0", "send 1", "receive 0", "send 2", "receive 1", "receive 2"]
    assert list(one_ahead([], send, receive)) == []
