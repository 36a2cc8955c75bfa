#!/usr/bin/python3
"""Golden fixtures for ts.batchNorm, from PyTorch's torch.nn.functional.batch_norm.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/batchnorm.py

Writes tests/fixtures/batchnorm.json. Each case calls F.batch_norm once per input in `xs` (one,
or three for the running-statistics cases) with Tessera's options (`axis` other than 1 moves
that axis to 1 first), and records the last call's output, a random cotangent, the gradients
of x, gamma and beta of sum(output * cotangent), and the running statistics after every call.
The inputs are float32; the expected values are computed in float64 from them, so they are the
exact answers a float32 implementation should approach (the large-mean cases, 1e4 + N(0, 1),
would make E[x^2] - E[x]^2 lose every digit in float32).
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture import encode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "batchnorm.json")

torch.manual_seed(0)
CASES = []


def f32(t):
    return t.to(torch.float32)


def case(name, shape, training, *, axis=1, steps=1, gamma=True, beta=True, running=True, momentum=0.1, epsilon=1e-5, loc=0.0, scale=1.0):
    c = shape[axis]
    xs = [f32(torch.randn(shape) * scale + loc) for _ in range(steps)]
    g = f32(torch.rand(c) + 0.5) if gamma else None
    b = f32(torch.randn(c)) if beta else None
    rm = f32(torch.randn(c) * scale + loc) if running else None
    rv = f32(torch.rand(c) * scale * scale + 0.5) if running else None
    rm64 = rm.double().clone() if running else None
    rv64 = rv.double().clone() if running else None
    after = []
    for i, x in enumerate(xs):
        last = i == steps - 1
        x64 = x.double().requires_grad_(last)
        g64 = g.double().requires_grad_(last) if gamma else None
        b64 = b.double().requires_grad_(last) if beta else None
        xm = x64.movedim(axis, 1)
        y = F.batch_norm(xm, rm64, rv64, g64, b64, training=training, momentum=momentum, eps=epsilon).movedim(1, axis)
        if running:
            after.append({"runningMean": encode(f32(rm64), with_dtype=False), "runningVar": encode(f32(rv64), with_dtype=False)})
    cot = f32(torch.rand(shape) * 2 - 1)
    wrt = [x64] + ([g64] if gamma else []) + ([b64] if beta else [])
    grads = iter(torch.autograd.grad(y, wrt, cot.double()))
    entry = {
        "name": name,
        "shape": list(shape),
        "axis": axis,
        "training": training,
        "momentum": momentum,
        "epsilon": epsilon,
        "xs": [encode(x, with_dtype=False) for x in xs],
        "output": encode(f32(y), with_dtype=False),
        "cotangent": encode(cot, with_dtype=False),
        "grads": {"x": encode(f32(next(grads)), with_dtype=False)},
    }
    if gamma:
        entry["gamma"] = encode(g, with_dtype=False)
        entry["grads"]["gamma"] = encode(f32(next(grads)), with_dtype=False)
    if beta:
        entry["beta"] = encode(b, with_dtype=False)
        entry["grads"]["beta"] = encode(f32(next(grads)), with_dtype=False)
    if running:
        entry["runningMean"] = encode(rm, with_dtype=False)
        entry["runningVar"] = encode(rv, with_dtype=False)
        entry["after"] = after
    if loc != 0.0:
        entry["largeMean"] = True
    CASES.append(entry)


# [N, C] (BatchNorm1d) and [N, C, H, W] (BatchNorm2d), training and evaluation, with and without
# gamma / beta, and with and without running statistics in training.
case("[6,4] training, gamma and beta", [6, 4], True)
case("[6,4] eval, gamma and beta", [6, 4], False)
case("[5,4] eval, beta only", [5, 4], False, gamma=False)
case("[2,3] training, the smallest batch", [2, 3], True)
case("[4,3,5,5] training, gamma and beta", [4, 3, 5, 5], True)
case("[4,3,5,5] training, no gamma, beta or running statistics", [4, 3, 5, 5], True, gamma=False, beta=False, running=False)
case("[4,3,5,5] eval, no gamma or beta", [4, 3, 5, 5], False, gamma=False, beta=False)
case("[3,2,7,6] eval, gamma and beta", [3, 2, 7, 6], False)
case("[3,5,7] training, gamma only ([N, C, L])", [3, 5, 7], True, beta=False)
case("[1,3,4,4] training, a batch of one image", [1, 3, 4, 4], True)
case("[2,3,4,5] training, axis -1 (channels last)", [2, 3, 4, 5], True, axis=3)
case("[6,4] training, epsilon 1e-3", [6, 4], True, epsilon=1e-3)
# Running statistics after three training steps (momentum 0.1, and 0.3).
case("[4,3,5,5] three training steps", [4, 3, 5, 5], True, steps=3)
case("[6,4] three training steps, momentum 0.3", [6, 4], True, steps=3, momentum=0.3)
# Stability: a mean of 1e4 with unit noise.
case("[8,3,4,4] training, large mean 1e4", [8, 3, 4, 4], True, loc=1e4)
case("[64,3] training, large mean 1e4", [64, 3], True, loc=1e4)
case("[8,3,4,4] eval, large mean 1e4", [8, 3, 4, 4], False, loc=1e4)

with open(OUT_PATH, "w") as f:
    f.write('{"generator": "scripts/golden/batchnorm.py", "torch": %s,\n"cases": [\n' % json.dumps(torch.__version__))
    f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in CASES))
    f.write("\n]}\n")
print(f"wrote {len(CASES)} cases ({os.path.getsize(OUT_PATH) // 1024} KB) to {os.path.relpath(OUT_PATH, ROOT)}")
