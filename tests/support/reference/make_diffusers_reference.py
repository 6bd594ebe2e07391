#!/usr/bin/python3
"""Generate reference data for the ddim C++ library from HuggingFace diffusers and ermongroup/ddim.

Usage:
    /usr/bin/python3 make_diffusers_reference.py --diffusers <diffusers-checkout>/src [--ddim <ermongroup-ddim-checkout>] [--out data]

The diffusers scheduler modules (scheduling_ddim, scheduling_ddpm, scheduling_ddim_inverse) are imported
unmodified from the given source tree, together with the real diffusers configuration_utils, scheduling_utils,
utils/outputs, utils/import_utils, utils/logging, utils/deprecation_utils and utils/torch_utils (randn_tensor).
Only third-party packages that are not installed here (huggingface_hub, packaging, tqdm) and a handful of
hub/download-related names that the schedulers never call are replaced by stubs; see load_diffusers().

The paper code (ermongroup/ddim) is used directly as well: functions/denoising.py is imported, and the
functions get_beta_schedule / Diffusion.sample_image are compiled straight from runners/diffusion.py (that
module itself cannot be imported without torchvision/tqdm/etc.).

Every data file starts with '#' comment lines describing provenance and layout.
"""

import argparse
import ast
import contextlib
import importlib
import importlib.machinery
import importlib.util
import math
import os
import platform
import re
import subprocess
import sys
import types

import numpy as np
import torch

# ----------------------------------------------------------------------------------------------
# loading diffusers from source with minimal stubs
# ----------------------------------------------------------------------------------------------

STUB_NOTES = []


def _stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    m.__spec__ = importlib.machinery.ModuleSpec(name, None)
    sys.modules[name] = m
    return m


def _pkg_stub(name, path, **attrs):
    m = _stub(name, **attrs)
    m.__path__ = [path]
    m.__package__ = name
    return m


def _load_file(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


class _StubError(Exception):
    pass


def _offline(*a, **k):
    raise RuntimeError("huggingface_hub is stubbed: no hub access in make_diffusers_reference.py")


class _Version:
    """Tiny stand-in for packaging.version.Version (numeric major.minor.patch comparison only)."""

    def __init__(self, s):
        self.s = str(s)
        nums = re.findall(r"\d+", self.s.split("+")[0])
        self.t = tuple(int(x) for x in nums[:3])

    def _o(self, o):
        return o.t if isinstance(o, _Version) else _Version(o).t

    def __lt__(self, o):
        return self.t < self._o(o)

    def __le__(self, o):
        return self.t <= self._o(o)

    def __gt__(self, o):
        return self.t > self._o(o)

    def __ge__(self, o):
        return self.t >= self._o(o)

    def __eq__(self, o):
        return self.t == self._o(o)

    def __ne__(self, o):
        return self.t != self._o(o)

    def __hash__(self):
        return hash(self.t)

    @property
    def base_version(self):
        return ".".join(map(str, self.t))


def load_diffusers(src):
    pkg = os.path.join(src, "diffusers")
    if not os.path.isfile(os.path.join(pkg, "schedulers", "scheduling_ddim.py")):
        sys.exit(f"--diffusers must point to the 'src' folder of a diffusers checkout (got {src})")

    # third-party packages (only stubbed when missing)
    try:
        import huggingface_hub  # noqa: F401
    except ImportError:
        hh = _pkg_stub("huggingface_hub", "/nonexistent", DDUFEntry=type("DDUFEntry", (), {}),
                       create_repo=_offline, hf_hub_download=_offline, __version__="0.0.0")
        hh.utils = _stub("huggingface_hub.utils", EntryNotFoundError=_StubError, HfHubHTTPError=_StubError,
                         RepositoryNotFoundError=_StubError, RevisionNotFoundError=_StubError,
                         validate_hf_hub_args=lambda f: f, is_jinja_available=lambda: False)
        hh.constants = _stub("huggingface_hub.constants", HF_HOME="/nonexistent")
        STUB_NOTES.append("huggingface_hub (stub)")
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        p = _pkg_stub("packaging", "/nonexistent")
        p.version = _stub("packaging.version", Version=_Version, parse=_Version)
        STUB_NOTES.append("packaging.version (stub)")
    try:
        import tqdm  # noqa: F401
    except ImportError:
        t = _pkg_stub("tqdm", "/nonexistent")
        t.auto = _stub("tqdm.auto", tqdm=None)
        STUB_NOTES.append("tqdm (stub)")

    # diffusers package shells: their heavy __init__ files are bypassed, the real submodules are loaded.
    version = re.search(r'__version__ = "([^"]+)"', open(os.path.join(pkg, "__init__.py")).read()).group(1)
    d = _pkg_stub("diffusers", pkg, __version__=version)
    u = _pkg_stub("diffusers.utils", os.path.join(pkg, "utils"))
    d.utils = u
    u.logging = _load_file("diffusers.utils.logging", os.path.join(pkg, "utils", "logging.py"))
    _load_file("diffusers.utils.import_utils", os.path.join(pkg, "utils", "import_utils.py"))
    u.BaseOutput = _load_file("diffusers.utils.outputs", os.path.join(pkg, "utils", "outputs.py")).BaseOutput
    u.deprecate = _load_file("diffusers.utils.deprecation_utils",
                             os.path.join(pkg, "utils", "deprecation_utils.py")).deprecate
    # utils/torch_utils.py builds device tables at import time that reference torch.xpu / torch.mps, which
    # torch 1.13 lacks. Provide inert placeholders only while that module is imported, then remove them.
    added = []
    for nm in ("xpu", "mps"):
        if not hasattr(torch, nm):
            setattr(torch, nm, types.SimpleNamespace(empty_cache=None, device_count=lambda: 0, manual_seed=None,
                                                     is_available=lambda: False))
            added.append(nm)
    try:
        u.torch_utils = _load_file("diffusers.utils.torch_utils", os.path.join(pkg, "utils", "torch_utils.py"))
    finally:
        for nm in added:
            delattr(torch, nm)
    if added:
        STUB_NOTES.append("torch.%s placeholders during import of utils/torch_utils.py only" % "/".join(added))
    # names imported by configuration_utils / scheduling_utils that are only used for hub I/O
    u.HUGGINGFACE_CO_RESOLVE_ENDPOINT = "offline"
    u.DummyObject = type("DummyObject", (type,), {})
    u.extract_commit_hash = lambda *a, **k: None
    u.http_user_agent = lambda *a, **k: ""
    u.PushToHubMixin = type("PushToHubMixin", (), {})
    STUB_NOTES.append("diffusers.utils names HUGGINGFACE_CO_RESOLVE_ENDPOINT/DummyObject/extract_commit_hash/"
                      "http_user_agent/PushToHubMixin (stub; hub I/O only)")
    d.configuration_utils = _load_file("diffusers.configuration_utils", os.path.join(pkg, "configuration_utils.py"))
    d.schedulers = _pkg_stub("diffusers.schedulers", os.path.join(pkg, "schedulers"))
    _load_file("diffusers.schedulers.scheduling_utils", os.path.join(pkg, "schedulers", "scheduling_utils.py"))
    mods = types.SimpleNamespace()
    mods.ddim = importlib.import_module("diffusers.schedulers.scheduling_ddim")
    mods.ddpm = importlib.import_module("diffusers.schedulers.scheduling_ddpm")
    mods.inv = importlib.import_module("diffusers.schedulers.scheduling_ddim_inverse")
    mods.version = version
    return mods


def git_head(path):
    try:
        return subprocess.check_output(["git", "-C", path, "rev-parse", "HEAD"], stderr=subprocess.DEVNULL,
                                       text=True).strip()
    except Exception:
        return "unknown"


# ----------------------------------------------------------------------------------------------
# paper code (ermongroup/ddim)
# ----------------------------------------------------------------------------------------------


def load_paper(ddim_root):
    """Import functions/denoising.py and compile get_beta_schedule + Diffusion.sample_image from
    runners/diffusion.py (the module's own imports need torchvision, tqdm, ... so it is not imported)."""
    sys.path.insert(0, ddim_root)
    denoising = importlib.import_module("functions.denoising")
    path = os.path.join(ddim_root, "runners", "diffusion.py")
    tree = ast.parse(open(path).read(), path)
    wanted = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "get_beta_schedule":
            wanted["get_beta_schedule"] = node
        if isinstance(node, ast.ClassDef) and node.name == "Diffusion":
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef) and sub.name == "sample_image":
                    wanted["sample_image"] = sub
    ns = {"np": np, "torch": torch}
    for name, node in wanted.items():
        mod = ast.Module(body=[node], type_ignores=[])
        exec(compile(mod, path, "exec"), ns)
    return types.SimpleNamespace(denoising=denoising, get_beta_schedule=ns["get_beta_schedule"],
                                 sample_image=ns["sample_image"])


@contextlib.contextmanager
def cuda_to_cpu():
    """functions/denoising.py hard-codes `.to('cuda')`; map that to the CPU while the paper loops run."""
    orig = torch.Tensor.to

    def to(self, *args, **kwargs):
        args = tuple("cpu" if (isinstance(a, str) and a.startswith("cuda")) else a for a in args)
        return orig(self, *args, **kwargs)

    torch.Tensor.to = to
    try:
        yield
    finally:
        torch.Tensor.to = orig


