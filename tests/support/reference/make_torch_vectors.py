#!/usr/bin/python3
"""Generate the reference vectors for tests/test_torch_generator.cpp with PyTorch.

Run with an interpreter that has PyTorch (on the development machine: Debian's python3-torch,
i.e. /usr/bin/python3), from anywhere:

    /usr/bin/python3 tests/support/reference/make_torch_vectors.py [--out DIR]

DIR defaults to tests/data/torch next to this script's tests/ folder.

For every CPU capability PyTorch can use here (`default`, `avx2`, and `avx512` when the CPU has
AVX-512) the script starts a worker process with ATEN_CPU_CAPABILITY set to that value (PyTorch
reads it once, at start-up). The worker calls torch.randn on seeded CPU generators and reports the
exact bit patterns of the results. The parent checks that each worker runs the capability it was
given, cross-checks the paths (float64 and n < 16 outputs must not depend on the capability;
PyTorch 1.13 gives avx512 == avx2 for normal_), and writes two small text files:

    cpu_randn.txt         full outputs: single calls and multi-call sequences on one generator
    cpu_randn_hashes.txt  FNV-1a 64-bit digests of large outputs (bit-exactness at scale)

Line formats are described in each file's header. Values are IEEE-754 bit patterns in hex
(8 digits for float32, 16 for float64), so they round-trip exactly.
"""

import argparse
import json
import os
import platform
import re
import struct
import subprocess
import sys

SEEDS = [0, 1, 42, 2**32 + 5, 0xFEDCBA9876543210]
SIZES = [1, 7, 15, 16, 17, 100, 1000]
LARGE_SIZE = 4096 + 3
LARGE_SIZE_SEEDS = {"f": [42, 2**32 + 5], "d": [42]}
# Multi-call sequences on one generator: each entry is a list of (n, dtype) calls.
SEQUENCES = [
    [(7, "f"), (17, "f")],
    [(17, "f"), (7, "f")],
    [(7, "f"), (7, "f")],
    [(1, "f"), (1, "f"), (1, "f")],
    [(7, "f"), (17, "f"), (1, "f")],  # the cached normal survives a large call
    [(15, "f"), (16, "f"), (15, "f")],
    [(3, "d"), (1, "f")],  # float32 and float64 share the cached (double) normal
    [(17, "d"), (5, "f"), (3, "d")],
    [(100, "f"), (33, "f"), (48, "f")],
]
SEQUENCE_SEEDS = [0, 42, 2**32 + 5]
AVX512_SUBSET = {"seeds": [0, 42], "sizes": [16, 17, 100, 1000]}
# Digests of large outputs: (seed, n, dtype).
HASHED = [(0, 1_000_003, "f"), (42, 1_000_003, "f"), (1234, 65536, "f"), (42, 1_000_003, "d")]
# ... and of the 4096 + 3 size for every seed and both dtypes (the full vectors above cover only
# some seeds, to keep the data file small; a digest is just as exact).
HASHED += [(seed, LARGE_SIZE, dtype) for seed in SEEDS for dtype in ("f", "d")]

# What torch.__config__.show() prints as "CPU capability usage" for each ATEN_CPU_CAPABILITY.
CAPABILITY_REPORTED = {"default": "NO AVX", "avx2": "AVX2", "avx512": "AVX512"}
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = 0xFFFFFFFFFFFFFFFF


def fnv1a64(data: bytes) -> int:
    """FNV-1a 64 over bytes (a plain loop: about a second per 4 MB, and unambiguous)."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK64
    return h


def bits_hex(tensor) -> list:
    """The IEEE bit patterns of a float32 or float64 tensor's values, as hex strings."""
    import torch

    raw = tensor.contiguous().numpy().tobytes()
    if tensor.dtype == torch.float32:
        return ["%08x" % v for v in struct.unpack("<%dI" % tensor.numel(), raw)]
    if tensor.dtype == torch.float64:
        return ["%016x" % v for v in struct.unpack("<%dQ" % tensor.numel(), raw)]
    raise ValueError(tensor.dtype)


def cached_normal(generator) -> str:
    """The generator's cached Box-Muller value (hex bits of the double) or 'none'.

    PyTorch 1.13's CPU state (CPUGeneratorImplState, 5056 bytes) holds legacy_pod.normal_y as the
    double at byte 5024 and legacy_pod.normal_is_valid as the int at byte 5040.
    """
    state = generator.get_state().numpy().tobytes()
    if len(state) != 5056:
        raise RuntimeError("unexpected CPU generator state size %d" % len(state))
    if not struct.unpack_from("<i", state, 5040)[0]:
        return "none"
    return "%016x" % struct.unpack_from("<Q", state, 5024)[0]


