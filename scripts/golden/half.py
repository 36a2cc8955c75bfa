#!/usr/bin/python3
"""Golden fixtures for the float16 dtype, computed with PyTorch.

    /usr/bin/python3 scripts/golden/half.py

Writes tests/fixtures/half.json. Each case holds float16 inputs (as exact
values), the float16 output and, for the gradient cases, float16 gradients.

Where PyTorch has a CPU half kernel the case uses it ("oracle": "half"). Where
it has none (Debian's torch 1.13 lacks half matmul, conv2d, softmax, pooling
and most unary maths on CPU), the case uses PyTorch's opmath rule for half,
which its CUDA kernels and newer CPU kernels follow: compute in float32 from
the half inputs and round the result to half once ("oracle": "opmath").
Gradient cases apply the same rule to every op of the backward pass, through
an autograd Function per op, as native half autograd does.
"""
import json
import os

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "half.json")

torch.manual_seed(0)
CASES = []


def enc(t):
    t = t.detach().contiguous()
    dtype = {torch.float16: "float16", torch.float32: "float32", torch.int64: "int32", torch.int32: "int32"}[t.dtype]
    data = [float(v) if t.is_floating_point() else int(v) for v in t.reshape(-1).tolist()]
    # JSON has no NaN or Infinity: strings, which the test turns back into numbers.
    data = [v if not isinstance(v, float) or (v == v and abs(v) != float("inf")) else str(v) for v in data]
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def half(shape, lo=-2.0, hi=2.0):
    return (torch.rand(shape) * (hi - lo) + lo).half()


def opmath(fn):
    """fn on half tensors as PyTorch's half kernels compute it: float32 inside, one rounding."""

    class Op(torch.autograd.Function):
        @staticmethod
        def forward(ctx, *xs):
            ctx.save_for_backward(*xs)
            return fn(*[x.float() if x.is_floating_point() else x for x in xs]).half()

        @staticmethod
        def backward(ctx, dy):
            xs = [x.float().requires_grad_(x.is_floating_point()) for x in ctx.saved_tensors]
            with torch.enable_grad():
                y = fn(*[x if x.is_floating_point() else x.long() for x in xs])
                grads = torch.autograd.grad(y, [x for x in xs if x.requires_grad], dy.float(), allow_unused=True)
            it = iter(grads)
            return tuple(next(it).half() if x.requires_grad else None for x in xs)

    return lambda *xs: Op.apply(*xs)


def run(fn, xs):
    """fn natively in half where PyTorch's CPU has the kernel, else by the opmath rule."""
    try:
        return fn(*xs), "half"
    except RuntimeError as e:
        if "not implemented for 'Half'" not in str(e):
            raise
        return opmath(fn)(*xs), "opmath"


def case(name, op, params, xs, fn):
    y, oracle = run(fn, xs)
    CASES.append({"name": name, "op": op, "params": params, "oracle": oracle, "inputs": [enc(x) for x in xs], "output": enc(y)})


# The rounding itself: ties to even, overflow, subnormals, NaN, from float32 values.
special = torch.tensor([0.1, 1 / 3, 65504.0, 65519.0, 65520.0, 1e5, -1e5, 6e-8, 2.9e-8, 3e-8, 1e-4, 2049.0, 2051.0, -0.0, float("inf"), float("nan")])
CASES.append({"name": "cast float32 -> float16", "op": "castToHalf", "params": {}, "oracle": "half", "inputs": [enc(special)], "output": enc(special.half())})
hvals = half([12], -100, 100)
CASES.append({"name": "cast float16 -> int32", "op": "castToInt", "params": {}, "oracle": "half", "inputs": [enc(hvals)], "output": enc(hvals.to(torch.int32))})

a, b = half([3, 5]), half([3, 5])
case("add", "add", {}, [a, b], lambda x, y: x + y)
case("mul by a JS number", "mulScalar", {"scalar": 0.1}, [a], lambda x: x * 0.1)
case("div by a JS number", "divScalar", {"scalar": 3}, [a], lambda x: x / 3)
case("relu", "relu", {}, [a], torch.relu)
case("exp", "exp", {}, [a], torch.exp)
case("sigmoid", "sigmoid", {}, [a], torch.sigmoid)
case("tanh", "tanh", {}, [a], torch.tanh)
case("sum over axis 1", "sum", {"axis": 1}, [half([4, 50])], lambda x: x.sum(1))
case("mean", "mean", {}, [half([4, 50])], lambda x: x.mean())
case("softmax over axis 1", "softmax", {"axis": 1}, [half([4, 10], -4, 4)], lambda x: torch.softmax(x, 1))
case("matmul [8,40]@[40,6]", "matmul", {}, [half([8, 40], -1, 1), half([40, 6], -1, 1)], torch.matmul)
case("conv2d 3x3 pad 1", "conv2d", {"padding": 1}, [half([2, 3, 7, 7], -1, 1), half([4, 3, 3, 3], -0.5, 0.5)], lambda x, w: F.conv2d(x, w, padding=1))
case("max_pool2d 2x2", "maxPool2d", {"kernel": 2}, [half([2, 3, 6, 6])], lambda x: F.max_pool2d(x, 2))
labels = torch.randint(0, 10, (4,))
case("cross_entropy", "crossEntropy", {}, [half([4, 10], -3, 3), labels.int()], lambda x, t: F.cross_entropy(x, t.long()))

# Gradient: a dense layer with ReLU, summed; every op rounds its output (and its gradient) to half.
x = half([6, 20], -1, 1)
w = half([20, 5], -1, 1).requires_grad_()
bias = half([5], -1, 1).requires_grad_()
mm, add, relu = opmath(torch.matmul), opmath(lambda p, q: p + q), opmath(torch.relu)
y = relu(add(mm(x, w), bias))
loss = opmath(lambda t: t.sum())(y)
loss.backward()
CASES.append({
    "name": "dense + relu + sum, backward", "op": "denseGrad", "params": {}, "oracle": "opmath",
    "inputs": [enc(x), enc(w), enc(bias)], "output": enc(loss), "grads": [enc(w.grad), enc(bias.grad)],
})

with open(OUT_PATH, "w") as f:
    json.dump({"generator": "scripts/golden/half.py", "torch": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(CASES)} cases to {OUT_PATH}")
