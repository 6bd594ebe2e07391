#!/usr/bin/python3
"""DDPM loops of diffusers' scheduler tests, evaluated in float32 and in float64 with PyTorch.

Run with an interpreter that has PyTorch (Debian's python3-torch: /usr/bin/python3):

    /usr/bin/python3 tests/support/reference/make_torch_loops.py [--out FILE]

FILE defaults to tests/data/torch/ddpm_loops_float64.txt. diffusers itself is not needed.

Why: diffusers' DDPMScheduler runs in float32, ddim in double, so ddim cannot reproduce
diffusers' loop values exactly, and a tolerance alone would not say where the difference comes
from. This script writes out the DDPMScheduler.step update for the configuration of diffusers'
tests (linear betas 1e-4..0.02, T = 1000, fixed_small variance, clip_sample, no set_timesteps so
t_prev = t - 1, model x * t / (t + 1), noise drawn by torch.randn((4, 3, 8, 8), generator) only
where t > 0 after torch.manual_seed(0)) and evaluates it twice with the very same noise:

  * in float32, as diffusers does: the script checks that this reproduces the sums recorded from
    diffusers in tests/data/diffusers/ddpm_loops.txt (exactly, when that file is present);
  * in float64 (float64 betas, alpha_bar and arithmetic; the float32 noise widened): the values
    ddim's double-precision state is compared with.

Variants: 'eps' and 'v' (test_full_loop_no_noise / _with_v_prediction: 1000 steps from the
deterministic sample) and 'with_noise' (test_full_loop_with_noise: add_noise(sample, noise, t=1)
with the deterministic noise tensor, then steps t = 1 and t = 0).
"""

import argparse
import math
import os
import re
import sys

import torch

T = 1000


def deterministic_tensor(flip: bool, dtype) -> "torch.Tensor":
    """diffusers' dummy_sample_deter (flip=False) / dummy_noise_deter (flip=True), shape (4,3,8,8).

    Element [b, c, h, w] = q / 768 (or (767 - q) / 768) with q = 256 c + 32 h + 4 w + b, computed
    as a float32 division (as diffusers' arange / 768 is) and then converted to dtype.
    """
    q = torch.arange(768, dtype=torch.float32)
    if flip:
        q = 767 - q
    return (q.reshape(3, 8, 8, 4) / 768).permute(3, 0, 1, 2).contiguous().to(dtype)


def alpha_bar_table(dtype) -> "torch.Tensor":
    betas = torch.linspace(1e-4, 0.02, T, dtype=dtype)
    return torch.cumprod(1.0 - betas, dim=0)


def ddpm_step(x, model_output, t, alpha_bar, prediction, generator):
    """One DDPMScheduler.step (fixed_small, clip to [-1, 1]) from t to t - 1, in x's dtype."""
    one = torch.tensor(1.0, dtype=x.dtype)
    a_t = alpha_bar[t]
    a_prev = alpha_bar[t - 1] if t > 0 else one
    b_t = 1 - a_t
    b_prev = 1 - a_prev
    step_alpha = a_t / a_prev
    step_beta = 1 - step_alpha
    if prediction == "epsilon":
        x0 = (x - b_t ** 0.5 * model_output) / a_t ** 0.5
    else:  # v_prediction
        x0 = a_t ** 0.5 * x - b_t ** 0.5 * model_output
    x0 = x0.clamp(-1.0, 1.0)
    mean = (a_prev ** 0.5 * step_beta) / b_t * x0 + step_alpha ** 0.5 * b_prev / b_t * x
    if t > 0:
        noise = torch.randn((4, 3, 8, 8), generator=generator, dtype=torch.float32).to(x.dtype)
        variance = torch.clamp(b_prev / b_t * step_beta, min=1e-20)
        mean = mean + variance ** 0.5 * noise
    return mean


def run(variant: str, dtype):
    """Returns the final sample and {t: sum |x| after the step at t} for the recorded steps."""
    alpha_bar = alpha_bar_table(dtype)
    generator = torch.manual_seed(0)
    prediction = "v_prediction" if variant == "v" else "epsilon"
    if variant == "with_noise":
        x0 = deterministic_tensor(False, dtype)
        noise = deterministic_tensor(True, dtype)
        x = alpha_bar[1] ** 0.5 * x0 + (1 - alpha_bar[1]) ** 0.5 * noise
        timesteps = [1, 0]
    else:
        x = deterministic_tensor(False, dtype)
        timesteps = list(range(T - 1, -1, -1))
    sums = {}
    for t in timesteps:
        model_output = x * torch.tensor(float(t), dtype=dtype) / (t + 1)
        x = ddpm_step(x, model_output, t, alpha_bar, prediction, generator)
        if variant == "with_noise" or t % 100 == 0 or t == T - 1:
            sums[t] = math.fsum(abs(v) for v in x.double().flatten().tolist())
    return x, sums


def diffusers_sums(path: str):
    """{(variant, t): sum_exact} from ddpm_loops.txt, or {} if the file is absent."""
    found = {}
    if not os.path.exists(path):
        return found
    pattern = re.compile(r"^(eps|v|with_noise) step \d+ t=(\d+) .*sum_exact=([0-9.e+-]+)")
    with open(path, encoding="ascii") as f:
        for line in f:
            match = pattern.match(line)
            if match:
                found[(match.group(1), int(match.group(2)))] = float(match.group(3))
    return found


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    data = os.path.normpath(os.path.join(here, "..", "..", "data"))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.join(data, "torch", "ddpm_loops_float64.txt"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    reference = diffusers_sums(os.path.join(data, "diffusers", "ddpm_loops.txt"))
    lines = [
        "# ddpm_loops_float64.txt: diffusers' DDPMScheduler test loops evaluated in float64 (and float32)",
        "# Made by tests/support/reference/make_torch_loops.py with PyTorch %s (CPU); see its docstring." %
        torch.__version__,
        "# Noise: torch.randn((4,3,8,8), generator=torch.manual_seed(0)) in float32 at every step with t > 0,",
        "#   widened to float64 for the float64 loop (the same numbers in both loops).",
        "# Records: '<variant> <dtype> step t=<t> : sum_exact=<sum |x| after the step at t (math.fsum)>'",
        "#          '<variant> float64 final_sample 768 : <values, logical C order of (4,3,8,8), Python repr>'",
    ]
    for variant in ("eps", "v", "with_noise"):
        x32, sums32 = run(variant, torch.float32)
        x64, sums64 = run(variant, torch.float64)
        matched = 0
        for t, value in sums32.items():
            expected = reference.get((variant, t))
            if expected is not None:
                if value != expected:
                    raise RuntimeError("%s t=%d: float32 loop gives %r, diffusers %r" % (variant, t, value, expected))
                matched += 1
        lines.append("# --- %s: float32 loop equals diffusers' recorded sums at %d of %d steps (exactly); "
                     "float64 final minus float32 final = %.6g, max |x64 - x32| = %.6g" % (
                         variant, matched, len(sums32), sums64[0] - sums32[0],
                         (x64 - x32.double()).abs().max().item()))
        for t in sorted(sums32, reverse=True):
            lines.append("%s float32 step t=%d : sum_exact=%r" % (variant, t, sums32[t]))
        for t in sorted(sums64, reverse=True):
            lines.append("%s float64 step t=%d : sum_exact=%r" % (variant, t, sums64[t]))
        lines.append("%s float64 final_sample 768 : %s" % (
            variant, " ".join(repr(v) for v in x64.flatten().tolist())))
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