# ----------------------------------------------------------------------------------------------
# formatting helpers
# ----------------------------------------------------------------------------------------------


def f32(x):
    """float32 value: 9 significant digits -> parses back to the identical float32 (strtof / (float)strtod)."""
    return "%.9g" % float(np.float32(x))


def f64(x):
    """float64 value: shortest round-trip repr (<= 17 significant digits)."""
    return repr(float(x))


def fmt_tensor(t):
    t = t.detach().reshape(-1)
    if t.dtype == torch.float32:
        return " ".join(f32(v) for v in t.tolist())
    if t.dtype == torch.float64:
        return " ".join(f64(v) for v in t.tolist())
    return " ".join(str(int(v)) for v in t.tolist())


def fmt_val(v):
    if isinstance(v, torch.Tensor):
        if v.dtype == torch.float32:
            return f32(v.item())
        if v.dtype == torch.float64:
            return f64(v.item())
        return str(v.item())
    if isinstance(v, float):
        return f64(v)
    return str(v)


def abs_stats(x):
    a = torch.abs(x)
    return {
        "sum_torch": f32(torch.sum(a).item()),
        "mean_torch": f32(torch.mean(a).item()),
        "sum_exact": f64(math.fsum(a.double().reshape(-1).tolist())),
    }


class Writer:
    def __init__(self, outdir, header):
        self.outdir = outdir
        self.header = header
        self.files = {}

    def open(self, name, title, extra=()):
        f = open(os.path.join(self.outdir, name), "w")
        f.write(f"# {name}: {title}\n")
        for line in self.header:
            f.write(f"# {line}\n")
        for line in extra:
            f.write(f"# {line}\n" if line else "#\n")
        self.files[name] = f
        return f


# ----------------------------------------------------------------------------------------------
# the objects used by diffusers' scheduler tests (tests/schedulers/test_schedulers.py), rebuilt here
# ----------------------------------------------------------------------------------------------


def dummy_sample_deter():
    n = 4 * 3 * 8 * 8
    s = torch.arange(n)
    s = s.reshape(3, 8, 8, 4)
    s = s / n
    return s.permute(3, 0, 1, 2)


def dummy_noise_deter():
    n = 4 * 3 * 8 * 8
    s = torch.arange(n).flip(-1)
    s = s.reshape(3, 8, 8, 4)
    s = s / n
    return s.permute(3, 0, 1, 2)


def dummy_model(sample, t, *args):
    if isinstance(t, torch.Tensor):
        t = t.reshape(-1, *(1,) * (len(sample.shape) - 1)).to(sample.device, dtype=sample.dtype)
    return sample * t / (t + 1)


SAMPLE_DOC = [
    "initial sample (diffusers tests/schedulers/test_schedulers.py dummy_sample_deter): shape (4,3,8,8) =",
    "  torch.arange(768).reshape(3,8,8,4) / 768, then .permute(3,0,1,2); i.e. element [b,c,h,w] =",
    "  float32( (c*256 + h*32 + w*4 + b) / 768 )  (single correctly rounded float32 division).",
    "dummy_noise_deter: same layout built from arange(768).flip(-1): element [b,c,h,w] = float32((767 - (c*256+h*32+w*4+b))/768).",
    "model(x, t) = x * t / (t + 1) evaluated in float32 as (x*t)/(t+1) with t cast to float32",
    "(t is the int64 timestep tensor from scheduler.timesteps, reshaped to (-1,1,1,1); for DDPM the test passes a python int).",
    "All flattened tensors below are in logical C order of shape (4,3,8,8): flat index = ((b*3+c)*8+h)*8+w.",
    "sum_torch/mean_torch = torch.sum/mean(torch.abs(x)).item() (float32 reduction, what diffusers' tests assert);",
    "sum_exact = math.fsum of the float32 elements in float64.",
]


# ----------------------------------------------------------------------------------------------
# generators of the individual files
# ----------------------------------------------------------------------------------------------


def gen_timesteps(W, D):
    f = W.open("timesteps.txt", "DDIMScheduler.set_timesteps(S) for every spacing/T/S/steps_offset case", [
        "line: spacing T S steps_offset : t0 t1 ... (the int64 self.timesteps, in iteration order)",
        "a failing call is written as: spacing T S steps_offset : ERROR <exception type>: <message>",
        "comment lines starting with '# !' directly after a data line flag anomalies of that case:",
        "  out_of_range (t<0 or t>T-1: step() would index alphas_cumprod out of bounds or wrap around),",
        "  duplicates, len!=S (number of timesteps differs from S).",
        "DDPMScheduler.set_timesteps(num_inference_steps=S) was checked to give identical lists for every case.",
        "Note: steps_offset is only added for 'leading'; 'trailing' and 'linspace' ignore it.",
    ])
    anomalies = []
    for spacing in ("leading", "trailing", "linspace"):
        for T in (1000, 1, 2, 7, 10, 999):
            for S in (1, 2, 7, 10, 16, 50, 333, 1000):
                if S > T:
                    continue
                for off in (0, 1):
                    key = f"{spacing} {T} {S} {off}"
                    outs = []
                    for cls in (D.ddim.DDIMScheduler, D.ddpm.DDPMScheduler):
                        sch = cls(num_train_timesteps=T, timestep_spacing=spacing, steps_offset=off)
                        try:
                            sch.set_timesteps(S)
                            outs.append(("ok", sch.timesteps.tolist(), str(sch.timesteps.dtype)))
                        except Exception as e:  # noqa: BLE001
                            outs.append(("err", f"{type(e).__name__}: {e}", None))
                    assert outs[0] == outs[1], (key, outs)
                    kind, val, dt = outs[0]
                    if kind == "err":
                        f.write(f"{key} : ERROR {val}\n")
                        anomalies.append(f"{key}: raises {val}")
                        continue
                    assert dt == "torch.int64", dt
                    f.write(f"{key} : {' '.join(map(str, val))}\n")
                    flags = []
                    oor = [t for t in val if t < 0 or t > T - 1]
                    if oor:
                        flags.append(f"out_of_range {sorted(set(oor))}")
                    if len(set(val)) != len(val):
                        flags.append("duplicates " + str(sorted({t for t in val if val.count(t) > 1})))
                    if len(val) != S:
                        flags.append(f"len {len(val)} != S {S}")
                    if any(val[i] <= val[i + 1] for i in range(len(val) - 1)):
                        flags.append("not strictly decreasing")
                    if flags:
                        f.write(f"# ! {'; '.join(flags)}\n")
                        anomalies.append(f"{key}: {'; '.join(flags)}")
    f.write("# extra cases outside the grid (steps_offset 0), chosen to show trailing's extra entry and round-half-even:\n")
    for spacing, T, S in (("trailing", 1000, 61), ("trailing", 1000, 103), ("trailing", 999, 13), ("trailing", 999, 15),
                          ("trailing", 17, 7), ("trailing", 100, 29), ("trailing", 1000, 16), ("trailing", 1000, 3),
                          ("linspace", 1000, 3), ("linspace", 1000, 5), ("leading", 1000, 3), ("leading", 1000, 999)):
        sch = D.ddim.DDIMScheduler(num_train_timesteps=T, timestep_spacing=spacing)
        sch.set_timesteps(S)
        val = sch.timesteps.tolist()
        f.write(f"{spacing} {T} {S} 0 : {' '.join(map(str, val))}\n")
        flags = []
        if len(val) != S:
            flags.append(f"len {len(val)} != S {S}")
        oor = [t for t in val if t < 0 or t > T - 1]
        if oor:
            flags.append(f"out_of_range {sorted(set(oor))}")
        if flags:
            f.write(f"# ! {'; '.join(flags)}\n")
            anomalies.append(f"{spacing} {T} {S} 0: {'; '.join(flags)}")

    # closed-form formulas (see NOTES.md) checked against diffusers for every S <= T, T in a few values
    def closed_form(spacing, T, S, off):
        if spacing == "leading":
            r = T // S
            return [(S - 1 - i) * r + off for i in range(S)]
        if spacing == "linspace":
            if S == 1:
                return [0]
            step = (T - 1) / (S - 1)
            vals = [float(i) * step for i in range(S - 1)] + [float(T - 1)]
            return [int(np.rint(v)) for v in reversed(vals)]
        r = T / S
        n = math.ceil(T / r)
        d = (T - r) - T
        vals = [float(T)] + [T + i * d for i in range(1, n)]
        return [int(np.rint(v)) - 1 for v in vals]

    checked = mism = 0
    extra_len = []
    for T in (1000, 999, 768, 100, 17, 7):
        for S in range(1, T + 1):
            for spacing in ("leading", "trailing", "linspace"):
                for off in ((0, 1) if spacing == "leading" else (0,)):
                    sch = D.ddim.DDIMScheduler(num_train_timesteps=T, timestep_spacing=spacing, steps_offset=off)
                    sch.set_timesteps(S)
                    val = sch.timesteps.tolist()
                    checked += 1
                    if val != closed_form(spacing, T, S, off):
                        mism += 1
                    if len(val) != S:
                        extra_len.append((spacing, T, S, len(val), val[-1]))
    f.write(f"# closed-form check (NOTES.md formulas) vs diffusers for T in 1000,999,768,100,17,7 and all S<=T: "
            f"{checked} cases, {mism} mismatches\n")
    f.write(f"# cases there with len(timesteps) != S ({len(extra_len)}; all trailing, extra last entry -1):\n")
    for i in range(0, len(extra_len), 8):
        f.write("#   " + " ".join(f"{sp[0]}:T={T},S={S}->{n}(last {lv})" for sp, T, S, n, lv in extra_len[i:i + 8]) + "\n")
    f.write("# summary of anomalies:\n")
    for a in anomalies:
        f.write(f"#   {a}\n")
    f.close()
    return anomalies


