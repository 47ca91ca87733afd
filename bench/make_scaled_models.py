#!/usr/bin/env python3
"""The non-FNO graph fixtures scaled up, as TorchScript archives for bench/graph-gpu-bench.ts.

    python3 bench/make_scaled_models.py OUT_DIR [--B 1024] [--T 1024] [--width 128] [--models attention,cnn]

Builds the architectures of scripts/fixtures/make_graph_fixtures.py's 'attention' (its class
`Attention`, as it is) and 'cnn-batchnorm' (`CNNBatchNorm` with its channel count and head width as
parameters: CNNScaled below, the same ops; checked against the fixture's class at the fixture's
sizes every run) at T time steps and the given width, float32, traces them with torch.jit.trace and
writes, for each model, OUT_DIR/<name>/:

  model.pt         torch.jit.trace(model, (x[:2], p[:2])).save(): what jacscope opens
  state_dict.pt    the eager module's state_dict (bench/graph_torch_bench.py rebuilds the eager
                   module from it: PyTorch's forward-mode AD does not run through traced modules in
                   every version)
  x.npy, p.npy     random inputs for B samples, float64 (float32 draws cast exactly), randn
  J_ref_f64.npy    PyTorch's per-sample Jacobian of the first min(B, 2) samples, [n, ...y, P]: the
                   eager module with its float32 weights cast exactly to float64, on the CPU,
                   vmap(jacfwd) (graph-gpu-bench.ts checks jacscope's CPU J against it)
  spec.json        class, constructor arguments, T, B, the output index, seeds, sizes

Runs on the device machine (PyTorch with CUDA; only the CPU is used here) and anywhere with
PyTorch >= 1.13; NumPy is not needed. Weights: torch.manual_seed(seed) right before construction
(BatchNorm statistics and norm affines set as the fixture script does); inputs:
torch.Generator().manual_seed(seed + 1), x then p.
"""
import argparse
import copy
import ctypes
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures"))
_threads = torch.get_num_threads()
import make_graph_fixtures as fixtures  # noqa: E402  (the fixture models; it sets 1 thread)

torch.set_num_threads(_threads)


class CNNScaled(nn.Module):
    """make_graph_fixtures.CNNBatchNorm with C channels (8 there) and a head of H (12 there); the same
    ops in the same order. Needs T // 2 >= C + 2 (the narrow takes C time steps)."""

    def __init__(self, xf, P, O, C=8, H=12):
        super().__init__()
        self.C = C
        self.H = H
        self.pl = nn.Linear(P, xf)
        self.c1 = nn.Conv1d(xf, C, 3)
        self.bn1 = nn.BatchNorm1d(C)
        self.c2 = nn.Conv1d(C, C, 5, stride=2, padding=2)
        self.gn = nn.GroupNorm(2, C)
        self.c3 = nn.Conv1d(C, C, 3, padding=2, dilation=2, groups=2)
        self.W = nn.Parameter(0.2 * torch.randn(4 * C, H))
        self.b = nn.Parameter(0.1 * torch.randn(H))
        self.W2 = nn.Parameter(0.2 * torch.randn(H, 4 * C))
        self.W3 = nn.Parameter(0.2 * torch.randn(16, H))
        self.out = nn.Linear(H, O)

    def forward(self, x, p):
        B = x.size(0)
        C = self.C
        h = x.transpose(1, 2)                               # [B,Xf,T]
        pc = self.pl(p).unsqueeze(-1)                       # [B,Xf,1]
        h = h + pc.expand_as(h)
        h = F.pad(h, (1, 0))
        h = torch.constant_pad_nd(h, [0, 1], 0.0)
        h = F.relu(self.bn1(self.c1(h)))                    # [B,C,T]
        h = self.gn(self.c2(h))                             # [B,C,T/2]
        h = torch.relu(self.c3(h))                          # [B,C,T/2]
        a = h.narrow(2, 2, C)                               # [B,C,C]
        first = h.select(2, 0)                              # [B,C]
        last = h[:, :, -1:].squeeze(-1)                     # [B,C]
        parts = torch.unbind(a, dim=1)                      # C x [B,C]
        st = torch.stack([parts[0], parts[3], first, last], dim=1)  # [B,4,C]
        flat = st.flatten(1)                                # [B,4C]
        z = torch.addmm(self.b, flat, self.W)               # [B,H]
        z = z + torch.mm(flat, self.W2.t())
        m = st.contiguous().view(B, 4, C)
        g = torch.bmm(m, m.transpose(1, 2)).reshape(B, 16)  # [B,16]
        q = torch.matmul(g, self.W3)                        # [B,H]
        scale = x.detach().pow(2).mean(dim=(1, 2)).to(z.dtype)
        acc = z.clone()
        acc.zero_()
        acc.add_(z)
        half = torch.ones_like(q).fill_(0.5)
        full = torch.full((B, self.H), 0.25, dtype=x.dtype, device=x.device)
        zl = torch.zeros_like(z)
        out = acc + q * half + full * scale.unsqueeze(1) + zl
        return self.out(out)


