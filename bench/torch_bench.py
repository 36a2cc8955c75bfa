#!/usr/bin/python3
"""PyTorch peer of the Tessera benchmark suite: CPU, or CUDA with TORCH_DEVICE=cuda.

Two modes:
  /usr/bin/python3 bench/torch_bench.py --serve
      Line protocol used by bench/run.mjs so that PyTorch's samples interleave with Tessera's
      and tfjs's: each stdin line is a JSON request, each stdout line a JSON reply.
        {"cmd": "hello"}                               -> {"torch": "1.13.0", "threads": 2, ...}
        {"cmd": "setup", "id": ..., "spec": {...}}     -> {"ok": true} or {"error": "..."}
        {"cmd": "run", "id": ..., "inner": n}          -> {"ms": total milliseconds for n iterations}
        {"cmd": "facts", "id": ...}                     -> {...}
        {"cmd": "dispose", "id": ...}                   -> {"ok": true}
  /usr/bin/python3 bench/torch_bench.py [--quick] [--specs FILE]
      Standalone: runs the specs (a JSON list of {"id", "spec"}; by default a built-in list of the
      suite's main rows), prints one JSON object with median/min/max milliseconds per id.

Specs use the same NCHW shapes as bench/suite.mjs. Timing is measured here (perf_counter), so the
pipe does not count. Threads: all CPUs (os.cpu_count()) unless TORCH_THREADS is set.
TORCH_DEVICE (default cpu) picks the device, e.g. cuda: then every timed region (and warm-up) ends
with torch.cuda.synchronize(), so a sample includes the completion of the work it queued.
"""
import json
import os
import sys
import time

try:
    import torch
    import torch.nn as tnn
    import torch.nn.functional as F
except Exception as e:  # noqa: BLE001
    print(json.dumps({"error": f"PyTorch is not available to {sys.executable}: {e}"}), flush=True)
    sys.exit(3)

THREADS = int(os.environ.get("TORCH_THREADS") or os.cpu_count() or 1)
torch.set_num_threads(THREADS)
torch.manual_seed(0)
try:
    DEVICE = torch.device(os.environ.get("TORCH_DEVICE") or "cpu")
    if DEVICE.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("torch.cuda.is_available() is False")
    torch.zeros(1, device=DEVICE)
except Exception as e:  # noqa: BLE001
    print(json.dumps({"error": f"TORCH_DEVICE={os.environ.get('TORCH_DEVICE')} is not usable: {e}"}), flush=True)
    sys.exit(3)


def sync():
    """Waits for the device's queued work (a no-op on the CPU)."""
    if DEVICE.type == "cuda":
        torch.cuda.synchronize(DEVICE)


def rand(shape, scale=1.0):
    return (torch.rand(*shape, device=DEVICE) - 0.5) * 2 * scale


def lenet():
    return tnn.Sequential(
        tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(400, 120), tnn.ReLU(),
        tnn.Linear(120, 84), tnn.ReLU(),
        tnn.Linear(84, 10),
    )


class Bench:
    """run(inner) does the work inner times; prepare() runs untimed before each sample."""

    def __init__(self, run, prepare=None, facts=None):
        self.run = run
        self.prepare = prepare
        self.facts = facts or (lambda: {})


