#!/usr/bin/python3
"""Golden fixtures for @tessera/nn's learning-rate schedules (schedules.*), computed with
torch.optim.lr_scheduler.

Run with Debian's system python (it carries torch via python3-torch):

    /usr/bin/python3 scripts/golden/schedules.py

Writes tests/fixtures/schedules.json. Each case makes an SGD optimizer with one parameter at
`learningRate`, attaches the scheduler, records the rate (`initial`), then 20 times runs
`optimizer.step()` and `scheduler.step()` (`scheduler.step(metric)` for reduce-on-plateau, with
the case's `metrics`) and records the rate after each. The `options` are the @tessera/nn option
names; `torch` says what PyTorch ran. Rates are Python floats (float64), written with repr so
that they round-trip exactly.
"""
import json
import os
import warnings

import torch
from torch.optim import lr_scheduler as S

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT_PATH = os.path.join(ROOT, "tests", "fixtures", "schedules.json")
STEPS = 20
CASES = []


def run(name, schedule, learning_rate, options, make, torch_desc, metrics=None):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=learning_rate)
    lrs = []
    with warnings.catch_warnings():
        # SequentialLR steps its first scheduler again in its constructor, and calls step(0) on
        # the next one at a milestone (the deprecated epoch argument): both warn, as intended.
        warnings.simplefilter("ignore")
        sched = make(opt)
        initial = opt.param_groups[0]["lr"]
        for k in range(STEPS):
            param.grad = torch.zeros(1)
            opt.step()
            if metrics is None:
                sched.step()
            else:
                sched.step(metrics[k])
            lrs.append(opt.param_groups[0]["lr"])
    case = {
        "name": name,
        "schedule": schedule,
        "learningRate": learning_rate,
        "options": options,
        "torch": torch_desc,
        "initial": initial,
        "lrs": lrs,
    }
    if metrics is not None:
        case["metrics"] = metrics
    CASES.append(case)


def warmup_cosine(opt, warmup, start_factor, t_max, eta_min):
    return S.SequentialLR(
        opt,
        [S.LinearLR(opt, start_factor=start_factor, end_factor=1.0, total_iters=warmup),
         S.CosineAnnealingLR(opt, T_max=t_max, eta_min=eta_min)],
        milestones=[warmup],
    )


run("step", "step", 0.1, {"stepSize": 3, "gamma": 0.5},
    lambda o: S.StepLR(o, step_size=3, gamma=0.5), "StepLR(step_size=3, gamma=0.5)")
run("step, default gamma", "step", 1.0, {"stepSize": 5},
    lambda o: S.StepLR(o, step_size=5), "StepLR(step_size=5) (gamma=0.1)")
run("exponential", "exponential", 0.1, {"gamma": 0.9},
    lambda o: S.ExponentialLR(o, gamma=0.9), "ExponentialLR(gamma=0.9)")
run("cosine", "cosine", 0.1, {"tMax": 20},
    lambda o: S.CosineAnnealingLR(o, T_max=20), "CosineAnnealingLR(T_max=20) (eta_min=0)")
run("cosine past tMax", "cosine", 0.1, {"tMax": 6, "etaMin": 0.001},
    lambda o: S.CosineAnnealingLR(o, T_max=6, eta_min=0.001),
    "CosineAnnealingLR(T_max=6, eta_min=0.001): 20 steps, so the rate climbs back after step 6")
run("cosine with warm-up", "cosine", 0.1, {"tMax": 10, "etaMin": 1e-4, "warmupSteps": 5, "warmupStartFactor": 0.1},
    lambda o: warmup_cosine(o, 5, 0.1, 10, 1e-4),
    "SequentialLR([LinearLR(start_factor=0.1, end_factor=1.0, total_iters=5), "
    "CosineAnnealingLR(T_max=10, eta_min=1e-4)], milestones=[5])")
run("cosine with warm-up, default start factor", "cosine", 0.05, {"tMax": 17, "warmupSteps": 3},
    lambda o: warmup_cosine(o, 3, 1.0 / 3, 17, 0),
    "SequentialLR([LinearLR(start_factor=1/3, end_factor=1.0, total_iters=3), "
    "CosineAnnealingLR(T_max=17)], milestones=[3])")
run("cosine with a one-step warm-up", "cosine", 0.2, {"tMax": 19, "warmupSteps": 1, "warmupStartFactor": 0.5},
    lambda o: warmup_cosine(o, 1, 0.5, 19, 0),
    "SequentialLR([LinearLR(start_factor=0.5, end_factor=1.0, total_iters=1), "
    "CosineAnnealingLR(T_max=19)], milestones=[1])")

# A loss that improves, stalls (inside and outside the relative threshold), improves again.
LOSS = [1.0, 0.8, 0.7, 0.699, 0.6995, 0.7, 0.71, 0.65, 0.64, 0.64, 0.64, 0.639, 0.64, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
# An accuracy that rises, then hovers.
ACC = [0.5, 0.6, 0.62, 0.61, 0.63, 0.7, 0.7, 0.71, 0.69, 0.72, 0.8, 0.8, 0.8, 0.79, 0.81, 0.8, 0.8, 0.8, 0.8, 0.8]
run("plateau, min, relative threshold", "reduceOnPlateau", 0.1, {"factor": 0.5, "patience": 2, "threshold": 0.01},
    lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2, threshold=0.01),
    "ReduceLROnPlateau(mode='min', factor=0.5, patience=2, threshold=0.01)", metrics=LOSS)
run("plateau, max, absolute threshold, cooldown, minLr", "reduceOnPlateau", 0.1,
    {"mode": "max", "factor": 0.3, "patience": 1, "threshold": 0.015, "thresholdMode": "abs", "cooldown": 2, "minLr": 0.002},
    lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.3, patience=1, threshold=0.015, threshold_mode="abs",
                                  cooldown=2, min_lr=0.002),
    "ReduceLROnPlateau(mode='max', factor=0.3, patience=1, threshold=0.015, threshold_mode='abs', cooldown=2, "
    "min_lr=0.002)", metrics=ACC)
run("plateau, defaults", "reduceOnPlateau", 0.01, {},
    lambda o: S.ReduceLROnPlateau(o), "ReduceLROnPlateau() (patience=10, factor=0.1, threshold=1e-4)",
    metrics=[1.0] + [0.99995] * 19)
run("plateau, min, absolute threshold", "reduceOnPlateau", 0.1, {"patience": 0, "threshold": 0.05, "thresholdMode": "abs", "factor": 0.5},
    lambda o: S.ReduceLROnPlateau(o, patience=0, threshold=0.05, threshold_mode="abs", factor=0.5),
    "ReduceLROnPlateau(mode='min', factor=0.5, patience=0, threshold=0.05, threshold_mode='abs')", metrics=LOSS)

fixture = {
    "generator": "scripts/golden/schedules.py",
    "torch": torch.__version__,
    "steps": STEPS,
    "cases": CASES,
}
with open(OUT_PATH, "w") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
print(f"wrote {OUT_PATH}: {len(CASES)} cases")
