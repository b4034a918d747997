"""``modelcli convert IN OUT``: between the files a model lives in.

- a JSON or YAML spec to the other one: the same document, rewritten (a Keras 2 spec stays a
  Keras 2 spec); it is checked by building the model first, so a broken spec is not copied;
- any model (a ``.keras`` archive, a full-model ``.h5``, a run folder, a training config) to a
  spec (``OUT.json`` / ``OUT.yaml``) plus its weights beside it (``OUT`` stem + ``.weights.h5``);
- any model to a ``.keras`` archive or a full-model ``.h5``.
Every file is written to a temporary name and renamed into place.
"""
from __future__ import annotations

import json
import os

from ..errors import SpecError
from ..saving.load import MODEL_SUFFIXES, SPEC_SUFFIXES



def run(source, output, echo=print):
    """Convert ``source`` into ``output``; returns the paths written."""
    out_suffix = os.path.splitext(output)[1].lower()
    if output.lower().endswith(".weights.h5") or out_suffix not in SPEC_SUFFIXES + MODEL_SUFFIXES:
        raise SpecError(f"cannot write a model as '{os.path.basename(output)}'", where=output,
                        hint="write a spec (.json, .yaml: its weights go beside it as .weights.h5), "
                             "a .keras archive or a full-model .h5")
    if not os.path.exists(source):
        raise SpecError("no such file or folder", where=source)
    if source.lower().endswith(SPEC_SUFFIXES) and out_suffix in SPEC_SUFFIXES:
        written = [_convert_spec(source, output)]
    else:
        written = _convert_model(source, output, out_suffix)
    for path in written:
        echo(f"wrote {path}")
    return written


def _convert_spec(source, output):
    from ..models.spec import model_from_config, parse_spec_text
    from ..saving.atomic import write_text

    with open(source, encoding="utf8") as f:
        document = parse_spec_text(f.read(), source)
    try:
        model_from_config(document)
    except SpecError as err:
        raise err.at(source) from None
    write_text(output, _dump(document, output))
    return output


def _convert_model(source, output, out_suffix):
    from ..saving.atomic import write_text
    from ..sources import load_model_source

    model = load_model_source(source)
    if out_suffix in MODEL_SUFFIXES:
        model.save(output)
        return [output]
    weights = os.path.splitext(output)[0] + ".weights.h5"
    model.save_weights(weights)
    write_text(output, model.to_json(indent=1) + "\n" if out_suffix == ".json" else model.to_yaml())
    return [output, weights]


def _dump(document, path) -> str:
    if path.lower().endswith(".json"):
        return json.dumps(document, indent=1) + "\n"
    import yaml
    return yaml.safe_dump(document, sort_keys=False)
