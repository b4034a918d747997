"""Optimizers and learning-rate schedules against real Keras 3 (torch backend).

Each parity test starts a Keras optimizer and ours (built from the Keras
optimizer's config) on the same weights, feeds both the same five random
gradient sets, and compares the weights after every step and all optimizer
variables at the end.
"""
import copy
import math

import numpy as np
import pytest
import torch

keras = pytest.importorskip("keras")

from modelcli import optimizers  # noqa: E402
from modelcli.errors import SpecError, WeightsError  # noqa: E402

SHAPES = [(3, 4), (5,), (2, 1, 3)]
NAMES = ["sgd", "rmsprop", "adam", "adamw", "adamax", "nadam", "adagrad", "adadelta"]


def _random(rng, scale=1.0):
    return [(rng.standard_normal(s) * scale).astype("float32") for s in SHAPES]


def _assert_close(ours, theirs, what):
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-7, err_msg=what)


def run_against_keras(keras_optimizer, steps=5, grad_scale=1.0, missing=None, seed=0):
    """Step both optimizers on the same gradients; return ours and its parameters."""
    rng = np.random.default_rng(seed)
    start = _random(rng)
    keras_vars = [keras.Variable(w) for w in start]
    params = [torch.nn.Parameter(torch.tensor(w)) for w in start]
    ours = optimizers.deserialize({"class_name": type(keras_optimizer).__name__,
                                   "config": keras_optimizer.get_config()})
    ours.build(params)
    for step in range(steps):
        grads = _random(rng, grad_scale)
        if missing is not None:
            grads[missing] = None
        keras_optimizer.apply_gradients(
            [(None if g is None else keras.ops.convert_to_tensor(g), v) for g, v in zip(grads, keras_vars)])
        for p, g in zip(params, grads):
            p.grad = None if g is None else torch.tensor(g)
        ours.apply()
        for i, (p, v) in enumerate(zip(params, keras_vars)):
            _assert_close(p.detach(), v.numpy(), f"weight {i} after step {step + 1}")
    theirs = keras_optimizer.variables
    mine = ours.variables
    assert len(mine) == len(theirs)
    assert int(mine[0]) == int(theirs[0].numpy()) == steps
    for k, (a, b) in enumerate(zip(mine[1:], theirs[1:]), start=1):
        assert tuple(a.shape) == tuple(b.shape), f"variable {k} ({b.path})"
        _assert_close(a, b.numpy(), f"variable {k} ({b.path})")
    return ours, params


def _exponential(s):
    return s.ExponentialDecay(0.01, decay_steps=2, decay_rate=0.5)


def _piecewise(s):
    return s.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])


