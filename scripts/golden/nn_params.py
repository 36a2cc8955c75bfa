#!/usr/bin/python3
"""A safetensors file written from PyTorch weights, for @tessera/nn's loadParams test.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/nn_params.py

Builds conv(1->2, 3x3, pad 1) + ReLU -> max-pool 2 -> linear(8 -> 3) in PyTorch, writes its
weights as tests/fixtures/torch_small.safetensors under Tessera's names (conv1.W, conv1.b,
fc.W, fc.b; the linear weight is transposed to Lasagne's [in, out] layout), and the input and
output as tests/fixtures/torch_small.json. The python-safetensors package is not in Debian,
so the file is written here by hand, exactly as the format specifies (8-byte little-endian
header length, JSON header padded with spaces to 8 bytes, raw little-endian data).
"""
import json
import os
import struct

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")

torch.manual_seed(0)
conv = torch.nn.Conv2d(1, 2, 3, padding=1)
fc = torch.nn.Linear(8, 3)
x = torch.randn(2, 1, 4, 4)
with torch.no_grad():
    y = fc(torch.flatten(F.max_pool2d(F.relu(conv(x)), 2), 1))


def save_safetensors(tensors, path, metadata):
    header = {"__metadata__": metadata}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


save_safetensors(
    {"conv1.W": conv.weight, "conv1.b": conv.bias, "fc.W": fc.weight.t(), "fc.b": fc.bias},
    os.path.join(FIX, "torch_small.safetensors"),
    {"format": "pt", "source": "scripts/golden/nn_params.py"},
)


def num(v):
    return float(str(np.float32(v)))


with open(os.path.join(FIX, "torch_small.json"), "w") as f:
    json.dump({
        "generator": "scripts/golden/nn_params.py",
        "x": {"shape": list(x.shape), "data": [num(v) for v in x.reshape(-1).tolist()]},
        "y": {"shape": list(y.shape), "data": [num(v) for v in y.reshape(-1).tolist()]},
    }, f)
    f.write("\n")
print("wrote tests/fixtures/torch_small.safetensors and torch_small.json")
