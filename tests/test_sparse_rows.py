"""Embedding tables train with row-sparse gradients where the optimizer allows it
(trainer/sparse_rows.py): the same History and weights as the dense update, and dense
gradients everywhere else."""
import numpy as np
import pytest
import torch

import modelcli
from modelcli import backend, layers, optimizers
from modelcli.trainer import sparse_rows


@pytest.fixture(autouse=True)
def on_the_cpu():
    """Row-sparse updates are a CPU path (on CUDA the dense backward is cheap): pin the CPU on GPU hosts too."""
    backend.set_device("cpu")
    yield
    backend.set_device(None)


def text_model(embedding_kwargs=None):
    modelcli.utils.set_random_seed(3)
    return modelcli.Sequential([modelcli.Input((12,), dtype="int32"),
                                layers.Embedding(60, 8, mask_zero=True, **(embedding_kwargs or {})),
                                layers.LSTM(5), layers.Dense(1, activation="sigmoid")])


def data():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 60, (70, 12)).astype("int32")
    x[:, 9:] = 0  # padding, so mask_zero has work to do
    return x, rng.integers(0, 2, (70, 1)).astype("float32")


def train(optimizer, sparse=True, embedding_kwargs=None, **compile_kwargs):
    x, y = data()
    model = text_model(embedding_kwargs)
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"], **compile_kwargs)
    sparse_rows.ENABLED = sparse
    try:
        history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0, shuffle=True)
    finally:
        sparse_rows.ENABLED = True
    return model, history.history


SPARSE_CAPABLE = [
    lambda: optimizers.RMSprop(learning_rate=0.01),
    lambda: optimizers.SGD(learning_rate=0.5),
    lambda: optimizers.Adagrad(learning_rate=0.3),
]


@pytest.mark.parametrize("make", SPARSE_CAPABLE, ids=["rmsprop", "sgd", "adagrad"])
def test_row_sparse_training_equals_the_dense_update(make, monkeypatch):
    calls = []
    step = type(make()).sparse_update_step
    monkeypatch.setattr(type(make()), "sparse_update_step",
                        lambda self, rows, *rest: calls.append(len(rows)) or step(self, rows, *rest))
    model, history = train(make())
    dense_model, dense_history = train(make(), sparse=False)
    assert calls and max(calls) < 60  # the sparse update ran, on the rows a batch touched
    assert history.keys() == dense_history.keys()
    for key in history:
        np.testing.assert_allclose(history[key], dense_history[key], rtol=1e-6, err_msg=key)
    for ours, theirs in zip(model.get_weights(), dense_model.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("optimizer, embedding_kwargs, compile_kwargs", [
    (lambda: optimizers.Adam(), None, {}),  # Adam moves every row every step
    (lambda: optimizers.RMSprop(momentum=0.9), None, {}),
    (lambda: optimizers.RMSprop(centered=True), None, {}),
    (lambda: optimizers.SGD(momentum=0.9), None, {}),
    (lambda: optimizers.RMSprop(clipnorm=1.0), None, {}),  # clipping needs the whole gradient
    (lambda: optimizers.SGD(weight_decay=0.01), None, {}),
    (lambda: optimizers.RMSprop(), {"embeddings_regularizer": "l2"}, {}),  # a dense gradient adds in
    (lambda: optimizers.RMSprop(), None, {"jit_compile": True}),
], ids=["adam", "rmsprop-momentum", "rmsprop-centered", "sgd-momentum", "clipnorm", "weight-decay",
        "regularized-table", "jit-compile"])
def test_the_dense_update_stays_where_rows_without_gradient_still_move(optimizer, embedding_kwargs,
                                                                       compile_kwargs):
    x, y = data()
    model = text_model(embedding_kwargs)
    model.compile(optimizer=optimizer(), loss="binary_crossentropy", **compile_kwargs)
    model.fit(x[:16], y[:16], epochs=1, verbose=0)
    assert list(model._sparse_embeddings) == []


def test_several_devices_keep_the_table_dense(monkeypatch):
    """The replicas' all-reduce sums dense gradients, so a worker of a DDP run never plans sparse rows."""
    from modelcli.distributed import context

    model = text_model()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    model._prepare_training()
    assert sparse_rows.plan(model) == [model.layers[0]]
    monkeypatch.setattr(context, "_world", context.World(rank=1, size=2))
    assert sparse_rows.plan(model) == []


def test_the_table_is_chosen_and_a_users_own_loop_still_gets_dense_gradients():
    x, y = data()
    model = text_model()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    assert list(model._sparse_embeddings) == [model.layers[0]]
    model(torch.from_numpy(x[:4]), training=True).sum().backward()
    assert not model.layers[0].embeddings.grad.is_sparse


def test_an_optimizer_that_cannot_apply_a_sparse_gradient_says_so():
    table = torch.nn.Parameter(torch.zeros(10, 3))
    optimizer = optimizers.Adam()
    optimizer.build([table])
    gradient = torch.sparse_coo_tensor(torch.tensor([[1, 4]]), torch.ones(2, 3), (10, 3))
    with pytest.raises(ValueError, match="cannot apply a sparse gradient"):
        optimizer.apply([gradient])