CASES = {
    "sgd": ("SGD", lambda s: {}),
    "sgd-momentum": ("SGD", lambda s: {"momentum": 0.9}),
    "sgd-nesterov": ("SGD", lambda s: {"momentum": 0.9, "nesterov": True}),
    "sgd-weight-decay": ("SGD", lambda s: {"learning_rate": 0.1, "weight_decay": 0.05}),
    "rmsprop": ("RMSprop", lambda s: {}),
    "rmsprop-momentum": ("RMSprop", lambda s: {"momentum": 0.5}),
    "rmsprop-centered": ("RMSprop", lambda s: {"centered": True}),
    "rmsprop-centered-momentum": ("RMSprop", lambda s: {"centered": True, "momentum": 0.9, "rho": 0.8}),
    "adam": ("Adam", lambda s: {}),
    "adam-amsgrad": ("Adam", lambda s: {"amsgrad": True, "learning_rate": 0.01}),
    "adam-weight-decay": ("Adam", lambda s: {"weight_decay": 0.1, "learning_rate": 0.01}),
    "adam-clipnorm": ("Adam", lambda s: {"clipnorm": 1.0}),
    "adam-clipvalue": ("Adam", lambda s: {"clipvalue": 0.5}),
    "adam-global-clipnorm": ("Adam", lambda s: {"global_clipnorm": 1.0}),
    "adam-schedule": ("Adam", lambda s: {"learning_rate": _exponential(s)}),
    "adamw": ("AdamW", lambda s: {}),
    "adamw-amsgrad": ("AdamW", lambda s: {"weight_decay": 0.1, "amsgrad": True, "learning_rate": 0.01}),
    "adamax": ("Adamax", lambda s: {}),
    "adamax-clipvalue": ("Adamax", lambda s: {"clipvalue": 0.3, "beta_2": 0.9}),
    "nadam": ("Nadam", lambda s: {}),
    "nadam-global-clipnorm": ("Nadam", lambda s: {"global_clipnorm": 0.5, "learning_rate": 0.01}),
    "adagrad": ("Adagrad", lambda s: {}),
    "adagrad-accumulator": ("Adagrad", lambda s: {"initial_accumulator_value": 0.5, "learning_rate": 0.1}),
    "adadelta": ("Adadelta", lambda s: {}),
    "adadelta-lr1-clipnorm": ("Adadelta", lambda s: {"learning_rate": 1.0, "clipnorm": 0.7}),
    "sgd-schedule-weight-decay": ("SGD", lambda s: {"learning_rate": _piecewise(s), "momentum": 0.9,
                                                    "weight_decay": 0.1}),
    "adam-ema": ("Adam", lambda s: {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 3}),
    "adam-accumulation": ("Adam", lambda s: {"gradient_accumulation_steps": 2, "learning_rate": 0.01}),
    "nadam-accumulation-ema": ("Nadam", lambda s: {"gradient_accumulation_steps": 2, "use_ema": True}),
    "sgd-loss-scale": ("SGD", lambda s: {"loss_scale_factor": 8.0, "momentum": 0.5}),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_keras_step_by_step(case):
    class_name, kwargs = CASES[case]
    keras_optimizer = getattr(keras.optimizers, class_name)(**kwargs(keras.optimizers.schedules))
    run_against_keras(keras_optimizer, grad_scale=2.0)


def test_parameters_without_gradient_are_left_alone_as_keras_does():
    keras_optimizer = keras.optimizers.SGD(momentum=0.9, weight_decay=0.1)
    with pytest.warns(UserWarning):
        run_against_keras(keras_optimizer, missing=1)


def test_our_constructor_defaults_are_keras_defaults():
    for name in NAMES:
        ours, theirs = optimizers.get(name), keras.optimizers.get(name)
        assert type(ours).__name__ == type(theirs).__name__
        mine, keras_config = ours.get_config(), theirs.get_config()
        assert list(mine) == list(keras_config)
        for key in mine:
            if key == "name":
                continue
            if isinstance(keras_config[key], float):
                assert mine[key] == pytest.approx(keras_config[key], rel=1e-6), (name, key)
            else:
                assert mine[key] == keras_config[key], (name, key)


@pytest.mark.parametrize("identifier", ["adam", "Adam", "ADAM", "rmsprop", "RMSprop", "AdamW", "sgd",
                                        "Custom>Adam"])
def test_get_by_name_is_case_insensitive(identifier):
    expected = identifier.split(">")[-1].lower()
    assert type(optimizers.get(identifier)).__name__.lower() == expected


def test_get_passes_objects_through_and_rebuilds_a_keras_optimizer():
    ours = optimizers.Adam(0.01)
    assert optimizers.get(ours) is ours
    assert optimizers.get(None) is None
    rebuilt = optimizers.get(keras.optimizers.RMSprop(learning_rate=0.5, centered=True))
    assert isinstance(rebuilt, optimizers.RMSprop) and rebuilt.centered
    assert rebuilt.learning_rate == pytest.approx(0.5)
    with pytest.raises(SpecError, match="Could not interpret"):
        optimizers.get(torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1))


