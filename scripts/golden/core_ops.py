#!/usr/bin/python3
"""Golden fixtures for Tessera's core tensor ops, computed with PyTorch.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/core_ops.py

Writes tests/fixtures/core_ops.json. Every case holds the inputs, the forward
output and, for differentiable ops, a random cotangent plus the vector-Jacobian
products d(sum(output * cotangent)) / d(input_i) from torch autograd. All maths
is float32 on purpose: the framework computes in float32, so float64 goldens
would only widen the tolerances the tests need.
"""
import json
import os

import torch
import torch.nn.functional as F

from fixture import encode

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "core_ops.json")

torch.manual_seed(0)
CASES = []


# ---------------------------------------------------------------- inputs ----

def uniform(shape, lo=-2.0, hi=2.0):
    return torch.rand(shape, dtype=torch.float32) * (hi - lo) + lo


def away_from_zero(shape, lo=0.25, hi=2.0):
    """Random sign times |x| in [lo, hi]: keeps abs/relu/div off their kinks/poles."""
    sign = torch.where(torch.rand(shape) < 0.5, -1.0, 1.0)
    return sign * uniform(shape, lo, hi)


def small_ints(shape, lo=-1, hi=2):
    """Few distinct values so comparisons hit ties (eq true, gt/lt false)."""
    return torch.randint(lo, hi, shape).to(torch.float32)


def ints(shape, lo=-5, hi=6):
    return torch.randint(lo, hi, shape, dtype=torch.int32)


# -------------------------------------------------------------- encoding ----



# ------------------------------------------------------------------ cases ----

def case(name, op, params, inputs, fn, differentiable=True, nondiff=()):
    """Record one case; fn maps the input tensors to one output tensor.

    Only float32 inputs are leaves that require grad; int32 inputs (and the
    input indices listed in nondiff, e.g. where's condition) get null grads.
    An output that is not float32 cannot carry a cotangent.
    """
    leaves = []
    for i, x in enumerate(inputs):
        x = x.clone()
        if differentiable and x.dtype == torch.float32 and i not in nondiff:
            x.requires_grad_(True)
        leaves.append(x)
    out = fn(*leaves)
    entry = {"name": name, "op": op, "params": params,
             "inputs": [encode(x) for x in leaves], "output": encode(out)}
    if differentiable:
        if out.dtype == torch.float32:
            cot = uniform(out.shape, -1.0, 1.0)
            entry["cotangent"] = encode(cot, with_dtype=False)
            wrt = [x for x in leaves if x.requires_grad]
            gs = iter(torch.autograd.grad(out, wrt, cot))
            entry["grads"] = [encode(next(gs), with_dtype=False) if x.requires_grad else None
                              for x in leaves]
        else:
            # Integer-only arithmetic: nothing to differentiate, but keep the
            # grads slot so the test sees an explicit "no gradient" per input.
            entry["grads"] = [None for _ in leaves]
    CASES.append(entry)


def fmt(shape):
    return "[" + ",".join(str(s) for s in shape) + "]"


# -------------------------------------------------- binary elementwise ----

BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
    "pow": torch.pow, "maximum": torch.maximum, "minimum": torch.minimum,
}
BINARY_SHAPES = [
    ("same shape", [2, 3], [2, 3]),
    ("broadcast", [2, 3], [3]),
    ("broadcast", [2, 1, 4], [3, 1]),
    ("scalar lhs", [], [2, 3]),
    ("rank mismatch", [4], [2, 3, 4]),
    ("size-1 both sides", [1, 3], [2, 1]),
]


def binary_inputs(op, sa, sb):
    if op == "pow":   # positive base keeps a**b real and d/db = a**b * log(a) finite
        return uniform(sa, 0.5, 2.0), uniform(sb, -2.0, 2.0)
    if op == "div":
        return uniform(sa), away_from_zero(sb, 0.5, 2.0)
    if op in ("maximum", "minimum"):
        # a and b live on 0.2-spaced grids offset by 0.1 from each other, so
        # |a-b| >= 0.1 everywhere: no ties, hence no ambiguous subgradient.
        a = torch.round(uniform(sa) * 5) / 5 + 0.05
        b = torch.round(uniform(sb) * 5) / 5 - 0.05
        return a, b
    return uniform(sa), uniform(sb)


