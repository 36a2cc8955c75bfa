#!/usr/bin/python3
"""Golden fixtures for @tessera/nn's optimizers (updates.*), computed with torch.optim.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/updates.py

Writes tests/fixtures/updates.json. Each case starts from the same two parameters, feeds
the same three gradients, one per step, and records the parameters after every step. The
`options` of a case are the @tessera/nn option names; `torch` says what PyTorch ran. A
case may change the learning rate between steps (`lrs`) or clip the gradients by their
global norm first (`maxNorm`, torch.nn.utils.clip_grad_norm_). float32 throughout, as the
framework computes in float32.
"""
import json
import os

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "updates.json")

torch.manual_seed(0)
SHAPES = [[2, 3], [3]]
PARAMS = [torch.randn(s, dtype=torch.float32) for s in SHAPES]
# Gradients of mixed magnitudes, so rmsprop / adam normalisation is exercised.
GRADS = [[torch.randn(s, dtype=torch.float32) * scale for s in SHAPES] for scale in (1.0, 0.3, 2.0)]


def num(v):
    """Shortest decimal that round-trips to the same float32."""
    return float(str(np.float32(v)))


def enc(t):
    return {"shape": list(t.shape), "data": [num(v) for v in t.detach().reshape(-1).tolist()]}


def run(name, optimizer, options, make, lrs=None, max_norm=None, torch_desc=""):
    params = [p.clone().requires_grad_(True) for p in PARAMS]
    opt = make(params)
    after = []
    for k, grads in enumerate(GRADS):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[k]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        if max_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        after.append([enc(p) for p in params])
    case = {
        "name": name,
        "optimizer": optimizer,
        "options": options,
        "torch": torch_desc,
        "after": after,
    }
    if lrs is not None:
        case["lrs"] = lrs
    if max_norm is not None:
        case["maxNorm"] = max_norm
    CASES.append(case)


CASES = []
O = torch.optim
run("sgd", "sgd", {"learningRate": 0.1}, lambda p: O.SGD(p, lr=0.1), torch_desc="SGD(lr=0.1)")
run("sgd weight decay", "sgd", {"learningRate": 0.1, "weightDecay": 0.05},
    lambda p: O.SGD(p, lr=0.1, weight_decay=0.05), torch_desc="SGD(lr=0.1, weight_decay=0.05)")
run("momentum", "momentum", {"learningRate": 0.1, "momentum": 0.9},
    lambda p: O.SGD(p, lr=0.1, momentum=0.9), torch_desc="SGD(lr=0.1, momentum=0.9)")
run("momentum, changing learning rate", "momentum", {"learningRate": 0.1},
    lambda p: O.SGD(p, lr=0.1, momentum=0.9), lrs=[0.1, 0.05, 0.02],
    torch_desc="SGD(lr=0.1, momentum=0.9), lr set to 0.1, 0.05, 0.02 before the steps")
run("nesterov", "nesterovMomentum", {"learningRate": 0.1, "momentum": 0.9},
    lambda p: O.SGD(p, lr=0.1, momentum=0.9, nesterov=True), torch_desc="SGD(lr=0.1, momentum=0.9, nesterov=True)")
run("rmsprop", "rmsprop", {"learningRate": 0.01},
    lambda p: O.RMSprop(p, lr=0.01), torch_desc="RMSprop(lr=0.01, alpha=0.99, eps=1e-8)")
run("rmsprop rho momentum weight decay", "rmsprop", {"learningRate": 0.01, "rho": 0.9, "momentum": 0.5, "weightDecay": 0.01},
    lambda p: O.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.01),
    torch_desc="RMSprop(lr=0.01, alpha=0.9, momentum=0.5, weight_decay=0.01)")
run("adam", "adam", {"learningRate": 0.01},
    lambda p: O.Adam(p, lr=0.01), torch_desc="Adam(lr=0.01, betas=(0.9, 0.999), eps=1e-8)")
