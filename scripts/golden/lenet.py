#!/usr/bin/python3
"""Golden LeNet-5 gradients for Tessera's end-to-end CNN test, computed with PyTorch.

    /usr/bin/python3 scripts/golden/lenet.py

Writes tests/fixtures/lenet_grads.json: the loss and the gradient of every parameter for one
forward + backward pass of LeNet-5 on a batch of 4 (conv 6@5x5 pad 2, ReLU, max-pool 2,
conv 16@5x5, ReLU, max-pool 2, dense 120, ReLU, 84, ReLU, 10, cross-entropy, mean).

Inputs and weights are not stored: both sides generate them from the integer hash below, whose
values are multiples of 2^-24 scaled by powers of two, so they are exact in float32 and equal in
Python and JavaScript (tests/cnn/lenet.test.ts has the same function). The reference runs in
float64, so the fixture holds the exact gradients of the float32 inputs, not one float32
summation order; the script checks that float32 PyTorch agrees with it to 1e-5 (relative, in norm).

Layouts are Tessera's: dense weights are [in, out] (torch.nn.Linear keeps [out, in]), so fc
weights are transposed on the way in and their gradients on the way out. Gradients are stored
as base64 little-endian float32, which keeps the fixture near 330 KB.
"""
import base64
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "lenet_grads.json")
M32 = 0xFFFFFFFF


def hash_values(n, seed, scale):
    """n values in [-scale, scale): a murmur-style mix of (index, seed), 24 bits each."""
    out = np.empty(n, dtype=np.float64)
    for i in range(n):
        h = (i * 0x9E3779B1 + seed * 0x85EBCA77) & M32
        h ^= h >> 15
        h = (h * 0x2C1B3C6D) & M32
        h ^= h >> 12
        h = (h * 0x297A2D39) & M32
        h ^= h >> 15
        out[i] = ((h >> 8) / 16777216.0 - 0.5) * 2.0 * scale
    return out


# name, Tessera shape, seed, scale (powers of two keep every value exact in float32)
PARAMS = [
    ("conv1.w", [6, 1, 5, 5], 1, 0.25), ("conv1.b", [6], 2, 0.0625),
    ("conv2.w", [16, 6, 5, 5], 3, 0.125), ("conv2.b", [16], 4, 0.0625),
    ("fc1.w", [400, 120], 5, 0.0625), ("fc1.b", [120], 6, 0.0625),
    ("fc2.w", [120, 84], 7, 0.125), ("fc2.b", [84], 8, 0.0625),
    ("fc3.w", [84, 10], 9, 0.125), ("fc3.b", [10], 10, 0.0625),
]
X_SHAPE, X_SEED, X_SCALE = [4, 1, 28, 28], 11, 1.0
LABELS = [3, 7, 0, 9]


def lenet(x, p, labels):
    h = F.max_pool2d(torch.relu(F.conv2d(x, p["conv1.w"], p["conv1.b"], padding=2)), 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, p["conv2.w"], p["conv2.b"])), 2)
    h = h.flatten(1)   # NCHW order, as Tessera's flatten
    h = torch.relu(h @ p["fc1.w"] + p["fc1.b"])   # [in, out] weights: x @ w, no transpose
    h = torch.relu(h @ p["fc2.w"] + p["fc2.b"])
    logits = h @ p["fc3.w"] + p["fc3.b"]
    return F.cross_entropy(logits, labels), logits


def run(dtype):
    def make(shape, seed, scale):
        t = torch.tensor(hash_values(int(np.prod(shape)), seed, scale), dtype=dtype).reshape(shape)
        return t.requires_grad_(True)
    params = {name: make(shape, seed, scale) for name, shape, seed, scale in PARAMS}
    x = torch.tensor(hash_values(int(np.prod(X_SHAPE)), X_SEED, X_SCALE), dtype=dtype).reshape(X_SHAPE)
    loss, logits = lenet(x, params, torch.tensor(LABELS))
    loss.backward()
    return loss, logits, {k: v.grad for k, v in params.items()}


loss64, logits64, grads64 = run(torch.float64)
loss32, _, grads32 = run(torch.float32)
for k in grads64:
    g64, g32 = grads64[k], grads32[k].double()
    err = ((g64 - g32).norm() / g64.norm()).item()
    assert err < 1e-5, f"float32 PyTorch disagrees with float64 on {k}: relative error {err}"


def b64(t):
    return base64.b64encode(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


fixture = {
    "generator": "scripts/golden/lenet.py", "torch": torch.__version__,
    "hash": "see hash_values in scripts/golden/lenet.py",
    "x": {"shape": X_SHAPE, "seed": X_SEED, "scale": X_SCALE},
    "labels": LABELS,
    "params": [{"name": n, "shape": s, "seed": seed, "scale": sc} for n, s, seed, sc in PARAMS],
    "loss": float(loss64),
    "logits": [float(v) for v in logits64.detach().reshape(-1)],
    "grads": {k: {"shape": list(v.shape), "f32": b64(v)} for k, v in grads64.items()},
}
with open(OUT_PATH, "w") as f:
    json.dump(fixture, f, indent=1)
print(f"wrote {os.path.relpath(OUT_PATH, ROOT)} ({os.path.getsize(OUT_PATH) // 1024} KB), loss {float(loss64):.6f}")