def gen_paper_sequences(W, P):
    f = W.open("paper_sequences.txt", "ermongroup/ddim Diffusion.sample_image timestep sequences (seq)", [
        "Produced by running the paper's own sample_image (compiled from runners/diffusion.py) with",
        "functions.denoising.generalized_steps replaced by a recorder, num_timesteps=T=1000.",
        "uniform: skip = T // S; seq = range(0, T, skip)   (may have MORE than S entries when T % S != 0)",
        "quad:    seq = [int(v) for v in np.linspace(0, np.sqrt(T*0.8), S) ** 2]   (int() truncates; float64)",
        "line: skip_type T S n : seq[0] ... seq[n-1]   (ascending; the sampler walks it in reverse, and the",
        "  'next' timestep of seq[0] is -1, i.e. alpha_bar = 1). ddpm_noisy uses the same two formulas.",
        "quad gives duplicate entries from S = 50 on (flagged '# !'); generalized_steps then does steps with",
        "t == next_t (a no-op up to rounding that still evaluates the model). 'closed-form check' at the end",
        "compares the formulas above (numpy linspace: value_i = i * (stop/(S-1)), last value forced to stop)",
        "with the paper code for every S in 1..1000.",
    ])
    captured = {}

    def recorder(x, seq, model, b, **kwargs):
        captured["seq"] = list(seq)
        captured["kwargs"] = kwargs
        return [x], []

    orig = P.denoising.generalized_steps
    P.denoising.generalized_steps = recorder
    try:
        for skip_type in ("uniform", "quad"):
            for S in (1, 2, 7, 10, 20, 50, 100, 333, 1000):
                T = 1000
                self = types.SimpleNamespace(
                    args=types.SimpleNamespace(sample_type="generalized", skip_type=skip_type, timesteps=S, eta=0.0),
                    num_timesteps=T, betas=None)
                captured.clear()
                P.sample_image(self, torch.zeros(1), None, last=False)
                seq = [int(v) for v in captured["seq"]]
                f.write(f"{skip_type} {T} {S} {len(seq)} : {' '.join(map(str, seq))}\n")
                flags = []
                if len(seq) != S:
                    flags.append(f"len {len(seq)} != S {S}")
                if len(set(seq)) != len(seq):
                    dup = sorted({v for v in seq if seq.count(v) > 1})
                    flags.append(f"{len(seq) - len(set(seq))} duplicate entries, values {dup[:20]}{' ...' if len(dup) > 20 else ''}")
                if flags:
                    f.write(f"# ! {'; '.join(flags)}\n")
        # closed-form check over all S
        mism = 0
        for skip_type in ("uniform", "quad"):
            for S in range(1, 1001):
                T = 1000
                self = types.SimpleNamespace(
                    args=types.SimpleNamespace(sample_type="generalized", skip_type=skip_type, timesteps=S, eta=0.0),
                    num_timesteps=T, betas=None)
                captured.clear()
                P.sample_image(self, torch.zeros(1), None, last=False)
                seq = [int(v) for v in captured["seq"]]
                if skip_type == "uniform":
                    cf = list(range(0, T, T // S))
                else:
                    stop = math.sqrt(T * 0.8)
                    if S == 1:
                        vals = [0.0]
                    else:
                        step = stop / (S - 1)
                        vals = [i * step for i in range(S - 1)] + [stop]
                    cf = [int(v * v) for v in vals]
                mism += cf != seq
        f.write(f"# closed-form check: uniform and quad, T=1000, S=1..1000: {mism} mismatches\n")
    finally:
        P.denoising.generalized_steps = orig
    f.close()


def gen_alphas(W, D, P):
    f = W.open("alphas_cumprod.txt", "beta schedules and alphas_cumprod (T=1000)", [
        "line: source schedule quantity dtype n : v0 ... v(n-1)",
        "source 'diffusers-DDIM' = DDIMScheduler(...).betas / .alphas_cumprod (float32 torch tensors as diffusers",
        "  computes them: betas via torch.linspace(float32) / betas_for_alpha_bar, alphas = 1.0 - betas (float32),",
        "  alphas_cumprod = torch.cumprod(alphas) -- on CPU torch accumulates the float32 cumprod in DOUBLE and",
        "  rounds each partial product to float32; see NOTES.md). 'diffusers-DDPM' = DDPMScheduler (only it has",
        "  'sigmoid' and 'laplace').",
        "  linear: beta_start=0.0001, beta_end=0.02; scaled_linear: beta_start=0.00085, beta_end=0.012;",
        "  sigmoid: DDPMScheduler(beta_schedule='sigmoid') with its defaults beta_start=0.0001, beta_end=0.02;",
        "  zsnr-* = same with rescale_betas_zero_snr=True (float32 arithmetic as in rescale_zero_terminal_snr).",
        "source 'paper' = ermongroup/ddim get_beta_schedule(...) betas (float64 numpy), with beta_start=0.0001,",
        "  beta_end=0.02 (the values in all four configs/*.yml, which all use beta_schedule 'linear'),",
        "  num_diffusion_timesteps=1000; alphas_cumprod_f64 = np.cumprod(1-betas) in float64 (mathematical",
        "  reference). 'paper-runtime' = what the paper code actually uses: torch.from_numpy(betas).float() and",
        "  compute_alpha's (1-beta).cumprod on a float32 tensor (here on CPU; the paper runs it on CUDA where the",
        "  cumprod accumulates in float32, so the last bits can differ).",
    ])

    def dump(src, sched, qty, t):
        dt = {torch.float32: "float32", torch.float64: "float64"}[t.dtype]
        f.write(f"{src} {sched} {qty} {dt} {t.numel()} : {fmt_tensor(t)}\n")

    cfgs = [
        ("linear", dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02)),
        ("scaled_linear", dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012)),
        ("squaredcos_cap_v2", dict(beta_schedule="squaredcos_cap_v2")),
        ("zsnr-linear", dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02, rescale_betas_zero_snr=True)),
        ("zsnr-scaled_linear", dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                                    rescale_betas_zero_snr=True)),
    ]
    for name, cfg in cfgs:
        s = D.ddim.DDIMScheduler(num_train_timesteps=1000, **cfg)
        s2 = D.ddpm.DDPMScheduler(num_train_timesteps=1000, **cfg)
        s3 = D.inv.DDIMInverseScheduler(num_train_timesteps=1000, **cfg)
        assert torch.equal(s.alphas_cumprod, s2.alphas_cumprod) and torch.equal(s.alphas_cumprod, s3.alphas_cumprod)
        dump("diffusers-DDIM", name, "betas", s.betas)
        dump("diffusers-DDIM", name, "alphas_cumprod", s.alphas_cumprod)
    for name in ("sigmoid",):
        s = D.ddpm.DDPMScheduler(num_train_timesteps=1000, beta_schedule=name)
        dump("diffusers-DDPM", name, "betas", s.betas)
        dump("diffusers-DDPM", name, "alphas_cumprod", s.alphas_cumprod)
    for name in ("sigmoid", "laplace"):
        try:
            D.ddim.DDIMScheduler(beta_schedule=name)
            f.write(f"# DDIMScheduler(beta_schedule='{name}') accepted (unexpected)\n")
        except NotImplementedError as e:
            f.write(f"# DDIMScheduler(beta_schedule='{name}') raises NotImplementedError: {e}\n")

    for name in ("linear", "quad", "const", "jsd", "sigmoid"):
        b = P.get_beta_schedule(name, beta_start=0.0001, beta_end=0.02, num_diffusion_timesteps=1000)
        bt = torch.from_numpy(b)
        dump("paper", name, "betas", bt)
        dump("paper", name, "alphas_cumprod_f64", torch.from_numpy(np.cumprod(1.0 - b)))
        b32 = bt.float()
        # exactly what functions/denoising.compute_alpha evaluates, for every t in 0..T-1
        if name == "linear":
            a = P.denoising.compute_alpha(b32, torch.arange(1000)).reshape(-1)
            dump("paper-runtime", name, "betas_float32", b32)
            dump("paper-runtime", name, "alphas_cumprod", a)
    f.close()


