"""Shared by the golden-fixture generators: how a torch tensor becomes JSON for the TS tests."""
import numpy as np
import torch


def _num(v, dtype):
    if dtype == torch.int32:
        return int(v)
    # Shortest decimal that round-trips to the same float32: exact after
    # Math.fround / Float32Array in JS, and roughly half the bytes of repr(double).
    return float(str(np.float32(v)))


def encode(t, with_dtype=True):
    """{shape, dtype?, data} with data flat in row-major order, as tests/helpers loads it."""
    t = t.detach().contiguous()
    d = {"shape": list(t.shape)}
    if with_dtype:
        d["dtype"] = {torch.float32: "float32", torch.int32: "int32"}[t.dtype]
    d["data"] = [_num(v, t.dtype) for v in t.reshape(-1).tolist()]
    return d
