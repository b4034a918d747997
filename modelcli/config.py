"""Training configs: one YAML or JSON file that says what to train, on what, and how.

    name: seed-mlp
    seed: 42
    model: model.json          # a path (.json/.yaml/.keras/.h5) or an inline {class_name, config} spec
    weights: start.weights.h5  # optional
    compile: {optimizer: rmsprop, loss: binary_crossentropy, metrics: [accuracy]}
    data: {train: {x: x.npy, y: y.npy}, validation: ..., test: ...}
    fit: {epochs: 20, batch_size: 128}
    callbacks: [{class_name: EarlyStopping, config: {patience: 3}}]
    device: cpu

The whole file is checked before any work starts: an unknown key gets a "did you mean",
a wrong type names its key path and line, a missing file names the path it looked for.
``--set fit.epochs=5`` overrides (values parsed as YAML) apply before the check and are
recorded under ``overrides``. Paths are relative to the config file; ``to_dict()`` makes
them absolute, so a run folder's ``config.yaml`` works from anywhere. Parsing a config
never imports torch.
"""
from __future__ import annotations

import os
import re

from .errors import ConfigError, ModelcliError, did_you_mean
from .mixed_precision.policy import dtype_policy, set_dtype_policy  # noqa: F401  (keras.config's names)

SECTIONS = ("name", "seed", "device", "model", "weights", "compile", "fit", "data", "callbacks", "overrides")
COMPILE_KEYS = ("optimizer", "loss", "metrics", "loss_weights", "weighted_metrics", "run_eagerly",
                "steps_per_execution", "jit_compile")
SPLITS = ("train", "validation", "test")
# fit.mixed_precision: the dtype policy the whole model trains with (not a fit() argument)
MIXED_PRECISION = ("mixed_bfloat16", "mixed_float16", "float32")
MODEL_SUFFIXES = (".json", ".yaml", ".yml", ".keras", ".h5", ".hdf5")
# fit() arguments a config does not give directly: they come from other sections.
_FIT_ELSEWHERE = {"x": "data.train.x", "y": "data.train.y", "sample_weight": "data.train.sample_weight",
                  "validation_data": "data.validation", "callbacks": "the top-level callbacks list"}
# Callback arguments that name files: relative ones go inside the run folder.
_CALLBACK_PATHS = {"ModelCheckpoint": "filepath", "CSVLogger": "filename", "BackupAndRestore": "backup_dir",
                   "TensorBoard": "log_dir"}


def _positive_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _optional_positive_int(v):
    return v is None or _positive_int(v)


def _non_negative_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _boolean(v):
    return isinstance(v, bool)