def gen_ddim_variance(W, D):
    f = W.open("ddim_variance.txt", "DDIMScheduler._get_variance(t, t_prev)", [
        "variance = (1 - a_prev)/(1 - a_t) * (1 - a_t/a_prev), a = alphas_cumprod (float32), a_prev =",
        "  final_alpha_cumprod when t_prev < 0 (1.0 if set_alpha_to_one else alphas_cumprod[0]).",
        "line: schedule set_alpha_to_one t t_prev : variance(float32)   (T=1000, beta 1e-4..0.02 unless stated)",
        "diffusers test_variance expects: (0,0)->0, (420,400)->0.14771, (980,960)->0.32460, (487,486)->0.00979, (999,998)->0.02",
        "NOTE: (0,0) evaluates 0/0-free: (1-a0)/(1-a0)*(1-1) = 0.",
    ])
    pairs = [(0, 0), (420, 400), (980, 960), (487, 486), (999, 998), (0, -1), (1, 0), (100, 0), (100, -1),
             (900, 800), (500, 400), (999, 899), (999, -1), (10, -90), (50, 30), (1, -1)]
    for sched, cfg in (("linear", {}), ("scaled_linear", dict(beta_schedule="scaled_linear", beta_start=0.00085,
                                                                 beta_end=0.012))):
        for sato in (True, False):
            s = D.ddim.DDIMScheduler(set_alpha_to_one=sato, **cfg)
            for t, p in pairs:
                v = s._get_variance(t, p)
                assert v.dtype == torch.float32
                f.write(f"{sched} {int(sato)} {t} {p} : {f32(v.item())}\n")
    f.close()


def neg_model(sample, t, *args):
    """-(x * t / (t + 1)): makes the predicted x0 large so that clipping / thresholding really act."""
    return -dummy_model(sample, t)


def run_ddim_loop(D, S=10, eta=0.0, generator=None, variance_noise=None, step_kwargs=None, model=None, **cfg):
    base = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear", clip_sample=True)
    base.update(cfg)
    sch = D.ddim.DDIMScheduler(**base)
    sch.set_timesteps(S)
    sample = dummy_sample_deter()
    steps = []
    model = model or dummy_model
    for t in sch.timesteps:
        residual = model(sample, t)
        kw = dict(step_kwargs or {})
        if generator is not None:
            kw["generator"] = generator
        if variance_noise is not None:
            kw["variance_noise"] = variance_noise
        out = sch.step(residual, t, sample, eta, **kw)
        prev = int(t) - sch.config.num_train_timesteps // sch.num_inference_steps
        sample = out.prev_sample
        steps.append((int(t), prev, sample.clone(), out.pred_original_sample.clone()))
    return sch, sample, steps


def ddim_step_list_prev(sch, model_output, timestep, prev_timestep, sample):
    """The deterministic DDIM update (paper eq. 12 with sigma = 0) from `timestep` to a previous
    timestep chosen by the caller, written out here from the paper's formulas in float32 torch
    arithmetic. Used ONLY for the '*-list' variants (previous timestep read from the list); fed the
    stride-based previous timestep it reproduces DDIMScheduler.step bit for bit (checked by the
    'verify' lines of gen_ddim_loops). epsilon and v_prediction, optional clipping of x0."""
    alpha_bar_t = sch.alphas_cumprod[timestep]
    alpha_bar_prev = sch.alphas_cumprod[prev_timestep] if prev_timestep >= 0 else sch.final_alpha_cumprod
    signal, noise = torch.sqrt(alpha_bar_t), torch.sqrt(1 - alpha_bar_t)
    kind = sch.config.prediction_type
    if kind == "epsilon":  # eq. 9
        x0_pred, eps_pred = (sample - noise * model_output) / signal, model_output
    elif kind == "v_prediction":  # v = sqrt(ab) eps - sqrt(1 - ab) x0
        x0_pred, eps_pred = signal * sample - noise * model_output, signal * model_output + noise * sample
    else:
        raise ValueError(kind)
    if sch.config.clip_sample:
        bound = sch.config.clip_sample_range
        x0_pred = x0_pred.clamp(-bound, bound)
    sigma = 0.0 * torch.sqrt(sch._get_variance(timestep, prev_timestep))  # eta = 0, as diffusers computes it
    return torch.sqrt(alpha_bar_prev) * x0_pred + torch.sqrt(1 - alpha_bar_prev - sigma ** 2) * eps_pred


def run_ddim_loop_list(D, S, use_list=True, **cfg):
    base = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear", clip_sample=True)
    base.update(cfg)
    sch = D.ddim.DDIMScheduler(**base)
    sch.set_timesteps(S)
    ts = sch.timesteps.tolist()
    sample = dummy_sample_deter()
    steps = []
    for i, t in enumerate(sch.timesteps):
        residual = dummy_model(sample, t)
        if use_list:
            prev = ts[i + 1] if i + 1 < len(ts) else -1
        else:
            prev = int(t) - sch.config.num_train_timesteps // sch.num_inference_steps
        sample = ddim_step_list_prev(sch, residual, t, torch.tensor(prev), sample)
        steps.append((int(t), prev, sample.clone(), None))
    return sch, sample, steps


def write_loop(f, name, desc, sch, sample, steps, full=False, per_step_first=0):
    st = abs_stats(sample)
    f.write(f"# --- {name}: {desc}\n")
    f.write(f"{name} config : {' '.join(f'{k}={v}' for k, v in sch.config.items() if not k.startswith('_'))}\n")
    f.write(f"{name} timesteps : {' '.join(str(s[0]) for s in steps)}\n")
    f.write(f"{name} prev_timesteps_used : {' '.join(str(s[1]) for s in steps)}\n")
    f.write(f"{name} final : sum_torch={st['sum_torch']} mean_torch={st['mean_torch']} sum_exact={st['sum_exact']}\n")
    for i, (t, p, x, x0) in enumerate(steps):
        s2 = abs_stats(x)
        line = f"{name} step {i} t={t} prev={p} : sum_torch={s2['sum_torch']} sum_exact={s2['sum_exact']}"
        if per_step_first:
            line += " first=" + ",".join(f32(v) for v in x.reshape(-1)[:per_step_first].tolist())
            if x0 is not None:
                line += " x0_first=" + ",".join(f32(v) for v in x0.reshape(-1)[:per_step_first].tolist())
        f.write(line + "\n")
    if full:
        f.write(f"{name} final_sample 768 : {fmt_tensor(sample)}\n")