ROUND_TRIPS = [
    keras.optimizers.SGD(learning_rate=0.05, momentum=0.8, nesterov=True, clipnorm=2.0),
    keras.optimizers.RMSprop(rho=0.8, momentum=0.1, epsilon=1e-5, centered=True, weight_decay=0.01),
    keras.optimizers.Adam(beta_1=0.8, amsgrad=True, global_clipnorm=3.0, use_ema=True,
                          ema_overwrite_frequency=10),
    keras.optimizers.AdamW(weight_decay=0.02, clipvalue=1.0, gradient_accumulation_steps=4),
    keras.optimizers.Adamax(beta_2=0.99, loss_scale_factor=128.0),
    keras.optimizers.Nadam(epsilon=1e-6, name="my_nadam"),
    keras.optimizers.Adagrad(initial_accumulator_value=0.2),
    keras.optimizers.Adadelta(rho=0.9),
    keras.optimizers.Adam(learning_rate=keras.optimizers.schedules.CosineDecay(
        0.0, 100, alpha=0.1, warmup_target=0.01, warmup_steps=10)),
    keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.PolynomialDecay(0.1, 50, cycle=True)),
]


@pytest.mark.parametrize("keras_optimizer", ROUND_TRIPS, ids=lambda o: type(o).__name__)
def test_config_round_trips_through_keras(keras_optimizer):
    keras_config = keras_optimizer.get_config()
    ours = optimizers.deserialize({"class_name": type(keras_optimizer).__name__, "config": keras_config})
    assert ours.get_config() == keras_config
    back = type(keras_optimizer).from_config(copy.deepcopy(ours.get_config()))
    assert back.get_config() == keras_config
    serialized = optimizers.serialize(ours)
    assert serialized["module"] == "keras.optimizers" and serialized["class_name"] == type(ours).__name__
    assert keras.optimizers.deserialize(copy.deepcopy(serialized)).get_config() == keras_config


def test_keras2_configs_are_read():
    # tf.keras 2.11+ in an .h5 training_config
    adam = optimizers.get({"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": False,
        "is_legacy_optimizer": False, "learning_rate": 0.0010000000474974513, "beta_1": 0.9,
        "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}})
    assert isinstance(adam, optimizers.Adam) and adam.learning_rate == pytest.approx(1e-3)
    # tf.keras legacy optimizer
    sgd = optimizers.get({"class_name": "SGD", "config": {
        "name": "SGD", "learning_rate": 0.01, "decay": 0.0, "momentum": 0.9, "nesterov": True}})
    assert sgd.momentum == 0.9 and sgd.nesterov
    # standalone Keras 2.2: `lr`
    rms = optimizers.get({"class_name": "RMSprop", "config": {"lr": 0.002, "rho": 0.9, "decay": 0.0,
                                                                "epsilon": None}})
    assert rms.learning_rate == 0.002 and rms.epsilon == 1e-7


@pytest.mark.parametrize("config, key", [
    ({"learning_rate": 0.1, "decay": 1e-4}, "decay"),
    ({"lr": 0.1, "learning_rate": 0.1}, "lr"),
    ({"momentun": 0.9}, "momentun"),
])
def test_keras2_settings_we_cannot_honour_are_refused_by_key(config, key):
    with pytest.raises(SpecError, match=key) as err:
        optimizers.get({"class_name": "SGD", "config": config})
    assert err.value.where == f"config.{key}"


def test_refusals_name_the_problem():
    with pytest.raises(SpecError, match="schedule_decay"):
        optimizers.get({"class_name": "Nadam", "config": {"lr": 0.002, "schedule_decay": 0.004}})
    with pytest.raises(SpecError, match="did you mean 'momentum'"):
        optimizers.get({"class_name": "SGD", "config": {"momentun": 0.9}})
    with pytest.raises(SpecError, match="unknown optimizer 'adamm'"):
        optimizers.get("adamm")
    with pytest.raises(SpecError, match="Only one of"):
        optimizers.Adam(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(SpecError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(SpecError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(SpecError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(SpecError, match="gradient_accumulation_steps"):
        optimizers.Adam(gradient_accumulation_steps=1)


SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.5, staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[10, 20, 50], values=[1.0, 0.5, 0.1, 0.01])),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=True)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=40)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=40, end_learning_rate=0.01, power=0.5,
                             cycle=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=60)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=60, alpha=0.2)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=60, warmup_target=0.2, warmup_steps=15)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=10, t_mul=1.0, m_mul=0.5,
                                 alpha=0.1)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4, t_mul=3.0, m_mul=0.8)),
]
STEPS = [0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 15, 16, 20, 21, 30, 40, 45, 50, 51, 60, 70, 75, 100, 1000]


