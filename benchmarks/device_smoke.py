"""Where modelcli puts a model, and whether CUDA predictions equal the CPU's (run on a GPU machine).

    python benchmarks/device_smoke.py
"""
import glob
import os

import numpy as np
import torch

from modelcli import backend, models

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "keras2", "tf221")


def main():
    print("auto device:", backend.device(), "| cuda available:", torch.cuda.is_available())
    worst = 0.0
    for spec in sorted(glob.glob(os.path.join(HERE, "*.json"))):
        name = os.path.basename(spec)[:-5]
        data = np.load(os.path.join(HERE, f"{name}.npz"))
        xs = [data[k] for k in sorted(data.files) if k.startswith("x")]
        ys = [data[k] for k in sorted(data.files) if k.startswith("y")]
        outputs = {}
        for dev in ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",):
            backend.set_device(dev)
            model = models.load_model(os.path.join(HERE, f"{name}.model.h5"))
            params = {p.device.type for p in model.parameters()}
            out = model.predict(xs if len(xs) > 1 else xs[0])
            outputs[dev] = out if isinstance(out, list) else [out]
            diff = max(float(np.max(np.abs(o - y))) for o, y in zip(outputs[dev], ys))
            worst = max(worst, diff)
            print(f"{name:24s} {dev:5s} params on {sorted(params)} max |ours - keras2| = {diff:.2e}")
    print(f"worst difference from the Keras 2 reference outputs: {worst:.2e}")


if __name__ == "__main__":
    main()