run("adam betas weight decay", "adam", {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-6, "weightDecay": 0.1},
    lambda p: O.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
    torch_desc="Adam(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)")
run("adamw", "adamw", {"learningRate": 0.01, "weightDecay": 0.1},
    lambda p: O.AdamW(p, lr=0.01, weight_decay=0.1), torch_desc="AdamW(lr=0.01, weight_decay=0.1)")
run("adamw default weight decay", "adamw", {},
    lambda p: O.AdamW(p), torch_desc="AdamW() (lr=1e-3, weight_decay=1e-2)")
run("adam clipped", "adam", {"learningRate": 0.01, "totalNormConstraint": 1.0},
    lambda p: O.Adam(p, lr=0.01), max_norm=1.0,
    torch_desc="clip_grad_norm_(params, 1.0) then Adam(lr=0.01)")
run("sgd clipped", "sgd", {"learningRate": 0.1, "totalNormConstraint": 0.5},
    lambda p: O.SGD(p, lr=0.1), max_norm=0.5,
    torch_desc="clip_grad_norm_(params, 0.5) then SGD(lr=0.1)")
run("adagrad", "adagrad", {"learningRate": 0.1},
    lambda p: O.Adagrad(p, lr=0.1), torch_desc="Adagrad(lr=0.1, eps=1e-10)")
# A large epsilon, so that where it goes (outside the sqrt, not inside) shows in the result.
run("adagrad lr decay, initial accumulator, large epsilon, weight decay", "adagrad",
    {"learningRate": 0.1, "lrDecay": 0.5, "initialAccumulatorValue": 0.1, "epsilon": 0.1, "weightDecay": 0.05},
    lambda p: O.Adagrad(p, lr=0.1, lr_decay=0.5, initial_accumulator_value=0.1, eps=0.1, weight_decay=0.05),
    torch_desc="Adagrad(lr=0.1, lr_decay=0.5, initial_accumulator_value=0.1, eps=0.1, weight_decay=0.05)")
run("adadelta", "adadelta", {},
    lambda p: O.Adadelta(p), torch_desc="Adadelta() (lr=1.0, rho=0.9, eps=1e-6)")
run("adadelta rho epsilon weight decay", "adadelta", {"learningRate": 0.5, "rho": 0.95, "epsilon": 1e-5, "weightDecay": 0.1},
    lambda p: O.Adadelta(p, lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1),
    torch_desc="Adadelta(lr=0.5, rho=0.95, eps=1e-5, weight_decay=0.1)")
run("adamax", "adamax", {"learningRate": 0.01},
    lambda p: O.Adamax(p, lr=0.01), torch_desc="Adamax(lr=0.01, betas=(0.9, 0.999), eps=1e-8)")
# A large epsilon, so that where it goes (inside the max, not after it) shows in the result.
run("adamax betas large epsilon weight decay", "adamax", {"learningRate": 0.01, "beta1": 0.8, "beta2": 0.99, "epsilon": 0.1, "weightDecay": 0.1},
    lambda p: O.Adamax(p, lr=0.01, betas=(0.8, 0.99), eps=0.1, weight_decay=0.1),
    torch_desc="Adamax(lr=0.01, betas=(0.8, 0.99), eps=0.1, weight_decay=0.1)")
run("adamax, changing learning rate", "adamax", {},
    lambda p: O.Adamax(p), lrs=[0.002, 0.01, 0.005],
    torch_desc="Adamax() (lr=2e-3), lr set to 0.002, 0.01, 0.005 before the steps")

fixture = {
    "generator": "scripts/golden/updates.py",
    "torch": torch.__version__,
    "params": [enc(p) for p in PARAMS],
    "grads": [[enc(g) for g in step] for step in GRADS],
    "cases": CASES,
}
with open(OUT_PATH, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
print(f"wrote {OUT_PATH}: {len(CASES)} cases")