def _validation_split(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v < 1


def _validation_freq(v):
    return _positive_int(v) or (isinstance(v, list) and bool(v) and all(_positive_int(e) for e in v))


def _shuffle(v):
    return isinstance(v, bool) or v == "batch"


def _verbose(v):
    return v in ("auto", 0, 1, 2) and not isinstance(v, bool)


def _class_weight(v):
    return isinstance(v, dict) and all(
        isinstance(k, int) and not isinstance(k, bool) and isinstance(w, (int, float)) and not isinstance(w, bool)
        for k, w in v.items())


class _OneOf:
    """A check for one of a few names; ``_expect`` turns a near miss into a did-you-mean."""

    def __init__(self, choices):
        self.choices = choices

    def __call__(self, value) -> bool:
        return value in self.choices


# fit argument -> (check, what it expects)
FIT_ARGUMENTS = {
    "epochs": (_positive_int, "a positive integer"),
    "batch_size": (_optional_positive_int, "a positive integer"),
    "verbose": (_verbose, "0, 1, 2 or 'auto'"),
    "validation_split": (_validation_split, "a number in [0, 1)"),
    "shuffle": (_shuffle, "true, false or 'batch'"),
    "class_weight": (_class_weight, "a mapping of class index to weight, e.g. {0: 1.0, 1: 3.0}"),
    "initial_epoch": (_non_negative_int, "a non-negative integer"),
    "steps_per_epoch": (_optional_positive_int, "a positive integer"),
    "validation_steps": (_optional_positive_int, "a positive integer"),
    "validation_batch_size": (_optional_positive_int, "a positive integer"),
    "validation_freq": (_validation_freq, "a positive integer or a list of epochs"),
    "max_queue_size": (_positive_int, "a positive integer"),
    "workers": (_positive_int, "a positive integer"),
    "use_multiprocessing": (_boolean, "true or false"),
    "mixed_precision": (_OneOf(MIXED_PRECISION), " or ".join(MIXED_PRECISION)),
}


# ----- the parsed file: values and where each key path sits ------------------------------------------
class Document:
    """A config's data plus the line of every key path, and which paths ``--set`` gave."""

    def __init__(self, data, path, lines=None):
        self.data = data
        self.path = path
        self.lines = lines or {}
        self.overridden = {}  # key path -> "--set expression"

    def place(self, keypath) -> str:
        """``file: key.path (line N)``, or ``(from --set ...)`` for an overridden value."""
        keypath = tuple(keypath)
        text = format_keypath(keypath)
        for n in range(len(keypath), 0, -1):
            if keypath[:n] in self.overridden:
                return f"{self.path}: {text} (from --set {self.overridden[keypath[:n]]})"
        for n in range(len(keypath), 0, -1):
            line = self.lines.get(keypath[:n])
            if line is not None:
                return f"{self.path}: {text} (line {line})"
        return f"{self.path}: {text}" if text else self.path

    def error(self, keypath, message, hint=None) -> ConfigError:
        return ConfigError(message, where=self.place(keypath), hint=hint)

    def relocate(self, err: ModelcliError, prefix=()) -> ModelcliError:
        """An error raised with a key path (``compile.optimizer``, ``model.config.layers[2]``) now
        also names this file and the line."""
        keypath = tuple(prefix) + parse_keypath(err.where or "")
        err.where = self.place(keypath)
        err.args = (err.format(),)
        return err


def format_keypath(keypath) -> str:
    text = ""
    for part in keypath:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_keypath(text: str) -> tuple:
    """``model.config.layers[2].units`` or ``callbacks.0.config`` → ('model', 'config', 'layers', 2, 'units')."""
    parts = []
    for piece in text.split("."):
        match = re.fullmatch(r"([^\[\]]*)((?:\[\d+\])*)", piece.strip())
        if not match:
            return tuple(parts)
        name, indexes = match.groups()
        if name:
            parts.append(int(name) if name.isdigit() else name)
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", indexes))
    return tuple(parts)


def parse_text(text: str, path: str) -> Document:
    """YAML (``safe_load`` rules) or JSON, with the line of each key and of any syntax error."""
    import yaml

    if text.lstrip().startswith("{"):
        import json
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"invalid JSON at line {err.lineno}, column {err.colno}: {err.msg}", where=path,
                              hint="check the brackets, quotes and commas around that place") from None
        try:
            lines = _lines(yaml.SafeLoader(text).get_single_node())
        except yaml.YAMLError:  # valid JSON that PyYAML's YAML 1.1 reader does not take: no line numbers
            lines = {}
        return Document(data, path, lines)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        place = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(f"invalid YAML{place}: {problem}", where=path,
                          hint="indent with spaces and put a space after each ':'") from None
    finally:
        loader.dispose()
    return Document(data, path, _lines(node, path=path))


def _lines(node, keypath=(), out=None, path=None):
    """The 1-based line of every key path under ``node``; a key given twice is an error."""
    import yaml

    out = {} if out is None else out
    if isinstance(node, yaml.MappingNode):
        seen = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen and path is not None:
                raise ConfigError(f"'{key}' is given twice, at lines {seen[key]} and {line}",
                                  where=f"{path}: {format_keypath(keypath + (key,))} (line {line})",
                                  hint="keep one of them")
            seen[key] = line
            out[keypath + (key,)] = line
            _lines(value_node, keypath + (key,), out, path)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            out[keypath + (i,)] = item.start_mark.line + 1
            _lines(item, keypath + (i,), out, path)
    return out


def _key(node):
    value = node.value
    if node.tag.endswith(":int"):
        try:
            return int(value)
        except ValueError:
            return value
    return value


