"""benchmarks/gpu_check.py --smoke: the whole GPU check runs on the CPU and writes its report."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_smoke_run_writes_parity_and_speed_tables(tmp_path):
    out = tmp_path / "report.md"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_check.py"), "--smoke",
                          "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = out.read_text()
    assert report.strip() == run.stdout.strip()
    assert "# gpu_check: CPU (--smoke)" in report
    parity = [line for line in report.splitlines() if line.startswith("| Keras")]
    assert parity and all(line.endswith("| 0.00e+00 |") for line in parity)  # CPU against CPU: identical
    speed = [line for line in report.splitlines() if line.startswith(("| mlp", "| cnn", "| lstm", "| tiny_mlp"))]
    assert len(speed) == 4
    for line in speed:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2] == "n/a"  # no capture without CUDA
        assert float(cells[1].replace(",", "")) > 0 and float(cells[3].replace(",", "")) > 0
        assert cells[-1] == "0.0e+00"  # the emulated capture trains exactly like the eager step
