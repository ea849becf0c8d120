"""Helpers shared by the bench/ Python scripts (torch_train.py, torch_loss.py, train_table.py,
loss_table.py): reading JSON-lines records, printing one, table cells, and (for the torch
baselines) choosing and naming the device. The scripts import it from their own directory:

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import bench_common

Standard library only at import time; torch is imported only by the device helpers, so the table
scripts run without it.
"""
import json
import sys


def note(prog, msg):
    """A message for the person running the benchmark, on stderr: `prog: msg`."""
    print(f"{prog}: {msg}", file=sys.stderr, flush=True)


def print_record(rec):
    """One JSON line on stdout, flushed (a long run's records land as they are made)."""
    print(json.dumps(rec), flush=True)


def read_records(paths):
    """Yields (path, record) for every non-blank line of the JSON-lines files, in order."""
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.strip():
                    yield path, json.loads(line)


def fmt(v, spec="", suffix=""):
    """A table cell: "n/a" for a missing value, else format(v, spec) + suffix."""
    return "n/a" if v is None else format(v, spec) + suffix


def pick_device(choice, prog):
    """torch.device for --device auto|cpu|cuda (auto: CUDA where torch sees one). None, with a note
    on stderr, for cuda where torch sees no CUDA device."""
    import torch

    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cuda":
        if not torch.cuda.is_available():
            note(prog, "--device cuda: torch sees no CUDA device")
            return None
        return torch.device("cuda")
    return torch.device("cpu")


def device_name(dev):
    """The GPU's name on CUDA; on the CPU the "model name" of /proc/cpuinfo (or "cpu")."""
    if dev.type == "cuda":
        import torch

        return torch.cuda.get_device_name(dev)
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "cpu"