# ----- --set overrides -------------------------------------------------------------------------------
def parse_override(text: str):
    """``fit.epochs=5`` → (('fit', 'epochs'), 5); the value is read as YAML."""
    import yaml

    key, sep, value = text.partition("=")
    keypath = parse_keypath(key.strip())
    if not sep or not key.strip() or not keypath or format_keypath(keypath) != _canonical(key.strip()):
        raise ConfigError(f"cannot read the override '{text}'", where="--set",
                          hint="write KEY.PATH=VALUE, e.g. --set fit.epochs=5 or --set callbacks[0].config.patience=2")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as err:
        raise ConfigError(f"the value '{value}' is not valid YAML ({getattr(err, 'problem', err)})",
                          where=f"--set {text}", hint="quote strings that hold ':' or '#'") from None
    return keypath, parsed


def _canonical(key: str) -> str:
    return format_keypath(parse_keypath(key))


def apply_override(document: Document, text: str) -> None:
    keypath, value = parse_override(text)
    if not isinstance(document.data, dict):
        return
    node = document.data
    for i, part in enumerate(keypath[:-1]):
        nxt = keypath[i + 1]
        child = _child(node, part, document, keypath[:i + 1], text)
        if isinstance(child, str) and nxt in ("config", "class_name"):
            # --set compile.optimizer.config.learning_rate=0.01 on `optimizer: rmsprop`
            child = {"class_name": child, "config": {}}
        elif child is None:
            child = [] if isinstance(nxt, int) else {}
        elif not isinstance(child, (dict, list)):
            raise ConfigError(f"cannot set '{format_keypath(keypath[i + 1:])}' inside a {type(child).__name__} "
                              f"value ({child!r})", where=f"--set {text}",
                              hint=f"{format_keypath(keypath[:i + 1])} is not a mapping")
        _put(node, part, child, document, keypath[:i + 1], text)
        node = child
    _put(node, keypath[-1], value, document, keypath, text)
    document.overridden[keypath] = text


def _child(node, part, document, keypath, text):
    if isinstance(node, list):
        if not isinstance(part, int) or part >= len(node):
            raise _bad_index(node, keypath, text)
        return node[part]
    return node.get(part)


def _put(node, part, value, document, keypath, text):
    if isinstance(node, list):
        if not isinstance(part, int) or part > len(node):
            raise _bad_index(node, keypath, text)
        if part == len(node):
            node.append(value)
        else:
            node[part] = value
    elif isinstance(part, int):
        raise ConfigError(f"'{format_keypath(keypath[:-1])}' is a mapping, not a list", where=f"--set {text}")
    else:
        node[part] = value


def _bad_index(node, keypath, text):
    return ConfigError(f"'{format_keypath(keypath[:-1])}' is a list of {len(node)}; "
                       f"'{format_keypath(keypath)}' is not in it", where=f"--set {text}",
                       hint=f"use an index from 0 to {len(node)} ({len(node)} appends)")


