#!/usr/bin/python3
"""Golden fixtures for Tessera's CNN ops (conv2d, pooling, softmax, cross-entropy), from PyTorch.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/cnn_ops.py

Writes tests/fixtures/cnn_ops.json in the format of core_ops.json: each case holds the inputs,
the forward output, a random cotangent and the vector-Jacobian products
d(sum(output * cotangent)) / d(input_i). Params use Tessera's option names (padding may be a
number, a [ph, pw] pair, 'same' or 'valid'). Shapes are small and odd on purpose: the kernels
tile by 4, so 7x7, 13x13, C=1 and F=6 exercise every tail path.
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture import encode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "cnn_ops.json")

torch.manual_seed(0)
CASES = []


def uniform(shape, lo=-1.0, hi=1.0):
    return torch.rand(shape, dtype=torch.float32) * (hi - lo) + lo




def case(name, op, params, inputs, fn):
    """Record one case; only float32 inputs get gradients (int32 labels get null)."""
    leaves = []
    for x in inputs:
        x = x.clone()
        if x.dtype == torch.float32:
            x.requires_grad_(True)
        leaves.append(x)
    out = fn(*leaves)
    cot = uniform(out.shape)
    wrt = [x for x in leaves if x.requires_grad]
    gs = iter(torch.autograd.grad(out, wrt, cot))
    CASES.append({
        "name": name, "op": op, "params": params,
        "inputs": [encode(x) for x in leaves], "output": encode(out),
        "cotangent": encode(cot, with_dtype=False),
        "grads": [encode(next(gs), with_dtype=False) if x.requires_grad else None for x in leaves],
    })


def fmt(shape):
    return "[" + ",".join(str(s) for s in shape) + "]"


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ----------------------------------------------------------------- conv2d ----

def torch_conv(params):
    stride = pair(params.get("stride", 1))
    dilation = pair(params.get("dilation", 1))
    groups = params.get("groups", 1)
    padding = params.get("padding", 0)
    relu = params.get("activation") == "relu"

    def fn(x, w, b=None):
        if padding in ("same", "valid"):
            y = F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        else:
            y = F.conv2d(x, w, b, stride=stride, padding=pair(padding), dilation=dilation, groups=groups)
        return torch.relu(y) if relu else y
    return fn


CONV_CASES = [
    # (x shape, w shape, bias, params)
    ([2, 3, 7, 7], [4, 3, 3, 3], True, {}),
    ([1, 3, 13, 13], [6, 3, 3, 3], True, {"stride": 2, "padding": 1}),
    ([2, 2, 11, 9], [5, 2, 4, 3], False, {"stride": 3, "padding": [1, 2]}),
    ([1, 2, 7, 7], [3, 2, 5, 5], True, {"padding": "same"}),
    ([2, 1, 6, 7], [6, 1, 4, 2], True, {"padding": "same"}),
    ([1, 2, 7, 8], [2, 2, 2, 4], False, {"padding": "same", "dilation": 2}),
    ([1, 3, 8, 6], [2, 3, 3, 3], True, {"padding": "valid"}),
    ([2, 2, 9, 9], [4, 2, 3, 3], False, {"padding": 2, "dilation": 2}),
    ([2, 4, 7, 7], [6, 2, 3, 3], True, {"padding": 1, "groups": 2}),
    ([1, 4, 9, 10], [4, 2, 3, 2], True, {"stride": [2, 1], "dilation": [1, 2], "groups": 2}),
    ([1, 3, 6, 6], [3, 1, 3, 3], False, {"padding": 1, "groups": 3}),
    ([2, 1, 13, 13], [6, 1, 5, 5], True, {"padding": 2}),
    ([3, 2, 5, 8], [3, 2, 2, 3], True, {"stride": [1, 2], "padding": [0, 1]}),
    ([2, 5, 4, 4], [3, 5, 1, 1], True, {}),
    ([1, 6, 5, 5], [16, 6, 5, 5], True, {}),
    ([2, 3, 7, 7], [5, 3, 3, 3], True, {"padding": 1, "activation": "relu"}),
]

for xs, ws, bias, params in CONV_CASES:
    inputs = [uniform(xs), uniform(ws, -0.5, 0.5)] + ([uniform([ws[0]], -0.5, 0.5)] if bias else [])
    tag = " ".join(f"{k}={json.dumps(v)}" for k, v in params.items())
    case(f"conv2d/x{fmt(xs)} w{fmt(ws)}{' +b' if bias else ''} {tag}".strip(), "conv2d", params, inputs,
         torch_conv(params))

# ---------------------------------------------------------------- pooling ----

POOL_CASES = [
    ([2, 3, 6, 6], {"kernelSize": 2}),
    ([1, 2, 7, 7], {"kernelSize": 3, "stride": 1}),
    ([2, 2, 7, 7], {"kernelSize": 3, "stride": 2, "padding": 1}),
    ([1, 3, 8, 8], {"kernelSize": 2, "stride": 3}),
    ([2, 1, 13, 13], {"kernelSize": 3, "stride": 3, "padding": 1}),
    ([1, 2, 9, 8], {"kernelSize": [3, 2], "stride": [2, 1], "padding": [1, 0]}),
    ([1, 1, 5, 5], {"kernelSize": 2, "stride": 1, "padding": 1}),
]

for xs, params in POOL_CASES:
    k = pair(params["kernelSize"])
    s = pair(params.get("stride", params["kernelSize"]))
    p = pair(params.get("padding", 0))
    tag = " ".join(f"{key}={json.dumps(v)}" for key, v in params.items())
    # Random continuous values: ties inside a max window have probability ~0.
    case(f"maxPool2d/{fmt(xs)} {tag}", "maxPool2d", params, [uniform(xs)],
         lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p))
    case(f"avgPool2d/{fmt(xs)} {tag}", "avgPool2d", params, [uniform(xs)],
         lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p, count_include_pad=True))

# ---------------------------------------------------------------- softmax ----

for xs, axis in (([3, 5], -1), ([2, 3, 4, 5], 1), ([2, 3, 4, 5], -1), ([4, 1], -1)):
    case(f"softmax/{fmt(xs)} axis={axis}", "softmax", {"axis": axis}, [uniform(xs, -3, 3)],
         lambda x, axis=axis: torch.softmax(x, axis))
    case(f"logSoftmax/{fmt(xs)} axis={axis}", "logSoftmax", {"axis": axis}, [uniform(xs, -3, 3)],
         lambda x, axis=axis: torch.log_softmax(x, axis))

# --------------------------------------------------------- cross-entropy ----

case("crossEntropy/ids [5,7]", "crossEntropy", {}, [uniform([5, 7], -3, 3), torch.randint(0, 7, [5], dtype=torch.int32)],
     lambda x, y: F.cross_entropy(x, y.long()))
case("crossEntropy/ids [1,3]", "crossEntropy", {}, [uniform([1, 3], -3, 3), torch.tensor([2], dtype=torch.int32)],
     lambda x, y: F.cross_entropy(x, y.long()))
probs = torch.softmax(uniform([4, 6], -2, 2), 1)
case("crossEntropy/probabilities [4,6]", "crossEntropy", {}, [uniform([4, 6], -3, 3), probs],
     lambda x, t: F.cross_entropy(x, t))
onehot = F.one_hot(torch.tensor([0, 5, 2]), 6).to(torch.float32)
case("crossEntropy/one-hot [3,6]", "crossEntropy", {}, [uniform([3, 6], -3, 3), onehot],
     lambda x, t: F.cross_entropy(x, t))
case("crossEntropy/ids reduction=none [4,5]", "crossEntropy", {"reduction": "none"},
     [uniform([4, 5], -3, 3), torch.randint(0, 5, [4], dtype=torch.int32)],
     lambda x, y: F.cross_entropy(x, y.long(), reduction="none"))

# Wide rows, for the workgroup-per-row softmax a GPU runs (tests/cnn/variants.test.ts); appended
# last so that the cases above keep their random draws.
for xs, axis, lo in (([3, 300], -1, -30), ([2, 130, 3], 1, -3)):
    case(f"softmax/{fmt(xs)} axis={axis} wide", "softmax", {"axis": axis}, [uniform(xs, lo, -lo)],
         lambda x, axis=axis: torch.softmax(x, axis))
    case(f"logSoftmax/{fmt(xs)} axis={axis} wide", "logSoftmax", {"axis": axis}, [uniform(xs, lo, -lo)],
         lambda x, axis=axis: torch.log_softmax(x, axis))

# Strided convolutions whose stride phases take few or no taps (the input gradient and the
# forward pass walk one phase of the stride at a time): a stride beyond the kernel, 1x1 at
# stride 2, odd sizes, asymmetric padding, groups; appended last to keep the draws above.
STRIDED_CASES = [
    ([2, 3, 9, 11], [4, 3, 1, 1], True, {"stride": 2}),
    ([1, 2, 10, 10], [3, 2, 2, 2], False, {"stride": 3, "padding": 1}),
    ([2, 5, 15, 13], [6, 5, 3, 3], False, {"stride": 2, "padding": 1}),
    ([1, 4, 12, 9], [8, 2, 5, 3], True, {"stride": [3, 2], "padding": [2, 0], "groups": 2}),
    ([3, 2, 8, 8], [2, 2, 3, 3], True, {"stride": 4, "padding": 1, "activation": "relu"}),
]
for xs, ws, bias, params in STRIDED_CASES:
    inputs = [uniform(xs), uniform(ws, -0.5, 0.5)] + ([uniform([ws[0]], -0.5, 0.5)] if bias else [])
    tag = " ".join(f"{k}={json.dumps(v)}" for k, v in params.items())
    case(f"conv2d/x{fmt(xs)} w{fmt(ws)}{' +b' if bias else ''} {tag}".strip(), "conv2d", params, inputs,
         torch_conv(params))

# ------------------------------------------------------------------ write ----

os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
with open(OUT_PATH, "w") as f:
    f.write('{"generator": "scripts/golden/cnn_ops.py", "torch": %s,\n"cases": [\n'
            % json.dumps(torch.__version__))
    f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in CASES))
    f.write("\n]}\n")
print(f"wrote {len(CASES)} cases ({os.path.getsize(OUT_PATH) // 1024} KB) to {os.path.relpath(OUT_PATH, ROOT)}")