def gen_ddim_loops(W, D):
    f = W.open("ddim_loops.txt", "DDIMScheduler 10-step full loops (diffusers tests/schedulers/test_scheduler_ddim.py)", SAMPLE_DOC + [
        "test config: num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',",
        "  clip_sample=True (all other options at their defaults: set_alpha_to_one=True, steps_offset=0,",
        "  prediction_type='epsilon', timestep_spacing='leading', thresholding=False, clip_sample_range=1.0);",
        "  set_timesteps(10); for t in timesteps: x = step(model(x, t), t, x, eta).prev_sample",
        "records per variant: 'config', 'timesteps', 'prev_timesteps_used' (what step() indexed for alpha_prev:",
        "  t - T//S for diffusers, the next list entry or -1 for the '*-list' variants), 'final' stats, then one",
        "  'step' line per step (stats after that step; for 'eps' also the first 5 elements of x and of",
        "  pred_original_sample), and for some variants 'final_sample 768 : ...' (all elements, logical C order).",
        "'*-list' variants are NOT diffusers output: diffusers' step() always uses prev = t - T//S. They come from",
        "  ddim_step_list_prev() in make_diffusers_reference.py, the paper's eta=0 update (eq. 12)",
        "  written out in float32 torch with prev supplied from the timestep list; the same function fed the stride prev",
        "  reproduces diffusers bit-for-bit for every spacing used here (checked at generation time, see",
        "  'verify' lines).",
        "Expected values asserted by diffusers' tests (tolerance 1e-2 on sum, 1e-3 on mean): eps 172.0067/0.223967,",
        "  v_prediction 52.5302/0.0684, set_alpha_to_one+beta_start=0.01 149.8295/0.1951, no set_alpha_to_one",
        "  149.0784/0.1941, add_noise 'with_noise' loop 354.5418/0.4616.",
    ])
    noise = dummy_noise_deter()
    variants = [
        # name, description, config, full final sample, per-step first-N
        ("eps", "test_full_loop_no_noise", {}, True, 5),
        ("v", "test_full_loop_with_v_prediction", dict(prediction_type="v_prediction"), True, 5),
        ("b001-a1", "test_full_loop_with_set_alpha_to_one (beta_start=0.01, set_alpha_to_one=True)",
         dict(beta_start=0.01, set_alpha_to_one=True), False, 0),
        ("b001-a0", "test_full_loop_with_no_set_alpha_to_one (beta_start=0.01, set_alpha_to_one=False)",
         dict(beta_start=0.01, set_alpha_to_one=False), True, 0),
        ("eps-a0", "eps, set_alpha_to_one=False (beta_start=0.0001)", dict(set_alpha_to_one=False), False, 0),
        ("noclip", "eps, clip_sample=False (identical to eps: this model never leaves [-1,1])",
         dict(clip_sample=False), False, 0),
        ("v-noclip", "v_prediction, clip_sample=False", dict(prediction_type="v_prediction", clip_sample=False),
         False, 0),
        ("sample", "prediction_type='sample' (degenerate: model(x,0)=0 at the last step -> exactly 0)",
         dict(prediction_type="sample"), False, 0),
        ("thr05", "eps, thresholding=True, sample_max_value=0.5 (clamp(min=1,max=0.5) -> s=0.5)",
         dict(thresholding=True, sample_max_value=0.5), True, 0),
        ("offset1", "eps, steps_offset=1 (timesteps 901..1)", dict(steps_offset=1), False, 0),
        ("cos", "eps, beta_schedule='squaredcos_cap_v2'", dict(beta_schedule="squaredcos_cap_v2"), True, 0),
        ("scaled", "eps, beta_schedule='scaled_linear' 0.00085..0.012",
         dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012), True, 0),
        ("zsnr-v-trailing", "v_prediction, rescale_betas_zero_snr=True, timestep_spacing='trailing'",
         dict(prediction_type="v_prediction", rescale_betas_zero_snr=True, timestep_spacing="trailing"), True, 0),
        ("zsnr-eps-trailing", "eps, rescale_betas_zero_snr=True, trailing (alpha_bar[999]=0 -> division by 0)",
         dict(rescale_betas_zero_snr=True, timestep_spacing="trailing"), False, 5),
        ("zsnr-eps-leading", "eps, rescale_betas_zero_snr=True, leading (t=999 never visited)",
         dict(rescale_betas_zero_snr=True), False, 0),
    ]
    for name, desc, cfg, full, first in variants:
        sch, x, steps = run_ddim_loop(D, **cfg)
        write_loop(f, name, desc, sch, x, steps, full=full, per_step_first=first)
    f.write("# thresholding / clip_sample_range with the test model: identical to 'eps' (x0 stays inside [-1,1]):\n")
    base_eps = run_ddim_loop(D)[1]
    for name, cfg in (("cliprange2", dict(clip_sample_range=2.0)), ("thr1", dict(thresholding=True)),
                      ("thr2", dict(thresholding=True, sample_max_value=2.0)),
                      ("thr2-r08", dict(thresholding=True, sample_max_value=2.0, dynamic_thresholding_ratio=0.8))):
        x = run_ddim_loop(D, **cfg)[1]
        f.write(f"{name} identical_to_eps : {int(torch.equal(x, base_eps))} sum_torch="
                f"{f32(torch.sum(torch.abs(x)).item())}\n")

    # negated model: x0 predictions far outside [-1, 1] -> clipping/thresholding/use_clipped_model_output act
    f.write("# --- 'neg-*' variants use model(x, t) = -(x*t/(t+1)) (same sample) so that x0 leaves [-1,1]\n")
    noise = dummy_noise_deter()
    neg = [
        ("neg-eps", "neg model, eps, clip_sample=True", {}, {}, 0.0, None),
        ("neg-eps-noclip", "neg model, eps, clip_sample=False", dict(clip_sample=False), {}, 0.0, None),
        ("neg-eps-range2", "neg model, eps, clip_sample_range=2.0", dict(clip_sample_range=2.0), {}, 0.0, None),
        ("neg-eps-thr1", "neg model, eps, thresholding=True (ratio 0.995, sample_max_value 1.0)",
         dict(thresholding=True), {}, 0.0, None),
        ("neg-eps-thr2", "neg model, eps, thresholding=True, sample_max_value=2.0",
         dict(thresholding=True, sample_max_value=2.0), {}, 0.0, None),
        ("neg-eps-thr2-r08", "neg model, eps, thresholding=True, ratio=0.8, sample_max_value=2.0",
         dict(thresholding=True, sample_max_value=2.0, dynamic_thresholding_ratio=0.8), {}, 0.0, None),
        ("neg-eps-ucmo", "neg model, eps, clip on, use_clipped_model_output=True", {},
         dict(use_clipped_model_output=True), 0.0, None),
        ("neg-eps-eta05-detnoise", "neg model, eps, clip on, eta=0.5, variance_noise=dummy_noise_deter", {}, {},
         0.5, noise),
        ("neg-eps-eta05-ucmo-detnoise", "neg model, eps, clip on, eta=0.5, variance_noise=dummy_noise_deter, "
         "use_clipped_model_output=True", {}, dict(use_clipped_model_output=True), 0.5, noise),
        ("neg-v", "neg model, v_prediction, clip on", dict(prediction_type="v_prediction"), {}, 0.0, None),
        ("neg-v-thr2", "neg model, v_prediction, thresholding=True, sample_max_value=2.0",
         dict(prediction_type="v_prediction", thresholding=True, sample_max_value=2.0), {}, 0.0, None),
        ("neg-sample", "neg model, prediction_type='sample', clip on", dict(prediction_type="sample"), {}, 0.0, None),
    ]
    for name, desc, cfg, kw, eta, vn in neg:
        sch, x, steps = run_ddim_loop(D, model=neg_model, step_kwargs=kw, eta=eta, variance_noise=vn, **cfg)
        full = name not in ("neg-eps-noclip", "neg-eps-range2", "neg-eps-thr1", "neg-eps-eta05-detnoise", "neg-sample")
        write_loop(f, name, desc, sch, x, steps, full=full, per_step_first=5 if name == "neg-eps" else 0)

    # use_clipped_model_output with the test model (no clipping happens; only rounding differs)
    sch, x, steps = run_ddim_loop(D, step_kwargs=dict(use_clipped_model_output=True))
    write_loop(f, "eps-ucmo", "eps, step(..., use_clipped_model_output=True), eta=0 (no clipping happens; the "
               "re-derived epsilon differs from model_output only by rounding)", sch, x, steps)

    # eta > 0
    g = torch.Generator().manual_seed(0)
    sch, x, steps = run_ddim_loop(D, eta=0.5, generator=g)
    write_loop(f, "eta05-gen0", "eps, eta=0.5, generator=torch.Generator().manual_seed(0) (CPU), passed to every "
               "step; step draws randn_tensor(model_output.shape=(4,3,8,8), float32) on EVERY step (eta>0), "
               "including the last one where std_dev_t=0", sch, x, steps, full=True, per_step_first=5)
    g = torch.Generator().manual_seed(0)
    first_noise = torch.randn((4, 3, 8, 8), generator=g, dtype=torch.float32)
    g0 = torch.manual_seed(0)
    same = torch.equal(first_noise, torch.randn((4, 3, 8, 8), generator=g0, dtype=torch.float32))
    f.write("# the noise of the first eta step = torch.randn((4,3,8,8), generator=torch.Generator().manual_seed(0)); "
            f"identical to the 'randn_seed0_first_draw' line of ddpm_loops.txt (global torch.manual_seed(0)): {int(same)}\n")
    for eta in (0.5, 1.0):
        sch, x, steps = run_ddim_loop(D, eta=eta, variance_noise=noise)
        write_loop(f, f"eta{str(eta).replace('.', '')}-detnoise",
                   f"eps, eta={eta}, variance_noise=dummy_noise_deter (same tensor every step) -- RNG-free",
                   sch, x, steps, full=True, per_step_first=5)
    sch, x, steps = run_ddim_loop(D, eta=1.0, variance_noise=noise, prediction_type="v_prediction")
    write_loop(f, "v-eta1-detnoise", "v_prediction, eta=1.0, variance_noise=dummy_noise_deter", sch, x, steps)

    # spacing variants: diffusers (stride) and list-based
    for spacing, S in (("trailing", 10), ("linspace", 10), ("trailing", 7), ("linspace", 7), ("trailing", 13),
                       ("leading", 7)):
        for pred in ("epsilon", "v_prediction"):
            tag = "" if pred == "epsilon" else "-v"
            sch, x, steps = run_ddim_loop(D, S=S, timestep_spacing=spacing, prediction_type=pred)
            full = pred == "epsilon" and (spacing, S) not in (("trailing", 10), ("leading", 7))
            write_loop(f, f"{spacing}{S}{tag}", f"{pred}, timestep_spacing='{spacing}', S={S} -- diffusers (stride prev)",
                       sch, x, steps, full=full)
            sch2, x2, steps2 = run_ddim_loop_list(D, S, use_list=False, timestep_spacing=spacing, prediction_type=pred)
            same = torch.equal(x2, x) and all(torch.equal(a[2], b[2]) for a, b in zip(steps, steps2))
            f.write(f"{spacing}{S}{tag} verify : local_step_with_stride_prev_bit_identical_to_diffusers={int(same)}\n")
            assert same, (spacing, S, pred)
            sch3, x3, steps3 = run_ddim_loop_list(D, S, use_list=True, timestep_spacing=spacing, prediction_type=pred)
            write_loop(f, f"{spacing}{S}{tag}-list",
                       f"{pred}, timestep_spacing='{spacing}', S={S} -- prev read from the timestep list (NOT diffusers)",
                       sch3, x3, steps3, full=full)
            f.write(f"{spacing}{S}{tag}-list differs_from_diffusers : {int(not torch.equal(x3, x))} "
                    f"max_abs_diff={f32((x3 - x).abs().max().item())}\n")
    # leading too (identity check of the list variant for the test config)
    sch2, x2, steps2 = run_ddim_loop_list(D, 10, use_list=True)
    sch1, x1, _ = run_ddim_loop(D)
    f.write(f"leading10-list verify : bit_identical_to_diffusers_eps={int(torch.equal(x1, x2))}\n")

    # trailing with T=1000, S=61: numpy arange yields 62 entries, the last one is -1
    sch = D.ddim.DDIMScheduler(timestep_spacing="trailing")
    sch.set_timesteps(61)
    ts = sch.timesteps.tolist()
    f.write(f"# trailing, T=1000, S=61: set_timesteps gives {len(ts)} timesteps, last = {ts[-1]}; step(t=-1) reads "
            f"alphas_cumprod[-1] = alphas_cumprod[999] (python/torch negative index wrap) = "
            f"{f32(sch.alphas_cumprod[torch.tensor(-1)].item())} and prev = -1 - 1000//61 = {-1 - 1000 // 61} -> "
            f"final_alpha_cumprod\n")
    f.write(f"trailing61 timesteps : {' '.join(map(str, ts))}\n")
    sch, x, steps = run_ddim_loop(D, S=61, timestep_spacing="trailing", prediction_type="v_prediction",
                                  model=lambda x, t: dummy_model(x, t.clamp(min=0)))
    write_loop(f, "trailing61-v", "v_prediction, trailing, S=61 (62 steps incl. t=-1); model fed max(t,0) because "
               "the test model divides by t+1", sch, x, steps)

    # test_full_loop_with_noise
    sch = D.ddim.DDIMScheduler(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                               clip_sample=True)
    sch.set_timesteps(10)
    sample = dummy_sample_deter()
    ts = sch.timesteps[8 * sch.order:]
    sample = sch.add_noise(sample, noise, ts[:1])
    noised = sample.clone()
    steps = []
    for t in ts:
        sample = sch.step(dummy_model(sample, t), t, sample, 0.0).prev_sample
        steps.append((int(t), int(t) - 100, sample.clone(), None))
    write_loop(f, "with_noise", "test_full_loop_with_noise: x = add_noise(sample, dummy_noise_deter, tensor([100])), "
               "then steps t=100, 0", sch, sample, steps, full=True)
    f.write(f"with_noise after_add_noise 768 : {fmt_tensor(noised)}\n")
    f.close()