def build(spec):
    kind = spec["kind"]
    if kind == "matmul":
        a, b = rand(spec["a"]), rand(spec["b"])

        def run(n):
            for _ in range(n):
                torch.matmul(a, b)
        return Bench(run)

    if kind == "conv2d":
        x, w, pad = rand(spec["x"]), rand(spec["w"], 0.2), spec["pad"]
        y = F.conv2d(x, w, padding=pad)
        dy = rand(list(y.shape))
        part = spec["part"]
        if part == "forward":
            def run(n):
                for _ in range(n):
                    F.conv2d(x, w, padding=pad)
            return Bench(run)
        mask = [part == "input", part == "filter", False]

        def run(n):
            for _ in range(n):
                torch.ops.aten.convolution_backward(dy, x, w, None, [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)
        return Bench(run)

    if kind == "maxpool":
        x, k = rand(spec["x"]), spec["k"]
        if spec["part"] == "forward":
            def run(n):
                for _ in range(n):
                    F.max_pool2d(x, k)
            return Bench(run)
        y, idx = F.max_pool2d(x, k, return_indices=True)
        dy = rand(list(y.shape))

        def run(n):
            for _ in range(n):
                torch.ops.aten.max_pool2d_with_indices_backward(dy, x, [k, k], [k, k], [0, 0], [1, 1], False, idx)
        return Bench(run)

    if kind == "softmax":
        x = rand(spec["shape"], 3)

        def run(n):
            for _ in range(n):
                torch.softmax(x, -1)
        return Bench(run)

    if kind == "xent":
        n_, c = spec["shape"]
        x = rand(spec["shape"], 3).requires_grad_()
        labels = torch.randint(0, c, (n_,), device=DEVICE)

        def run(n):
            for _ in range(n):
                torch.autograd.grad(F.cross_entropy(x, labels), x)
        return Bench(run)

    if kind == "chain":
        x = rand(spec["shape"])

        def run(n):
            for _ in range(n):
                y = x + 1
                for _ in range(spec["n"] - 1):
                    y = y + 1
        return Bench(run)

    if kind == "lenet-train":
        b = spec["batch"]
        model = lenet().to(DEVICE)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(b, 1, 28, 28, device=DEVICE)
        y = torch.randint(0, 10, (b,), device=DEVICE)

        def run(n):
            for _ in range(n):
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(x), y)
                loss.backward()
                opt.step()
            loss.item()
        return Bench(run)

    if kind == "lenet-infer":
        b = spec["batch"]
        model = lenet().to(DEVICE).eval()
        x = torch.rand(b, 1, 28, 28, device=DEVICE)

        def run(n):
            with torch.no_grad():
                for _ in range(n):
                    model(x)
        return Bench(run)

    raise ValueError(f"unknown benchmark kind {kind}")


def hello():
    return {"torch": torch.__version__, "threads": THREADS, "python": sys.version.split()[0],
            "mkldnn": bool(torch.backends.mkldnn.is_available()), "device": str(DEVICE),
            "deviceName": torch.cuda.get_device_name(DEVICE) if DEVICE.type == "cuda" else None}


def serve():
    benches = {}
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            req = json.loads(line)
            cmd = req["cmd"]
            if cmd == "hello":
                rep = hello()
            elif cmd == "setup":
                benches[req["id"]] = build(req["spec"])
                rep = {"ok": True}
            elif cmd == "run":
                b = benches[req["id"]]
                if b.prepare:
                    b.prepare()
                sync()
                t0 = time.perf_counter()
                b.run(int(req.get("inner", 1)))
                sync()
                rep = {"ms": (time.perf_counter() - t0) * 1000}
            elif cmd == "facts":
                rep = benches[req["id"]].facts()
            elif cmd == "dispose":
                benches.pop(req["id"], None)
                rep = {"ok": True}
            elif cmd == "exit":
                break
            else:
                rep = {"error": f"unknown command {cmd}"}
        except Exception as e:  # noqa: BLE001
            rep = {"error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(rep) + "\n")
        sys.stdout.flush()


DEFAULT_SPECS = [
    {"id": "lenet-train-64", "spec": {"kind": "lenet-train", "batch": 64}},
    {"id": "lenet-infer-1", "spec": {"kind": "lenet-infer", "batch": 1}},
    {"id": "lenet-infer-256", "spec": {"kind": "lenet-infer", "batch": 256}},
    {"id": "matmul-1024", "spec": {"kind": "matmul", "a": [1024, 1024], "b": [1024, 1024]}},
    {"id": "conv1-filter", "spec": {"kind": "conv2d", "part": "filter", "x": [64, 1, 28, 28], "w": [6, 1, 5, 5], "pad": 2}},
    {"id": "conv2-filter", "spec": {"kind": "conv2d", "part": "filter", "x": [64, 6, 14, 14], "w": [16, 6, 5, 5], "pad": 0}},
]


def standalone(argv):
    quick = "--quick" in argv
    specs = DEFAULT_SPECS
    if "--specs" in argv:
        with open(argv[argv.index("--specs") + 1]) as f:
            specs = json.load(f)
    reps = 3 if quick else 10
    out = {**hello(), "results": {}}
    for s in specs:
        try:
            b = build(s["spec"])
            b.run(1)  # warm-up
            sync()
            times = []
            for _ in range(reps):
                if b.prepare:
                    b.prepare()
                sync()
                t0 = time.perf_counter()
                b.run(1)
                sync()
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            out["results"][s["id"]] = {"median_ms": times[len(times) // 2], "min_ms": times[0], "max_ms": times[-1], "runs": reps}
        except Exception as e:  # noqa: BLE001
            out["results"][s["id"]] = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    if "--serve" in sys.argv:
        serve()
    else:
        standalone(sys.argv[1:])