def build(spec):
    """The eager float32 module of a spec.json (weights not yet loaded: seeded construction)."""
    a = spec["args"]
    torch.manual_seed(spec["weight_seed"])
    if spec["class"] == "Attention":
        return fixtures.Attention(a["xf"], a["P"], a["W"], a["H"], a["O"]).eval()
    if spec["class"] == "CNNScaled":
        return fixtures.init_bn(CNNScaled(a["xf"], a["P"], a["O"], a["C"], a["H"])).eval()
    raise ValueError(f"unknown class {spec['class']!r}")


def load_eager(folder, device="cpu"):
    """The eager module of OUT_DIR/<name>/ with its saved weights, and its spec."""
    with open(os.path.join(folder, "spec.json")) as fh:
        spec = json.load(fh)
    model = build(spec)
    model.load_state_dict(torch.load(os.path.join(folder, "state_dict.pt"), map_location="cpu"))
    return model.to(device).eval(), spec


def write_npy(path, t):
    """A float64 C-order tensor as NumPy format 1.0 (no NumPy needed)."""
    t = t.detach().to(torch.float64).contiguous().cpu()
    dims = ", ".join(str(d) for d in t.shape) + ("," if t.dim() == 1 else "")
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%s), }" % dims
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open(path, "wb") as fh:
        fh.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1"))
        fh.write(ctypes.string_at(t.data_ptr(), t.numel() * 8))


def read_npy(path):
    """A float64 .npy written by write_npy (or NumPy: '<f8', C order) as a torch tensor."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:6] == b"\x93NUMPY", path
    major = data[6]
    hlen, off = (struct.unpack("<H", data[8:10])[0], 10) if major == 1 else (struct.unpack("<I", data[8:12])[0], 12)
    header = data[off:off + hlen].decode("latin1")
    assert "'<f8'" in header and "'fortran_order': False" in header, header
    shape = tuple(int(s) for s in header.split("'shape': (")[1].split(")")[0].split(",") if s.strip())
    body = bytearray(data[off + hlen:])
    return torch.frombuffer(body, dtype=torch.float64).reshape(shape)


def vmap_jacfwd():
    """(vmap, jacfwd): torch.func (PyTorch >= 2.0) or functorch (1.13)."""
    try:
        from torch.func import jacfwd, vmap
    except ImportError:
        from functorch import jacfwd, vmap
    return vmap, jacfwd


def per_sample(model, output_index):
    """y of one sample (x [T,Xf], p [P]) as a function for vmap(jacfwd(..., argnums=1))."""
    def f(xb, pb):
        o = model(xb[None], pb[None])
        return (o[output_index] if output_index is not None else o)[0]
    return f


def reference_jacobian(model, x, p, output_index):
    """Float64 per-sample J on the CPU (the float32 weights cast exactly)."""
    m64 = fixtures.to_double(copy.deepcopy(model)).eval()
    for prm in m64.parameters():
        prm.requires_grad_(False)
    vmap, jacfwd = vmap_jacfwd()
    with torch.no_grad():
        return vmap(jacfwd(per_sample(m64, output_index), argnums=1))(x.double(), p.double())


def check_cnn_matches_fixture():
    """CNNScaled at the fixture's sizes computes what make_graph_fixtures.CNNBatchNorm computes."""
    torch.manual_seed(5)
    ref = fixtures.init_bn(fixtures.CNNBatchNorm(4, 3, 5)).eval()
    mine = CNNScaled(4, 3, 5, 8, 12).eval()
    mine.load_state_dict(ref.state_dict())
    g = torch.Generator().manual_seed(6)
    x, p = torch.randn(2, 32, 4, generator=g), torch.randn(2, 3, generator=g)
    with torch.no_grad():
        d = (ref(x, p) - mine(x, p)).abs().max().item()
    assert d == 0.0, f"CNNScaled differs from the fixture's CNNBatchNorm by {d}"