def torch_dtype(code: str):
    import torch

    return torch.float32 if code == "f" else torch.float64


def run_calls(seed: int, calls) -> dict:
    """Runs torch.randn calls [(n, dtype), ...] in order on one seeded generator."""
    import torch

    g = torch.Generator().manual_seed(seed)
    values = []
    for n, dtype in calls:
        values.extend(bits_hex(torch.randn(n, generator=g, dtype=torch_dtype(dtype))))
    return {"seed": seed, "calls": [[n, d] for n, d in calls], "values": values,
            "cache": cached_normal(g)}


def worker(capability: str) -> None:
    """Computes every case under the capability this process was started with; prints JSON."""
    import torch

    reported = re.search(r"CPU capability usage: ([\w ]+)", torch.__config__.show()).group(1)
    cases = []
    for seed in SEEDS:
        for n in SIZES:
            for dtype in ("f", "d"):
                cases.append(run_calls(seed, [(n, dtype)]))
    for dtype, seeds in LARGE_SIZE_SEEDS.items():
        for seed in seeds:
            cases.append(run_calls(seed, [(LARGE_SIZE, dtype)]))
    for seed in SEQUENCE_SEEDS:
        for calls in SEQUENCES:
            cases.append(run_calls(seed, calls))

    # torch.manual_seed(s) seeds the global CPU generator exactly like Generator().manual_seed(s).
    for seed in (0, 42, 2**32 + 5):
        torch.manual_seed(seed)
        a = torch.randn(100)
        b = torch.randn(100, generator=torch.Generator().manual_seed(seed))
        if not torch.equal(a, b):
            raise RuntimeError("global generator differs from a fresh Generator")

    hashes = []
    for seed, n, dtype in HASHED:
        t = torch.randn(n, generator=torch.Generator().manual_seed(seed), dtype=torch_dtype(dtype))
        ends = bits_hex(t[:1]) + bits_hex(t[-1:])
        hashes.append({"seed": seed, "n": n, "dtype": dtype,
                       "fnv": "%016x" % fnv1a64(t.numpy().tobytes()),
                       "first": ends[0], "last": ends[1]})
    json.dump({"capability": capability, "reported": reported, "torch": torch.__version__,
               "cases": cases, "hashes": hashes}, sys.stdout)


def read_cpu_flags_and_model():
    flags, model = set(), platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "flags" and not flags:
                    flags = set(value.split())
                elif key.strip() == "model name":
                    model = value.strip()
    except OSError:
        pass
    return flags, model


def run_workers(capabilities) -> dict:
    results = {}
    for capability in capabilities:
        env = dict(os.environ, ATEN_CPU_CAPABILITY=capability)
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", capability],
                             env=env, check=True, stdout=subprocess.PIPE).stdout
        result = json.loads(out)
        if result["reported"] != CAPABILITY_REPORTED[capability]:
            raise RuntimeError("asked for %s, PyTorch reports %r"
                               % (capability, result["reported"]))
        results[capability] = result
    return results


def is_vectorised(case) -> bool:
    """True when a case has a float32 call of 16 or more elements (capability-dependent)."""
    return any(dtype == "f" and n >= 16 for n, dtype in case["calls"])


def cross_check(results) -> bool:
    """Checks the capability paths against each other; returns whether avx512 == avx2."""
    reference = results["default"]
    for capability, result in results.items():
        for mine, ref in zip(result["cases"], reference["cases"], strict=True):
            assert mine["seed"] == ref["seed"] and mine["calls"] == ref["calls"]
            if not is_vectorised(mine) and mine["values"] != ref["values"]:
                raise RuntimeError("%s: capability-independent case differs: %r"
                                   % (capability, mine["calls"]))
            if mine["cache"] != ref["cache"]:
                raise RuntimeError("%s: cached normal differs" % capability)
        for mine, ref in zip(result["hashes"], reference["hashes"], strict=True):
            if mine["dtype"] == "d" and mine != ref:
                raise RuntimeError("%s: float64 digest differs" % capability)
    if "avx512" not in results:
        return False
    if results["avx512"]["cases"] != results["avx2"]["cases"] or \
            results["avx512"]["hashes"] != results["avx2"]["hashes"]:
        raise RuntimeError("avx512 differs from avx2: extend the test data and the header")
    return True


def describe_torch(version: str) -> str:
    try:  # the distribution's package version is more precise than torch.__version__ on Debian
        package = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"],
                                 check=True, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL).stdout.decode()
        return "%s (Debian python3-torch %s)" % (version, package)
    except (OSError, subprocess.CalledProcessError):
        return "%s (%s)" % (version, sys.executable)