def gen_inverse(W, D):
    f = W.open("ddim_inverse_loops.txt", "DDIMInverseScheduler 10-step loops (tests/schedulers/test_scheduler_ddim_inverse.py)", SAMPLE_DOC + [
        "test config: num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',",
        "  clip_sample=True; set_timesteps(10); for t in timesteps: x = step(model(x, t), t, x).prev_sample",
        "  (NOTE: the model is evaluated at the DESTINATION timestep t, while x is at noise level t - T//S).",
        "'alpha_pair' per step: the (alpha_prod_t, alpha_prod_t_prev) that step() used: 'from' = alphas_cumprod",
        "  [t - T//S] or initial_alpha_cumprod (1.0 if set_alpha_to_one else alphas_cumprod[0]) when negative;",
        "  'to' = alphas_cumprod[t].",
        "Expected by diffusers' tests: eps 671.6816/0.8746, v 1394.2185/1.8154, beta_start=0.01 set_alpha_to_one",
        "  539.9622/0.7031, beta_start=0.01 no set_alpha_to_one 542.6722/0.7066.",
    ])
    variants = [
        ("eps", "test_full_loop_no_noise", {}),
        ("v", "test_full_loop_with_v_prediction", dict(prediction_type="v_prediction")),
        ("b001-a1", "beta_start=0.01, set_alpha_to_one=True", dict(beta_start=0.01, set_alpha_to_one=True)),
        ("b001-a0", "beta_start=0.01, set_alpha_to_one=False", dict(beta_start=0.01, set_alpha_to_one=False)),
        ("eps-a0", "eps, set_alpha_to_one=False", dict(set_alpha_to_one=False)),
        ("noclip", "eps, clip_sample=False", dict(clip_sample=False)),
        ("v-noclip", "v_prediction, clip_sample=False", dict(prediction_type="v_prediction", clip_sample=False)),
        ("trailing", "eps, timestep_spacing='trailing'", dict(timestep_spacing="trailing")),
        ("offset1", "eps, steps_offset=1", dict(steps_offset=1)),
        ("sample", "prediction_type='sample'", dict(prediction_type="sample")),
    ]
    for name, desc, cfg in variants:
        base = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    clip_sample=True)
        base.update(cfg)
        sch = D.inv.DDIMInverseScheduler(**base)
        sch.set_timesteps(10)
        x = dummy_sample_deter()
        steps = []
        pairs = []
        for t in sch.timesteps:
            x = sch.step(dummy_model(x, t), t, x).prev_sample
            frm = min(int(t) - 1000 // 10, 999)
            a_from = sch.alphas_cumprod[frm] if frm >= 0 else sch.initial_alpha_cumprod
            pairs.append(f"({frm}->{int(t)}:{f32(a_from)},{f32(sch.alphas_cumprod[int(t)])})")
            steps.append((int(t), frm, x.clone(), None))
        write_loop(f, name, desc, sch, x, steps, full=name in ("eps", "v", "b001-a0", "trailing"),
                   per_step_first=5 if name == "eps" else 0)
        f.write(f"{name} alpha_pairs : {' '.join(pairs)}\n")
    f.write("# DDIMInverseScheduler.set_timesteps(S) for a few cases (line: spacing T S offset : timesteps):\n")
    for spacing in ("leading", "trailing", "linspace"):
        for S in (1, 7, 10, 50):
            for off in (0, 1):
                sch = D.inv.DDIMInverseScheduler(timestep_spacing=spacing, steps_offset=off)
                try:
                    sch.set_timesteps(S)
                    f.write(f"timesteps {spacing} 1000 {S} {off} : {fmt_tensor(sch.timesteps)}\n")
                except Exception as e:  # noqa: BLE001
                    f.write(f"timesteps {spacing} 1000 {S} {off} : ERROR {type(e).__name__}: {e}\n")
    f.close()


def gen_ddpm(W, D):
    f = W.open("ddpm_loops.txt", "DDPMScheduler loops and _get_variance (tests/schedulers/test_scheduler_ddpm.py)", SAMPLE_DOC + [
        "test config: num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule='linear',",
        "  variance_type='fixed_small', clip_sample=True; set_timesteps is NOT called, so previous_timestep(t)=t-1;",
        "  generator = torch.manual_seed(0) (this returns torch's global default CPU generator);",
        "  for t in reversed(range(1000)): x = step(model(x, t), t, x, generator=generator).prev_sample",
        "  step() draws randn_tensor(model_output.shape=(4,3,8,8), generator, float32) only when t > 0 (999 draws).",
        "'step' lines are written after steps t = 999, 900, 800, ..., 100, 0 (sum over |x|).",
        "Expected by diffusers' tests: eps 258.9606/0.3372, v_prediction 202.0296/0.2631, with_noise 387.9466/0.5051.",
        "'*-detnoise' variants replace diffusers.schedulers.scheduling_ddpm.randn_tensor (module attribute) by a",
        "  function returning dummy_noise_deter (so every step adds std * dummy_noise_deter): RNG-free references.",
    ])

    def loop(cfg, generator, timesteps=None, S=None, det=False):
        base = dict(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                    variance_type="fixed_small", clip_sample=True)
        base.update(cfg)
        sch = D.ddpm.DDPMScheduler(**base)
        if S is not None:
            sch.set_timesteps(S)
            ts = sch.timesteps
        else:
            ts = list(reversed(range(len(sch))))
        x = dummy_sample_deter()
        steps = []
        orig = D.ddpm.randn_tensor
        ndraw = [0]
        if det:
            def fake(shape, generator=None, device=None, dtype=None, layout=None):
                ndraw[0] += 1
                return dummy_noise_deter().to(dtype=dtype).reshape(shape)
            D.ddpm.randn_tensor = fake
        try:
            for t in ts:
                x = sch.step(dummy_model(x, t), t, x, generator=generator).prev_sample
                ti = int(t)
                if S is not None or ti % 100 == 0 or ti == 999:
                    steps.append((ti, int(sch.previous_timestep(t)), x.clone(), None))
        finally:
            D.ddpm.randn_tensor = orig
        return sch, x, steps

    for name, desc, cfg in (("eps", "test_full_loop_no_noise", {}),
                            ("v", "test_full_loop_with_v_prediction", dict(prediction_type="v_prediction"))):
        sch, x, steps = loop(cfg, torch.manual_seed(0))
        write_loop(f, name, desc, sch, x, steps, full=True)
    for name, desc, cfg in (("eps-detnoise", "eps, noise = dummy_noise_deter every step", {}),
                            ("v-detnoise", "v_prediction, noise = dummy_noise_deter", dict(prediction_type="v_prediction")),
                            ("fixed_large-detnoise", "eps, variance_type=fixed_large", dict(variance_type="fixed_large")),
                            ("fixed_small_log-detnoise", "eps, variance_type=fixed_small_log",
                             dict(variance_type="fixed_small_log"))):
        sch, x, steps = loop(cfg, None, det=True)
        write_loop(f, name, desc, sch, x, steps, full=True)
    for spacing, S in (("leading", 10), ("trailing", 7), ("linspace", 10)):
        sch, x, steps = loop(dict(timestep_spacing=spacing), None, S=S, det=True)
        write_loop(f, f"{spacing}{S}-detnoise", f"eps, set_timesteps({S}) spacing={spacing}, noise=dummy_noise_deter; "
                   "previous_timestep() reads the next list entry (-1 after the last)", sch, x, steps, full=True)
        if spacing == "leading":
            _, xd, _ = run_ddim_loop(D, eta=1.0, variance_noise=dummy_noise_deter())
            f.write(f"# DDPM fixed_small with set_timesteps(10) == DDIM eta=1 (same noise) up to float32 rounding: "
                    f"max |x_ddpm - x_ddim_eta1| = {f32((x - xd).abs().max().item())}\n")
    # fixed_large_log: _get_variance returns log(beta) (<0) and step() takes its ** 0.5 -> NaN
    sch, x, steps = loop(dict(variance_type="fixed_large_log"), None, det=True)
    f.write(f"# fixed_large_log full loop: number of NaN elements in final sample = {int(torch.isnan(x).sum())} of 768\n")
    write_loop(f, "fixed_large_log-detnoise", "eps, variance_type=fixed_large_log -> NaN (sqrt of a log)", sch, x,
               steps[:3], full=False)

    # test_full_loop_with_noise
    sch = D.ddpm.DDPMScheduler(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear",
                               variance_type="fixed_small", clip_sample=True)
    g = torch.manual_seed(0)
    ts = sch.timesteps[998 * sch.order:]
    x = sch.add_noise(dummy_sample_deter(), dummy_noise_deter(), ts[:1])
    steps = []
    for t in ts:
        x = sch.step(dummy_model(x, t), t, x, generator=g).prev_sample
        steps.append((int(t), int(t) - 1, x.clone(), None))
    write_loop(f, "with_noise", "test_full_loop_with_noise: add_noise at t=1 then steps t=1,0 with torch.manual_seed(0)",
               sch, x, steps, full=True)

    g = torch.manual_seed(0)
    first = torch.randn((4, 3, 8, 8), generator=g, dtype=torch.float32)
    f.write(f"randn_seed0_first_draw 768 : {fmt_tensor(first)}\n")

    # _get_variance table
    f.write("# _get_variance(t, predicted_variance, variance_type) with T=1000 linear 1e-4..0.02, no set_timesteps\n")
    f.write("# (prev_t = t-1, alpha_prev = 1 for t=0). line: variance t variance_type [predicted_variance] : value\n")
    f.write("# what the value means: fixed_small -> variance; fixed_small_log -> STD (exp(0.5*log var));\n")
    f.write("#   fixed_large -> beta_t; fixed_large_log -> log(beta_t); learned_range -> LOG variance\n")
    sch = D.ddpm.DDPMScheduler(num_train_timesteps=1000, beta_start=0.0001, beta_end=0.02, beta_schedule="linear")
    for t in (0, 1, 487, 999):
        for vt in ("fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log"):
            v = sch._get_variance(t, variance_type=vt)
            f.write(f"variance {t} {vt} : {fmt_val(v)}{'  NaN' if torch.isnan(torch.as_tensor(v)).any() else ''}\n")
        for pv in (-1.0, 0.0, 0.5, 1.0):
            v = sch._get_variance(t, predicted_variance=torch.tensor(pv), variance_type="learned_range")
            f.write(f"variance {t} learned_range {f64(pv)} : {fmt_val(v)}"
                    f"{'  NaN' if torch.isnan(v).any() else ''}\n")
        v = sch._get_variance(t, predicted_variance=torch.tensor(0.25), variance_type="learned")
        f.write(f"variance {t} learned 0.25 : {fmt_val(v)}\n")
    # the std each variance type actually adds in step() at the same t
    f.write("# effective noise scale used by step() (t>0): fixed_small/fixed_large/learned: _get_variance**0.5;\n")
    f.write("#   fixed_small_log: _get_variance (already a std); learned_range: exp(0.5*_get_variance).\n")
    f.write("#   fixed_large_log falls into the '** 0.5' branch -> (log beta)**0.5 = NaN for every t>0.\n")
    for t in (1, 487, 999):
        for vt in ("fixed_small", "fixed_large", "fixed_small_log", "fixed_large_log"):
            v = sch._get_variance(t, variance_type=vt)
            eff = v if vt == "fixed_small_log" else v ** 0.5
            f.write(f"noise_std {t} {vt} : {fmt_val(eff)}{'  NaN' if torch.isnan(eff).any() else ''}\n")
        for pv in (-1.0, 0.0, 1.0):
            v = sch._get_variance(t, predicted_variance=torch.tensor(pv), variance_type="learned_range")
            f.write(f"noise_std {t} learned_range {f64(pv)} : {fmt_val(torch.exp(0.5 * v))}\n")
    # variance_type='learned' without a doubled channel dimension
    s2 = D.ddpm.DDPMScheduler(variance_type="learned")
    try:
        s2.step(torch.zeros(1, 3, 2, 2), 5, torch.zeros(1, 3, 2, 2), generator=torch.Generator().manual_seed(0))
        f.write("# variance_type='learned' with model_output channels == sample channels: no error\n")
    except Exception as e:  # noqa: BLE001
        f.write(f"# variance_type='learned' with model_output channels == sample channels raises {type(e).__name__}: {e}\n")
    f.close()


def gen_threshold(W, D):
    f = W.open("thresholding.txt", "DDPMScheduler/DDIMScheduler._threshold_sample (identical code)", [
        "input x: shape (2,3,4,4) float32, element [b,c,h,w] with n = ((c*4+h)*4+w) (0..47 within a sample):",
        "  b=0: x = float32(((n*37) % 48 - 20.3) / 17)   (range -1.19 .. 1.57, |x| values all distinct)",
        "  b=1: x = float32(((n*29) % 48 - 17.7) / 6)    (range -2.95 .. 4.88)",
        "  computed in float64 then rounded to float32; the exact float32 inputs are listed on the 'input' line.",
        "s = torch.quantile(|x| flattened per sample (48 values), ratio, dim=1) (linear interpolation, q and",
        "  arithmetic in float32), s = clamp(s, min=1, max=sample_max_value), out = clamp(x, -s, s) / s.",
        "line 'quantile ratio b : raw' = quantile before clamping; 's ratio smv b' = after clamp;",
        "'output ratio smv : 96 values' (logical C order).",
    ])
    x = torch.empty(2, 3, 4, 4, dtype=torch.float64)
    for c in range(3):
        for h in range(4):
            for w in range(4):
                n = (c * 4 + h) * 4 + w
                x[0, c, h, w] = (((n * 37) % 48) - 20.3) / 17
                x[1, c, h, w] = (((n * 29) % 48) - 17.7) / 6
    x = x.float()
    f.write(f"input 96 : {fmt_tensor(x)}\n")
    for ratio in (0.995, 0.8):
        q = torch.quantile(x.reshape(2, -1).abs(), ratio, dim=1)
        rank = np.float32(ratio) * np.float32(47)
        srt = torch.sort(x.reshape(2, -1).abs(), dim=1).values
        for b in range(2):
            lo, hi = int(rank), int(math.ceil(rank))
            f.write(f"quantile {ratio} {b} : {f32(q[b].item())}   # rank=float32({ratio})*47={f32(rank)}, "
                    f"sorted|x|[{lo}]={f32(srt[b, lo].item())}, sorted|x|[{hi}]={f32(srt[b, hi].item())}\n")
        for smv in (1.0, 2.0, 0.5):
            sch = D.ddpm.DDPMScheduler(thresholding=True, dynamic_thresholding_ratio=ratio, sample_max_value=smv)
            out = sch._threshold_sample(x.clone())
            sch2 = D.ddim.DDIMScheduler(thresholding=True, dynamic_thresholding_ratio=ratio, sample_max_value=smv)
            assert torch.equal(out, sch2._threshold_sample(x.clone()))
            s = torch.clamp(q, min=1, max=smv)
            for b in range(2):
                f.write(f"s {ratio} {smv} {b} : {f32(s[b].item())}\n")
            f.write(f"output {ratio} {smv} 96 : {fmt_tensor(out)}\n")
    f.close()


def gen_add_noise(W, D):
    f = W.open("add_noise_velocity.txt", "DDPMScheduler/DDIMScheduler add_noise and get_velocity (identical code)", [
        "x0: shape (3,2,2,2) float32, flat index n (C order) 0..23: x0 = float32((n - 11.5) / 12)",
        "noise: same shape, noise = float32((((n*7) % 24) - 11.5) / 6)",
        "timesteps: int64 tensor of length 3 (one per batch element, broadcast over the rest) or length 1.",
        "add_noise = sqrt(a[t]) * x0 + sqrt(1 - a[t]) * noise ; get_velocity = sqrt(a[t]) * noise - sqrt(1 - a[t]) * x0",
        "  (float32, a = alphas_cumprod, ** 0.5). line: op schedule timesteps : 24 values (C order)",
        "also 'coef' lines: schedule t : sqrt(a_t) sqrt(1-a_t) as float32.",
    ])
    n = torch.arange(24, dtype=torch.float64)
    x0 = ((n - 11.5) / 12).float().reshape(3, 2, 2, 2)
    noise = ((((n * 7) % 24) - 11.5) / 6).float().reshape(3, 2, 2, 2)
    f.write(f"x0 24 : {fmt_tensor(x0)}\n")
    f.write(f"noise 24 : {fmt_tensor(noise)}\n")
    for sched, cfg in (("linear", {}), ("scaled_linear", dict(beta_schedule="scaled_linear", beta_start=0.00085,
                                                                 beta_end=0.012)),
                       ("squaredcos_cap_v2", dict(beta_schedule="squaredcos_cap_v2")),
                       ("zsnr-linear", dict(rescale_betas_zero_snr=True))):
        sch = D.ddpm.DDPMScheduler(**cfg)
        sch_d = D.ddim.DDIMScheduler(**cfg)
        for ts in ([0, 487, 999], [1, 500, 998], [250]):
            tt = torch.tensor(ts, dtype=torch.int64)
            an = sch.add_noise(x0, noise, tt)
            ve = sch.get_velocity(x0, noise, tt)
            assert torch.equal(an, sch_d.add_noise(x0, noise, tt)) and torch.equal(ve, sch_d.get_velocity(x0, noise, tt))
            key = ",".join(map(str, ts))
            f.write(f"add_noise {sched} {key} : {fmt_tensor(an)}\n")
            f.write(f"get_velocity {sched} {key} : {fmt_tensor(ve)}\n")
        for t in (0, 1, 250, 487, 500, 998, 999):
            a = sch.alphas_cumprod[t]
            f.write(f"coef {sched} {t} : {f32((a ** 0.5).item())} {f32(((1 - a) ** 0.5).item())}\n")
    f.close()


def gen_paper_loops(W, P, D):
    f = W.open("paper_loops.txt", "ermongroup/ddim functions/denoising.py loops on the diffusers test sample/model", SAMPLE_DOC + [
        "Runs the paper's generalized_steps / ddpm_steps UNMODIFIED on CPU (its hard-coded .to('cuda') is mapped",
        "to the CPU by a temporary wrapper of torch.Tensor.to). betas = get_beta_schedule('linear', 1e-4, 0.02,",
        "1000) (float64) -> torch.from_numpy(...).float(), exactly like Diffusion.__init__.",
        "The model receives t as a float32 tensor of shape (4,) filled with the timestep (paper passes",
        "torch.ones(n) * i); the dummy model reshapes it to (4,1,1,1): identical values to the diffusers tests.",
        "generalized_steps does NOT clip x0; ddpm_steps clamps x0 to [-1,1]. 'final' = xs[-1].",
        "generalized_steps calls torch.randn_like(x) on every step even for eta=0 (multiplied by c1=0).",
        "'*-detnoise': torch.randn_like temporarily replaced by a function returning dummy_noise_deter.",
        "diffusers comparison lines: DDIMScheduler with clip_sample=False, set_alpha_to_one=True, leading, same S",
        "(uniform seq == diffusers leading timesteps when T % S == 0).",
    ])
    b = torch.from_numpy(P.get_beta_schedule("linear", beta_start=0.0001, beta_end=0.02,
                                             num_diffusion_timesteps=1000)).float()

    def model(x, t):
        return dummy_model(x, t)

    def run(kind, seq, eta=0.0, det=False, seed=0):
        x = dummy_sample_deter().contiguous()
        orig_rl = torch.randn_like
        if det:
            torch.randn_like = lambda t, *a, **k: dummy_noise_deter().to(dtype=t.dtype)
        torch.manual_seed(seed)
        try:
            with cuda_to_cpu():
                if kind == "generalized":
                    xs, x0s = P.denoising.generalized_steps(x, seq, model, b, eta=eta)
                else:
                    xs, x0s = P.denoising.ddpm_steps(x, seq, model, b)
        finally:
            torch.randn_like = orig_rl
        return xs, x0s

    def seq_of(skip_type, S, T=1000):
        captured = {}

        def recorder(x, seq, model, b, **kw):
            captured["seq"] = list(seq)
            return [x], []
        orig = P.denoising.generalized_steps
        P.denoising.generalized_steps = recorder
        try:
            self = types.SimpleNamespace(args=types.SimpleNamespace(sample_type="generalized", skip_type=skip_type,
                                                                    timesteps=S, eta=0.0), num_timesteps=T, betas=None)
            P.sample_image(self, torch.zeros(1), None, last=False)
        finally:
            P.denoising.generalized_steps = orig
        return [int(v) for v in captured["seq"]]

    cases = [
        ("gen-uniform10", "generalized", "uniform", 10, 0.0, False),
        ("gen-quad10", "generalized", "quad", 10, 0.0, False),
        ("gen-uniform7", "generalized", "uniform", 7, 0.0, False),
        ("gen-uniform10-eta05-detnoise", "generalized", "uniform", 10, 0.5, True),
        ("gen-uniform10-eta1-detnoise", "generalized", "uniform", 10, 1.0, True),
        ("gen-uniform10-eta1-seed0", "generalized", "uniform", 10, 1.0, False),
        ("ddpm-uniform10-detnoise", "ddpm", "uniform", 10, None, True),
        ("ddpm-uniform1000-detnoise", "ddpm", "uniform", 1000, None, True),
        ("ddpm-uniform10-seed0", "ddpm", "uniform", 10, None, False),
    ]
    for name, kind, skip_type, S, eta, det in cases:
        seq = seq_of(skip_type, S)
        xs, x0s = run(kind, seq, eta=eta or 0.0, det=det)
        final = xs[-1]
        st = abs_stats(final)
        f.write(f"# --- {name}: {kind}_steps, skip_type={skip_type}, S={S}, eta={eta}, "
                f"{'noise=dummy_noise_deter' if det else 'torch.manual_seed(0) before the loop'}\n")
        f.write(f"{name} seq : {' '.join(map(str, seq))}\n")
        f.write(f"{name} final : sum_torch={st['sum_torch']} mean_torch={st['mean_torch']} sum_exact={st['sum_exact']}\n")
        rev = list(reversed(seq))
        nxt = list(reversed([-1] + seq[:-1]))
        if len(xs) <= 21:
            for i in range(1, len(xs)):
                s2 = abs_stats(xs[i])
                f.write(f"{name} step {i - 1} t={rev[i - 1]} next={nxt[i - 1]} : sum_torch={s2['sum_torch']} "
                        f"sum_exact={s2['sum_exact']} first={','.join(f32(v) for v in xs[i].reshape(-1)[:5].tolist())}\n")
        f.write(f"{name} final_sample 768 : {fmt_tensor(final)}\n")
        if kind == "generalized" and skip_type == "uniform" and eta == 0.0:
            sch, xd, _ = run_ddim_loop(D, S=S, clip_sample=False)
            f.write(f"{name} diffusers_ddim_noclip_same_S : timesteps={','.join(map(str, sch.timesteps.tolist()))} "
                    f"sum_torch={f32(torch.sum(torch.abs(xd)).item())} max_abs_diff_vs_paper="
                    f"{f32((xd - final).abs().max().item())}\n")
    f.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--diffusers", required=True, help="path to diffusers/src")
    ap.add_argument("--ddim", default=None, help="path to an ermongroup/ddim checkout (default: ../../ddim next to "
                    "--diffusers, /tmp/ddim)")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "data"))
    args = ap.parse_args()

    src = os.path.abspath(args.diffusers)
    ddim_root = args.ddim
    if ddim_root is None:
        for cand in (os.path.join(os.path.dirname(os.path.dirname(src)), "ddim"), "/tmp/ddim"):
            if os.path.isfile(os.path.join(cand, "functions", "denoising.py")):
                ddim_root = cand
                break
    if ddim_root is None or not os.path.isfile(os.path.join(ddim_root, "functions", "denoising.py")):
        sys.exit("need --ddim <ermongroup/ddim checkout>")
    ddim_root = os.path.abspath(ddim_root)

    torch.set_num_threads(1)  # reductions are then single-threaded: reproducible torch sums
    D = load_diffusers(src)
    P = load_paper(ddim_root)
    os.makedirs(args.out, exist_ok=True)
    header = [
        f"diffusers commit {git_head(src)} (version {D.version}), source {src}",
        f"ermongroup/ddim commit {git_head(ddim_root)}",
        f"torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}, "
        f"torch threads {torch.get_num_threads()}, CPU",
        "generated by make_diffusers_reference.py; float32 values as %.9g (parse, then round to float32 = exact value),",
        "float64 values as Python repr (round-trips exactly). Stubbed for import: " + "; ".join(STUB_NOTES),
    ]
    W = Writer(args.out, header)
    anomalies = gen_timesteps(W, D)
    gen_paper_sequences(W, P)
    gen_alphas(W, D, P)
    gen_ddim_variance(W, D)
    gen_ddim_loops(W, D)
    gen_inverse(W, D)
    gen_ddpm(W, D)
    gen_threshold(W, D)
    gen_add_noise(W, D)
    gen_paper_loops(W, P, D)
    print("wrote", ", ".join(sorted(W.files)), "to", args.out)
    print(f"{len(anomalies)} timestep anomalies")


if __name__ == "__main__":
    main()