for op, fn in BINARY.items():
    for label, sa, sb in BINARY_SHAPES:
        a, b = binary_inputs(op, sa, sb)
        case(f"{op}/{label} {fmt(sa)}+{fmt(sb)}", op, {}, [a, b], fn)

case("add/int32+int32 [2,3]+[3]", "add", {}, [ints([2, 3]), ints([3])], torch.add)
case("mul/int32*int32 [2,3]*[2,3]", "mul", {}, [ints([2, 3]), ints([2, 3])], torch.mul)
# torch promotes int32*float32 to float32, matching the framework's rule.
case("mul/int32*float32 [2,3]*[2,3]", "mul", {}, [ints([2, 3]), uniform([2, 3])], torch.mul)

# ------------------------------------------------------------ comparisons ----

for op, fn in {"eq": torch.eq, "gt": torch.gt, "lt": torch.lt}.items():
    for sa, sb in ([2, 3], [2, 3]), ([2, 3], [3]):
        case(f"{op}/{fmt(sa)} vs {fmt(sb)}", op, {}, [small_ints(sa), small_ints(sb)],
             lambda a, b, fn=fn: fn(a, b).to(torch.float32), differentiable=False)

# ------------------------------------------------------------------ unary ----

UNARY = {
    "neg": (torch.neg, uniform), "exp": (torch.exp, uniform),
    "log": (torch.log, lambda s: uniform(s, 0.2, 3.0)),
    "sqrt": (torch.sqrt, lambda s: uniform(s, 0.2, 3.0)),
    "abs": (torch.abs, away_from_zero), "relu": (torch.relu, away_from_zero),
    "sigmoid": (torch.sigmoid, lambda s: uniform(s, -4.0, 4.0)),
    "tanh": (torch.tanh, uniform),
}
for op, (fn, gen) in UNARY.items():
    case(f"{op}/[3,4]", op, {}, [gen([3, 4])], fn)
case("exp/scalar []", "exp", {}, [uniform([])], torch.exp)

# ------------------------------------------------------------------ where ----

cond = (torch.rand(2, 3) < 0.5).to(torch.float32)
case("where/[2,3] ? [2,3] : [3]", "where", {}, [cond, uniform([2, 3]), uniform([3])],
     lambda c, a, b: torch.where(c != 0, a, b), nondiff=(0,))

# ------------------------------------------------------------- reductions ----

REDUCE = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin}
REDUCE_CASES = [([2, 3, 4], None, False), ([2, 3, 4], 0, False), ([2, 3, 4], -1, False),
                ([2, 3, 4], [0, 2], False), ([2, 3, 4], 1, True), ([5], None, False)]

for op, fn in REDUCE.items():
    for shape, axis, keep in REDUCE_CASES:
        def reduce(x, fn=fn, axis=axis, keep=keep):
            # axis None = reduce everything (spelled out: amax/amin with dim=() is ambiguous).
            dims = tuple(range(x.dim())) if axis is None else axis
            return fn(x, dim=dims, keepdim=keep)
        tag = f"axis={axis}" + (" keepdims" if keep else "")
        case(f"{op}/{fmt(shape)} {tag}", op, {"axis": axis, "keepdims": keep},
             [uniform(shape)], reduce)

# continuous random draws: ties in argmax have probability ~0.
for axis in (1, 0):
    case(f"argmax/[3,5] axis={axis}", "argmax", {"axis": axis}, [uniform([3, 5])],
         lambda x, axis=axis: torch.argmax(x, dim=axis).to(torch.int32), differentiable=False)

