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
    speed = [line for line in section(report, "## fit samples/s") if line.startswith("| ") and "workload" not in line]
    assert [line.split()[1] for line in speed] == ["mlp", "cnn", "lstm", "tiny_mlp"]
    for line in speed:
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2] == cells[3] == "n/a"  # no capture without CUDA (captured, captured from NumPy)
        assert float(cells[1].replace(",", "")) > 0 and float(cells[4].replace(",", "")) > 0  # eager, hand
        assert cells[-1] == "0.0e+00"  # the emulated capture trains exactly like the eager step
    bf16 = [line for line in section(report, "## mixed_bfloat16") if line.startswith(("| mlp", "| cnn"))]
    assert len(bf16) == 2 and all("→" in line for line in bf16)


def section(report, heading):
    """The lines of the report's section that starts with ``heading``, up to the next heading."""
    lines = report.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return lines[start + 1:end]


def test_profile_smoke_reports_host_ops_per_contender(tmp_path):
    out = tmp_path / "profile.md"
    run = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "gpu_profile.py"), "--smoke",
                          "--workload", "tiny_mlp", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    report = out.read_text()
    assert [line.split(":")[0] for line in report.splitlines() if line.startswith("### ")] == [
        "### modelcli eager", "### hand-written"]
    assert "| aten::addmm |" in report  # the dense layers' forward shows among the host ops