def make(name, cls, args, out_dir, B, T, seed, output_index):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    spec = {"name": name, "class": cls, "args": args, "T": T, "B": B, "weight_seed": seed,
            "data_seed": seed + 1, "output_index": output_index, "wrt": "p",
            "torch_version": torch.__version__}
    t0 = time.perf_counter()
    model = build(spec)
    g = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(B, T, args["xf"], generator=g)
    p = torch.randn(B, args["P"], generator=g)
    n = min(B, 2)
    with torch.no_grad():
        traced = torch.jit.trace(model, (x[:n], p[:n]))
        # The archive computes what the eager module computes (first samples only: cheap).
        pick = (lambda o: o[output_index]) if output_index is not None else (lambda o: o)
        y_eager = pick(model(x[:n], p[:n]))
        y_traced = pick(traced(x[:n], p[:n]))
    diff = (y_eager - y_traced).abs().max().item() / max(y_eager.abs().max().item(), 1e-30)
    assert diff < 1e-5, f"{name}: the traced archive differs from the eager module: {diff:.2e}"
    traced.save(os.path.join(d, "model.pt"))
    torch.save(model.state_dict(), os.path.join(d, "state_dict.pt"))
    write_npy(os.path.join(d, "x.npy"), x)
    write_npy(os.path.join(d, "p.npy"), p)
    write_npy(os.path.join(d, "J_ref_f64.npy"), reference_jacobian(model, x[:n], p[:n], output_index))
    spec["y_shape_per_sample"] = list(y_eager.shape[1:])
    spec["J_shape_per_sample"] = list(y_eager.shape[1:]) + [args["P"]]
    spec["parameters"] = sum(t.numel() for t in model.parameters())
    with open(os.path.join(d, "spec.json"), "w") as fh:
        json.dump(spec, fh, indent=1)
        fh.write("\n")
    size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
    print(f"{name}: {cls}({', '.join(f'{k}={v}' for k, v in args.items())}), T={T}, B={B}: "
          f"y{[B] + spec['y_shape_per_sample']} J{[B] + spec['J_shape_per_sample']}, "
          f"{spec['parameters']} parameters, traced vs eager {diff:.1e}; {size / 1e6:.1f} MB in {d} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--B", type=int, default=1024, help="samples in x.npy / p.npy")
    ap.add_argument("--T", type=int, default=1024)
    ap.add_argument("--width", type=int, default=128,
                    help="attention: the model width W; cnn: the channel count C")
    ap.add_argument("--heads", type=int, default=4, help="attention heads (W divisible by it)")
    ap.add_argument("--head-width", type=int, default=32, help="cnn: the head width H (12 in the fixture)")
    ap.add_argument("--xf", type=int, default=20, help="x features (the seed configuration's 20)")
    ap.add_argument("--P", type=int, default=14, help="p's length (the seed configuration's 14)")
    ap.add_argument("--O", type=int, default=15, help="outputs (the seed configuration's 15)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--models", default="attention,cnn")
    a = ap.parse_args()
    check_cnn_matches_fixture()
    for m in a.models.split(","):
        if m == "attention":
            if a.width % a.heads:
                sys.exit(f"--width {a.width} is not divisible by --heads {a.heads}")
            make("attention", "Attention",
                 {"xf": a.xf, "P": a.P, "W": a.width, "H": a.heads, "O": a.O},
                 a.out_dir, a.B, a.T, a.seed, output_index=0)
        elif m == "cnn":
            if a.T // 2 < a.width + 2:
                sys.exit(f"cnn: T // 2 = {a.T // 2} must be at least width + 2 = {a.width + 2}")
            make("cnn", "CNNScaled", {"xf": a.xf, "P": a.P, "O": a.O, "C": a.width, "H": a.head_width},
                 a.out_dir, a.B, a.T, a.seed, output_index=None)
        else:
            sys.exit(f"unknown model {m!r} (attention, cnn)")


if __name__ == "__main__":
    main()