# ----- the checked config ----------------------------------------------------------------------------
class TrainConfig:
    """A checked training config. Paths are absolute; ``to_dict()`` is what a run folder records."""

    def __init__(self, document: Document, overrides=()):
        data = document.data
        self.document = document
        self.path = os.path.abspath(document.path)
        self.base_dir = os.path.dirname(self.path)
        self.overrides = list(data.get("overrides") or []) + list(overrides)
        self.name = data.get("name") or os.path.splitext(os.path.basename(document.path))[0]
        self.seed = data.get("seed")
        self.device = data.get("device")
        self.model = self._resolve(data["model"]) if isinstance(data["model"], str) else data["model"]
        self.weights = self._resolve(data.get("weights"))
        self.compile = dict(data.get("compile") or {})
        self.fit = dict(data.get("fit") or {})
        self.data = {split: _resolve_split(spec, self._resolve)
                     for split, spec in (data.get("data") or {}).items() if spec is not None}
        self.callbacks = list(data.get("callbacks") or [])

    def _resolve(self, path):
        if path is None:
            return None
        return os.path.normpath(os.path.join(self.base_dir, os.path.expanduser(path)))

    # --- what a run folder records ---
    def to_dict(self) -> dict:
        out = {"name": self.name, "seed": self.seed, "device": self.device, "model": self.model,
               "weights": self.weights, "compile": self.compile, "fit": self.fit, "data": self.data,
               "callbacks": self.callbacks}
        if self.overrides:
            out["overrides"] = list(self.overrides)
        return {k: v for k, v in out.items() if v is not None and v != {} and v != []}

    def to_yaml(self) -> str:
        import yaml
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None, width=100)

    # --- building (these import torch) ---
    def build_model(self):
        """The model with its starting weights (``weights:``), as the config describes it."""
        from .models import load_model
        from .models.spec import model_from_config
        from .errors import SpecError

        if isinstance(self.model, str):
            model = load_model(self.model)
        else:
            try:
                model = model_from_config(self.model, where="model")
            except SpecError as err:
                raise self.document.relocate(err) from None
        if self.fit.get("mixed_precision"):
            from .mixed_precision.autocast import set_model_policy
            set_model_policy(model, self.fit["mixed_precision"])
        if self.weights:
            model.load_weights(self.weights)
        return model

    def compile_model(self, model):
        from . import optimizers
        from .errors import SpecError

        arguments = dict(self.compile)
        try:
            arguments["optimizer"] = optimizers.get(arguments.get("optimizer", "rmsprop"), where="optimizer")
            arguments["loss"] = _losses(arguments.get("loss"))
            model.compile(**arguments)
        except SpecError as err:
            raise self.document.relocate(err, ("compile",)) from None
        return model

    def callbacks_objects(self, run_dir=None):
        """The ``callbacks`` list as Callback objects; relative file arguments go into ``run_dir``."""
        from .callbacks import deserialize
        from .errors import SpecError

        objects = []
        for i, entry in enumerate(self.callbacks):
            entry = {"class_name": entry} if isinstance(entry, str) else entry
            arguments = dict(entry.get("config") or {})
            key = _CALLBACK_PATHS.get(entry.get("class_name"))
            if run_dir and key and isinstance(arguments.get(key), str):
                arguments[key] = os.path.join(run_dir, arguments[key])
            try:
                objects.append(deserialize({**entry, "config": arguments}, where=f"callbacks[{i}]"))
            except SpecError as err:
                raise self.document.relocate(err) from None
        return objects


def _losses(loss):
    """The loss (or one per output) resolved here, so a bad name is reported at its key path."""
    from . import losses

    if isinstance(loss, dict) and "class_name" not in loss:
        return {name: losses.get(value, where=f"loss.{name}") for name, value in loss.items()}
    if isinstance(loss, list):
        return [losses.get(value, where=f"loss[{i}]") for i, value in enumerate(loss)]
    return losses.get(loss, where="loss")


def _resolve_split(spec, resolve):
    """Every file name in a data split, absolute (``file.npz:key`` keeps its key)."""
    from .data import split_source

    def source(value):
        if isinstance(value, str):
            path, key = split_source(value)
            return resolve(path) + (f":{key}" if key is not None else "")
        if isinstance(value, list):
            return [source(v) for v in value]
        if isinstance(value, dict):
            return {k: (resolve(v) if k == "path" else source(v) if k not in ("features", "label", "columns")
                        else v) for k, v in value.items()}
        return value

    return source(spec)