# ------------------------------------------------------------ shape ops ----

for src, dst in ([2, 3, 4], [6, 4]), ([2, 3, 4], [4, -1]), ([6], [1, 2, 3]), ([2, 3], [6]):
    case(f"reshape/{fmt(src)}->{fmt(dst)}", "reshape", {"shape": dst}, [uniform(src)],
         lambda x, dst=dst: x.reshape(dst))

for shape, perm in ([2, 3], None), ([2, 3, 4], None), ([2, 3, 4], [1, 0, 2]), ([2, 3, 4], [2, 0, 1]):
    # perm None reverses all dims, like numpy's x.T / transpose() default.
    case(f"transpose/{fmt(shape)} perm={perm}", "transpose", {"perm": perm}, [uniform(shape)],
         lambda x, perm=perm: x.permute(perm if perm is not None else list(reversed(range(x.dim())))))

case("flatten/[2,3,2,2] startDim=1", "flatten", {"startDim": 1}, [uniform([2, 3, 2, 2])],
     lambda x: torch.flatten(x, start_dim=1))


def tf_slice(x, begin, size):
    # TF.js semantics: size -1 means "through the end of that dim".
    return x[tuple(slice(b, None if s == -1 else b + s) for b, s in zip(begin, size))]


for shape, begin, size in (([4, 5], [1, 2], [2, 3]), ([4, 5], [0, 1], [-1, 2]),
                           ([2, 3, 4], [1, 0, 1], [1, 2, 3]), ([2, 3, 4], [0, 1, 2], [-1, -1, 2])):
    case(f"slice/{fmt(shape)} begin={begin} size={size}", "slice", {"begin": begin, "size": size},
         [uniform(shape)], lambda x, b=begin, s=size: tf_slice(x, b, s))

for shapes, axis in (([2, 3], [1, 3], [3, 3]), 0), (([2, 3], [2, 2]), 1), (([2, 3, 2], [2, 3, 1], [2, 3, 3]), -1):
    case(f"concat/{'+'.join(fmt(s) for s in shapes)} axis={axis}", "concat", {"axis": axis},
         [uniform(s) for s in shapes], lambda *xs, axis=axis: torch.cat(xs, dim=axis))

case("oneHot/[6] numClasses=5", "oneHot", {"numClasses": 5},
     [torch.tensor([0, 3, 4, 1, 3, 2], dtype=torch.int32)],
     lambda x: F.one_hot(x.long(), 5).to(torch.float32), differentiable=False)

# ----------------------------------------------------------------- matmul ----

for sa, sb in (([3, 4], [4, 5]), ([2, 3, 4], [4, 5]), ([2, 3, 4], [2, 4, 5]),
               ([2, 1, 3, 4], [3, 4, 2]), ([7, 13], [13, 9]), ([1, 1], [1, 1])):
    case(f"matmul/{fmt(sa)}@{fmt(sb)}", "matmul", {}, [uniform(sa), uniform(sb)], torch.matmul)

# w is [in, out] (x @ w + b), not torch.nn.Linear's [out, in].
case("linear/x[5,4] w[4,3] b[3]", "linear", {}, [uniform([5, 4]), uniform([4, 3]), uniform([3])],
     lambda x, w, b: x @ w + b)
case("linear/x[5,4] w[4,3] no bias", "linear", {}, [uniform([5, 4]), uniform([4, 3])],
     lambda x, w: x @ w)

# ------------------------------------------------------------------ write ----

os.makedirs(os.path.dirname(OUT_PATH), exist_ok=True)
with open(OUT_PATH, "w") as f:
    # One case per line: compact, yet diffs stay readable when a case changes.
    f.write('{"generator": "scripts/golden/core_ops.py", "torch": %s,\n"cases": [\n'
            % json.dumps(torch.__version__))
    f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in CASES))
    f.write("\n]}\n")
print(f"wrote {len(CASES)} cases to {os.path.relpath(OUT_PATH, ROOT)}")