@pytest.mark.parametrize("class_name, kwargs", SCHEDULES, ids=[s[0] for s in SCHEDULES])
def test_schedules_match_keras(class_name, kwargs):
    theirs = getattr(keras.optimizers.schedules, class_name)(**kwargs)
    ours = optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(theirs))
    for step in STEPS:
        expected = float(theirs(step))
        assert ours(step) == pytest.approx(expected, rel=1e-6, abs=1e-9), step
        as_tensor = ours(torch.tensor(step))
        assert isinstance(as_tensor, torch.Tensor) and float(as_tensor) == pytest.approx(expected, rel=1e-6,
                                                                                         abs=1e-9)
    assert ours.get_config() == theirs.get_config()
    assert optimizers.schedules.serialize(ours) == keras.optimizers.schedules.serialize(theirs)


def test_schedule_get_and_errors():
    schedule = optimizers.schedules.get({"class_name": "ExponentialDecay", "config": {
        "initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.9}})
    assert optimizers.schedules.get(schedule) is schedule
    assert schedule(10) == pytest.approx(0.09)
    with pytest.raises(SpecError, match="decay_steps"):
        optimizers.schedules.ExponentialDecay(0.1, 0, 0.9)
    with pytest.raises(SpecError, match="boundaries"):
        optimizers.schedules.PiecewiseConstantDecay([1, 2], [0.1])
    with pytest.raises(SpecError, match="unknown learning rate schedule"):
        optimizers.schedules.get({"class_name": "ExpDecay", "config": {}})


def test_learning_rate_follows_the_schedule_and_is_settable_when_a_float():
    scheduled = optimizers.SGD(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 1, 0.5))
    param = torch.nn.Parameter(torch.zeros(2))
    scheduled.build([param])
    for step in range(3):
        assert scheduled.learning_rate == pytest.approx(0.1 * 0.5 ** step)
        scheduled.apply([torch.ones(2)])
    assert scheduled.iterations == 3
    with pytest.raises(TypeError, match="not settable"):
        scheduled.learning_rate = 0.01
    plain = optimizers.Adam()
    plain.learning_rate = 0.25  # ReduceLROnPlateau and LearningRateScheduler do this
    assert plain.learning_rate == 0.25 and plain.get_config()["learning_rate"] == 0.25


def test_apply_with_a_gradient_list_leaves_the_gradients_alone():
    params = [torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2, 2))]
    grads = [torch.full((3,), 5.0), torch.full((2, 2), -5.0)]
    kept = [g.clone() for g in grads]
    optimizer = optimizers.SGD(learning_rate=0.1, clipvalue=1.0, weight_decay=0.5)
    optimizer.build(params)
    optimizer.apply(grads)
    assert all(torch.equal(g, k) for g, k in zip(grads, kept))
    # w·(1 − 0.5·0.1) − 0.1·clip(g)
    np.testing.assert_allclose(params[0].detach(), np.full(3, 0.95 - 0.1), rtol=1e-6)
    np.testing.assert_allclose(params[1].detach(), np.full((2, 2), 0.95 + 0.1), rtol=1e-6)


def test_apply_gradients_builds_and_matches_apply():
    grads = [torch.tensor([1.0, -2.0]), torch.tensor([[0.5]])]
    first = [torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.ones(1, 1))]
    second = [torch.nn.Parameter(p.detach().clone()) for p in first]
    by_pairs, by_list = optimizers.Adam(), optimizers.Adam()
    assert by_pairs.apply_gradients(zip(grads, first)) == 1 and by_pairs.built
    by_list.build(second)
    by_list.apply(grads)
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    with pytest.raises(ValueError, match="built with"):
        by_pairs.apply_gradients([(grads[0], torch.nn.Parameter(torch.zeros(2)))])