def call_list(calls) -> str:
    return ",".join("%d%s" % (n, dtype) for n, dtype in calls)


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=os.path.normpath(os.path.join(here, "..", "..", "data",
                                                                       "torch")))
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return 0

    flags, model = read_cpu_flags_and_model()
    capabilities = ["default", "avx2"] + (["avx512"] if "avx512f" in flags else [])
    results = run_workers(capabilities)
    avx512_equals_avx2 = cross_check(results)

    header = [
        "# Reference outputs of torch.randn on PyTorch's CPU generator (ddim TorchCpuGenerator).",
        "# Made by tests/support/reference/make_torch_vectors.py (run with /usr/bin/python3).",
        "# PyTorch %s, Python %s, %s, CPU: %s." % (
            describe_torch(results["default"]["torch"]), platform.python_version(),
            " ".join(platform.libc_ver()), model),
        "# Capabilities run (ATEN_CPU_CAPABILITY, one process each): %s."
        % ", ".join(capabilities),
        "# Checked while generating: float64 and n < 16 outputs are the same on every capability;",
        "# avx512 output is identical to avx2 on every case (%s);" % (
            "verified" if avx512_equals_avx2 else "not run: this CPU has no AVX-512"),
        "# torch.manual_seed(s); torch.randn(n) equals torch.randn(n, generator=g) for a fresh",
        "# g = torch.Generator().manual_seed(s).",
    ]

    lines = header + [
        "#",
        "# One case per line:  <capability> <seed> <calls> <cache> <values...>",
        "#   capability  default | avx2 | avx512",
        "#   seed        decimal, as passed to torch.Generator().manual_seed",
        "#   calls       comma-separated <n><f|d>, each a call torch.randn(n, generator=g,",
        "#               dtype=float32|float64), made in order on one generator",
        "#   cache       the generator's cached Box-Muller normal afterwards (16 hex digits, the",
        "#               double's bits, from torch.get_rng_state's normal_y) or 'none'",
        "#   values      the outputs of all calls concatenated, as IEEE bits in hex",
        "#               (8 digits for float32, 16 for float64)",
        "# 'default' lines hold every case as ATEN_CPU_CAPABILITY=default computes it. Cases",
        "# with a float32 call of 16 or more elements depend on the capability and appear again",
        "# as 'avx2' lines (and a subset as 'avx512' lines); all other cases are",
        "# capability-independent (checked) and appear once.",
    ]
    case_count = 0

    def emit(capability, case):
        nonlocal case_count
        lines.append("%s %d %s %s %s" % (capability, case["seed"], call_list(case["calls"]),
                                         case["cache"], " ".join(case["values"])))
        case_count += 1

    for case in results["default"]["cases"]:
        emit("default", case)
    for case in results["avx2"]["cases"]:
        if is_vectorised(case):
            emit("avx2", case)
    if avx512_equals_avx2:
        for case in results["avx512"]["cases"]:
            calls = case["calls"]
            if len(calls) == 1 and calls[0][1] == "f" and calls[0][0] in AVX512_SUBSET["sizes"] \
                    and case["seed"] in AVX512_SUBSET["seeds"]:
                emit("avx512", case)

    hash_lines = header + [
        "#",
        "# One case per line:  <capability> <seed> <n><f|d> <fnv1a64> <first> <last>",
        "#   fnv1a64      FNV-1a 64-bit hash (offset basis cbf29ce484222325, prime 100000001b3)",
        "#                of the output's bytes: each value's IEEE bits, little-endian, in order",
        "#   first, last  the first and last values' bits in hex (for diagnostics)",
        "# float64 digests (capability-independent, checked) appear once, under 'default'.",
    ]
    digest_count = 0
    for capability in capabilities:
        for h in results[capability]["hashes"]:
            if capability == "default" or h["dtype"] == "f":
                hash_lines.append("%s %d %d%s %s %s %s" % (
                    capability, h["seed"], h["n"], h["dtype"], h["fnv"], h["first"], h["last"]))
                digest_count += 1

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "cpu_randn.txt"), "w", encoding="ascii") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "cpu_randn_hashes.txt"), "w", encoding="ascii") as f:
        f.write("\n".join(hash_lines) + "\n")
    print("wrote %d cases to %s and %d digests to %s" % (
        case_count, os.path.join(args.out, "cpu_randn.txt"), digest_count,
        os.path.join(args.out, "cpu_randn_hashes.txt")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