# ----- loading and checking ----------------------------------------------------------------------------
def load_config(path, overrides=()) -> TrainConfig:
    """Read, override and check a training config; raises ConfigError naming file, key and line."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError("no such config file", where=path, hint="give the path of a .yaml or .json config")
    if os.path.isdir(path):
        raise ConfigError("is a folder, not a config file", where=path,
                          hint="to continue a run, use: modelcli train --resume RUN")
    try:
        with open(path, encoding="utf8") as f:
            text = f.read()
    except UnicodeDecodeError:
        raise ConfigError("is not a text file (YAML or JSON)", where=path) from None
    document = parse_text(text, path)
    if document.data is None:
        raise ConfigError("the config is empty", where=path, hint="it needs at least model, compile and data")
    if not isinstance(document.data, dict):
        raise ConfigError(f"expected a mapping of sections (model, compile, data, ...), got "
                          f"{_type(document.data)}", where=path)
    for text in overrides:
        apply_override(document, text)
    check(document)
    return TrainConfig(document, overrides)


def check(document: Document) -> None:
    data = document.data
    base = os.path.dirname(os.path.abspath(document.path))
    _check_keys(document, (), data, SECTIONS)
    if "model" not in data or data["model"] is None:
        raise document.error((), "the config has no 'model'",
                             hint="model: a path to a .json/.yaml/.keras/.h5 model, or an inline spec")
    _expect(document, ("name",), data.get("name"), lambda v: v is None or (isinstance(v, str) and v.strip()),
            "a non-empty string")
    _expect(document, ("seed",), data.get("seed"), lambda v: v is None or _non_negative_int(v),
            "a non-negative integer")
    _expect(document, ("device",), data.get("device"),
            lambda v: v is None or (isinstance(v, str) and re.fullmatch(r"cpu|cuda(:\d+)?|mps", v)),
            "'cpu', 'cuda' or 'cuda:N'")
    _expect(document, ("overrides",), data.get("overrides"),
            lambda v: v is None or (isinstance(v, list) and all(isinstance(e, str) for e in v)), "a list of strings")
    _check_model(document, data["model"], base)
    weights = data.get("weights")
    if weights is not None:
        _expect(document, ("weights",), weights, lambda v: isinstance(v, str), "a path to a weights file")
        _check_file(document, ("weights",), weights, base)
    _check_compile(document, data.get("compile"))
    _check_fit(document, data.get("fit"))
    _check_data(document, data.get("data"), data.get("fit") or {}, base)
    _check_callbacks(document, data.get("callbacks"))


def _check_model(document, model, base):
    if isinstance(model, str):
        if not model.lower().endswith(MODEL_SUFFIXES):
            raise document.error(("model",), f"'{model}' is not a model file",
                                 hint="use a .json, .yaml, .keras or .h5 file, or an inline spec")
        _check_file(document, ("model",), model, base)
    elif isinstance(model, dict):
        if "class_name" not in model:
            raise document.error(("model",), f"an inline model needs class_name and config; it has "
                                 f"{', '.join(map(str, model)) or 'nothing'}",
                                 hint="paste what model.to_json() or to_yaml() writes, or give a path")
    else:
        raise document.error(("model",), f"expected a path or an inline spec, got {_show(model)}")


def _check_compile(document, section):
    if section is None:
        raise document.error((), "the config has no 'compile' section",
                             hint="e.g. compile: {optimizer: adam, loss: mse}")
    _expect_mapping(document, ("compile",), section)
    _check_keys(document, ("compile",), section, COMPILE_KEYS)
    if "loss" not in section or section["loss"] is None:
        raise document.error(("compile",), "compile needs a loss", hint="e.g. loss: binary_crossentropy")
    for key in ("optimizer", "loss"):
        if key in section:
            _expect(document, ("compile", key), section[key],
                    lambda v: isinstance(v, (str, dict)) or (key == "loss" and isinstance(v, list)),
                    "a name or a {class_name, config} mapping" + (" (or one per output)" if key == "loss" else ""))


def _check_fit(document, section):
    if section is None:
        return
    _expect_mapping(document, ("fit",), section)
    for key, value in section.items():
        if key in _FIT_ELSEWHERE:
            raise document.error(("fit", key), f"'{key}' does not go under fit",
                                 hint=f"give it as {_FIT_ELSEWHERE[key]}")
        if key not in FIT_ARGUMENTS:
            raise document.error(("fit", key), f"unknown fit argument '{key}'",
                                 hint=did_you_mean(key, FIT_ARGUMENTS) or f"known: {', '.join(FIT_ARGUMENTS)}")
        test, what = FIT_ARGUMENTS[key]
        _expect(document, ("fit", key), value, test, what)


def _check_data(document, section, fit, base):
    if section is None:
        raise document.error((), "the config has no 'data' section",
                             hint="data: {train: {x: x.npy, y: y.npy}}")
    _expect_mapping(document, ("data",), section)
    _check_keys(document, ("data",), section, SPLITS)
    if section.get("train") is None:
        raise document.error(("data",), "data needs a train split", hint="data: {train: {x: x.npy, y: y.npy}}")
    if section.get("validation") is not None and fit.get("validation_split"):
        raise document.error(("fit", "validation_split"), "give data.validation or fit.validation_split, not both")
    for split in SPLITS:
        spec = section.get(split)
        if spec is not None:
            _check_split(document, ("data", split), spec, base)


def _check_split(document, keypath, spec, base):
    if isinstance(spec, str):
        _check_source(document, keypath, spec, base)
        return
    _expect_mapping(document, keypath, spec, "a mapping {x: ..., y: ...} or a file name")
    if "path" in spec:
        _check_keys(document, keypath, spec, ("path", "features", "label"))
        _check_source(document, keypath + ("path",), spec["path"], base)
        features = spec.get("features")
        _expect(document, keypath + ("features",), features,
                lambda v: v is None or v == "all but label" or (isinstance(v, list) and v), "a list of column names")
        _expect(document, keypath + ("label",), spec.get("label"),
                lambda v: v is None or isinstance(v, (str, int)) or isinstance(v, list), "a column name")
        return
    _check_keys(document, keypath, spec, ("x", "y", "sample_weight"))
    if spec.get("x") is None:
        raise document.error(keypath, "the split has no x", hint="x: a .npy file (or .npz:key, .h5:dataset, .csv)")
    for key in ("x", "y", "sample_weight"):
        if spec.get(key) is not None:
            _check_arrays(document, keypath + (key,), spec[key], base)


def _check_arrays(document, keypath, value, base):
    if isinstance(value, str):
        _check_source(document, keypath, value, base)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_arrays(document, keypath + (i,), item, base)
    elif isinstance(value, dict) and "path" in value:
        _check_keys(document, keypath, value, ("path", "columns"))
        _check_source(document, keypath + ("path",), value["path"], base)
    elif isinstance(value, dict):
        for name, item in value.items():
            _check_arrays(document, keypath + (name,), item, base)
    else:
        raise document.error(keypath, f"expected a file name, a list or a mapping by input name, got {_type(value)}")


def _check_source(document, keypath, value, base):
    from .data import DATA_SUFFIXES, split_source

    _expect(document, keypath, value, lambda v: isinstance(v, str), "a file name")
    path, _ = split_source(value)
    if not path.lower().endswith(DATA_SUFFIXES):
        raise document.error(keypath, f"'{value}' is not a data file",
                             hint=f"use {', '.join(DATA_SUFFIXES)} (an .npz or .h5 may name an array: file.npz:key)")
    _check_file(document, keypath, path, base)


def _check_callbacks(document, section):
    if section is None:
        return
    _expect(document, ("callbacks",), section, lambda v: isinstance(v, list), "a list of callbacks")
    for i, entry in enumerate(section):
        if isinstance(entry, dict):
            _check_keys(document, ("callbacks", i), entry, ("class_name", "config", "module", "registered_name"))
        _expect(document, ("callbacks", i), entry,
                lambda v: isinstance(v, str) or (isinstance(v, dict) and "class_name" in v),
                "a callback name or {class_name, config}")
        if isinstance(entry, dict):
            _expect(document, ("callbacks", i, "config"), entry.get("config"),
                    lambda v: v is None or isinstance(v, dict), "a mapping of arguments")


# ----- small checks -----------------------------------------------------------------------------------
def _check_keys(document, keypath, mapping, allowed):
    for key in mapping:
        if key not in allowed:
            where = format_keypath(keypath) or "the top level"
            raise document.error(keypath + (key,), f"unknown key '{key}' in {where}",
                                 hint=did_you_mean(key, allowed) or f"known keys: {', '.join(allowed)}")


def _expect(document, keypath, value, test, what):
    if not test(value):
        choices = getattr(test, "choices", None)
        raise document.error(keypath, f"expected {what}, got {_show(value)}",
                             hint=did_you_mean(value, choices) if choices else None)


def _expect_mapping(document, keypath, value, what="a mapping"):
    if not isinstance(value, dict):
        raise document.error(keypath, f"expected {what}, got {_show(value)}")


def _check_file(document, keypath, path, base):
    full = os.path.normpath(os.path.join(base, os.path.expanduser(path)))
    if not os.path.exists(full):
        raise document.error(keypath, f"no such file: {full}",
                             hint="paths are relative to the config file's folder")
    if os.path.isdir(full):
        raise document.error(keypath, f"{full} is a folder, not a file")


def _type(value) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "an integer",
            float: "a number", type(None): "nothing (null)"}.get(type(value), type(value).__name__)


def _show(value) -> str:
    if isinstance(value, (dict, list)):
        return _type(value)
    return f"{value!r} ({_type(value)})" if value is not None else "nothing (null)"