RESUMABLE = [
    lambda: optimizers.SGD(momentum=0.9, nesterov=True),
    lambda: optimizers.RMSprop(centered=True, momentum=0.5),
    lambda: optimizers.Adam(amsgrad=True, weight_decay=0.01),
    lambda: optimizers.AdamW(learning_rate=optimizers.schedules.CosineDecay(0.01, 10)),
    lambda: optimizers.Adamax(),
    lambda: optimizers.Nadam(gradient_accumulation_steps=2, use_ema=True),
    lambda: optimizers.Adagrad(clipnorm=1.0),
    lambda: optimizers.Adadelta(global_clipnorm=1.0),
]


@pytest.mark.parametrize("make", RESUMABLE, ids=lambda m: type(m()).__name__)
def test_state_resume_continues_bit_exactly(make):
    rng = np.random.default_rng(1)
    grads = [[torch.tensor(g) for g in _random(rng)] for _ in range(7)]
    params = [torch.nn.Parameter(torch.tensor(w)) for w in _random(rng)]
    optimizer = make()
    optimizer.build(params)
    for g in grads[:3]:
        optimizer.apply(g)
    state = optimizer.get_state()
    saved = [p.detach().clone() for p in params]
    for g in grads[3:]:
        optimizer.apply(g)

    # Resume from plain numbers and arrays, as a checkpoint file would hold them.
    plain = {k: [t.numpy() for t in v] if isinstance(v, list) else v for k, v in state.items()}
    assert all(isinstance(v, (int, float, list)) for v in plain.values())
    resumed_params = [torch.nn.Parameter(w.clone()) for w in saved]
    resumed = make()
    resumed.build(resumed_params)
    resumed.set_state(plain)
    assert resumed.get_state()["iterations"] == 3
    for g in grads[3:]:
        resumed.apply(g)
    for a, b in zip(params, resumed_params):
        assert torch.equal(a, b)
    assert resumed._iterations == optimizer._iterations


def test_set_state_refuses_a_state_that_does_not_fit():
    optimizer = optimizers.Adam()
    optimizer.build([torch.nn.Parameter(torch.zeros(3))])
    state = optimizer.get_state()
    with pytest.raises(WeightsError, match="missing"):
        optimizer.set_state({k: v for k, v in state.items() if k != "velocity"})
    state["momentum"] = [np.zeros(4, "float32")]
    with pytest.raises(WeightsError, match="shape"):
        optimizer.set_state(state)


def test_set_weights_takes_the_variables_keras_holds():
    rng = np.random.default_rng(2)
    start = _random(rng)
    keras_vars = [keras.Variable(w) for w in start]
    theirs = keras.optimizers.Nadam(learning_rate=0.01)
    for _ in range(3):
        theirs.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in _random(rng)], keras_vars))
    params = [torch.nn.Parameter(torch.tensor(v.numpy())) for v in keras_vars]
    ours = optimizers.Nadam(learning_rate=0.01)
    ours.build(params)
    ours.set_weights([v.numpy() for v in theirs.variables])
    assert ours.iterations == 3
    grads = _random(rng)
    theirs.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in grads], keras_vars))
    ours.apply([torch.tensor(g) for g in grads])
    for p, v in zip(params, keras_vars):
        _assert_close(p.detach(), v.numpy(), "weight after resuming from Keras's variables")


def test_excluded_parameters_get_no_weight_decay():
    kernel, bias = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = optimizers.AdamW(weight_decay=0.5, learning_rate=0.1)
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    optimizer.build([kernel, bias], names=["kernel", "bias"])
    optimizer.apply([torch.zeros(2), torch.zeros(2)])
    np.testing.assert_allclose(kernel.detach(), [0.95, 0.95], rtol=1e-6)
    np.testing.assert_allclose(bias.detach(), [1.0, 1.0])


def test_finalize_with_ema_writes_the_average():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.5)
    optimizer.build([param])
    optimizer.apply([torch.tensor([-2.0])])  # w = 2, average = 2 (first step copies)
    optimizer.apply([torch.tensor([-2.0])])  # w = 4, average = 0.5·2 + 0.5·4 = 3
    optimizer.finalize_variable_values()
    assert param.item() == pytest.approx(3.0)
    assert math.isclose(optimizer.get_state()["average"][0].item(), 3.0)
