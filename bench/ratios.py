#!/usr/bin/env python3
"""Reads the JSON of ddim's benchmark binaries (--benchmark_format=json, one file each) and prints
the ratios bench/README.md reports, as Markdown. Every ratio compares two benchmarks of the same
run; with repetitions, each benchmark's fastest repetition is used. Standard library only.

    python3 bench/ratios.py step.json noise.json sample.json parallel.json
"""
import json
import sys


def load(paths):
    runs = {}
    context = None
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        for b in data["benchmarks"]:
            if b.get("run_type", "iteration") != "iteration":
                continue
            # with --benchmark_repetitions, keep the fastest repetition: the one least disturbed
            # by the rest of the machine
            best = runs.get(b["name"])
            if best is None or b["real_time"] < best["real_time"]:
                runs[b["name"]] = b
    return runs, context


def ns(b):
    factor = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}[b.get("time_unit", "ns")]
    return b["real_time"] * factor


def size_label(n):
    labels = {112: "16×7", 1000: "1000", 32768: "2×4×64×64", 196608: "64×3×32×32",
              262144: "4×4×128×128", 1 << 16: "2^16", 1 << 17: "2^17", 1 << 25: "2^25"}
    return labels.get(n, str(n))


def main():
    runs, context = load(sys.argv[1:])
    get = runs.get
    print(f"Machine: {context.get('num_cpus')} CPUs at {context.get('mhz_per_cpu')} MHz; "
          f"caches: " + ", ".join(f"L{c['level']} {c['type']} {c['size'] // 1024} KiB"
                                    for c in context.get("caches", [])))
    print()
    sizes = [112, 1000, 32768, 196608, 262144, 1 << 25]
    thread_sizes = [112, 1000, 32768, 1 << 16, 1 << 17, 196608, 262144, 1 << 25]
    for scalar in ("float", "double"):
        print(f"Step against the triad, {scalar} (bytes/s of the step ÷ bytes/s of the triad; "
              "time ratio for noise):\n")
        print("| size | η = 0 out of place | η = 0 in place | η = 0 clip | injected noise | "
              "generated noise ÷ noise alone (time) | triad ns |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for n in sizes:
            triad = get(f"BM_Triad<{scalar}>/{n}")
            step = get(f"BM_StepEta0_{scalar}/eps/{n}")
            inplace = get(f"BM_StepEta0InPlace<{scalar}>/{n}")
            clip = get(f"BM_StepEta0_{scalar}/eps_clip/{n}")
            injected = get(f"BM_StepInjectedNoise<{scalar}>/{n}")
            generated = get(f"BM_StepGeneratedNoise<{scalar}>/{n}")
            alone = get(f"BM_NoiseAlone<{scalar}>/{n}")
            if not triad or not step:
                continue
            t = triad["bytes_per_second"]
            cells = [f"{b['bytes_per_second'] / t:.2f}" if b else "–" for b in (step, inplace, clip, injected)]
            cells.append(f"{ns(generated) / ns(alone):.2f}" if generated and alone else "–")
            cells.append(f"{ns(triad):.1f}")
            print(f"| {size_label(n)} | " + " | ".join(cells) + " |")
        print()
    step, triad = get("BM_StepEta0_float/eps/112"), get("BM_Triad<float>/112")
    if step and triad:
        print(f"Step at 16×7 floats: {ns(step):.1f} ns, {ns(step) / ns(triad):.2f}× the triad's {ns(triad):.1f} ns.\n")

    print("Loop with a trivial model (ε = 0.1 x) against the sum of its parts (S model calls + S steps, each")
    print("measured alone) and against the same calls chained in a hand-written loop:\n")
    print("| shape | S | loop ns | loop ÷ parts | loop ÷ hand-written | loop minus model calls, ns |")
    print("|---|---:|---:|---:|---:|---:|")
    for rows, cols in ((16, 7), (4 * 64 * 64, 2)):
        model, alone = get(f"BM_ModelCall/{rows}/{cols}"), get(f"BM_StepAlone/{rows}/{cols}")
        for s in (8, 50, 1000):
            loop, hand = get(f"BM_Loop/{rows}/{cols}/{s}"), get(f"BM_HandLoop/{rows}/{cols}/{s}")
            if loop and model and alone:
                parts = s * (ns(model) + ns(alone))
                by_hand = f"{ns(loop) / ns(hand):.3f}" if hand else "–"
                print(f"| {rows}×{cols} | {s} | {ns(loop):.0f} | {ns(loop) / parts:.3f} | {by_hand} | {ns(loop) - s * ns(model):.0f} |")
    print()

    print("Gaussian generator, ns per value (ratio: std::normal_distribution + mt19937 ÷ ddim):\n")
    print("| type | values | PhiloxNoise | Philox words only | std | std ÷ ddim |")
    print("|---|---:|---:|---:|---:|---:|")
    for scalar in ("float", "double"):
        for n in (1 << 16, 1 << 22):
            p, s, w = get(f"BM_Philox<{scalar}>/{n}"), get(f"BM_StdNormalMt19937<{scalar}>/{n}"), get(f"BM_PhiloxWords/{n}")
            if p and s:
                words = f"{ns(w) / n:.2f}" if w else "–"
                print(f"| {scalar} | {n} | {ns(p) / n:.2f} | {words} | {ns(s) / n:.2f} | {ns(s) / ns(p):.1f} |")
    print()

    print("Threads (Sampler::set_parallelism, 8-step loop, model cost 0): time at 1 thread ÷ time at 2:\n")
    print("| size | η = 0 | η = 1 (generated noise) |")
    print("|---|---:|---:|")
    for n in thread_sizes:
        cells = []
        for eta in (0, 10):
            one = get(f"BM_SamplerThreads/values:{n}/threads:1/eta10:{eta}/real_time")
            two = get(f"BM_SamplerThreads/values:{n}/threads:2/eta10:{eta}/real_time")
            cells.append(f"{ns(one) / ns(two):.2f}" if one and two else "–")
        print(f"| {size_label(n)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
