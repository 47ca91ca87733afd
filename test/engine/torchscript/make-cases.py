"""Writes the small TorchScript archives in test/engine/torchscript/cases/ and expected.json
(inputs and PyTorch's outputs for each), for the TorchScript front-end's tests.

Run from the repository root with Debian's PyTorch (python3-torch 1.13):

    /usr/bin/python3 test/engine/torchscript/make-cases.py

The archives are committed so that the tests never need torch. Models are float32; inputs are
float32 values written exactly; outputs are PyTorch's float32 results (compare with a tolerance).
"""
import json
import math
import os
from typing import Dict, List, NamedTuple, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")


# --- models -------------------------------------------------------------------------------------


class Spectral(nn.Module):
    def __init__(self, ci: int, co: int, m: int):
        super().__init__()
        self.m = m
        self.w = nn.Parameter(torch.randn(ci, co, m, dtype=torch.cfloat) * 0.3)

    def forward(self, x):
        B, C, N = x.shape
        x_ft = torch.fft.rfft(x)
        out_ft = torch.zeros(B, self.w.shape[1], N // 2 + 1, dtype=torch.cfloat, device=x.device)
        out_ft[:, :, : self.m] = torch.einsum("bix,iox->box", x_ft[:, :, : self.m], self.w)
        return torch.fft.irfft(out_ft, n=N)


class FNO(nn.Module):
    """Lift, two Fourier layers (spectral + 1x1 conv, GELU) from a zip over two ModuleLists, projection."""

    def __init__(self):
        super().__init__()
        self.lift = nn.Linear(3, 4)
        self.spec = nn.ModuleList([Spectral(4, 4, 3) for _ in range(2)])
        self.ws = nn.ModuleList([nn.Conv1d(4, 4, 1) for _ in range(2)])
        self.proj = nn.Sequential(nn.Linear(4, 8), nn.GELU(), nn.Linear(8, 1))

    def forward(self, x):
        x = self.lift(x).permute(0, 2, 1)
        for s, w in zip(self.spec, self.ws):
            x = F.gelu(s(x) + w(x))
        return self.proj(x.permute(0, 2, 1))


class Out(NamedTuple):
    y: torch.Tensor
    z: torch.Tensor
    n: int


class Control(nn.Module):
    """if/elif/else on x.dim() and on attributes, a helper method, a loop appending to a list, an
    Optional argument, a while loop, F.pad, LayerNorm, a named tuple result."""

    def __init__(self):
        super().__init__()
        self.ln = nn.LayerNorm(6)
        self.seq = nn.Sequential(nn.Linear(6, 6), nn.Tanh(), nn.Linear(6, 6))
        self.use_pad = True
        self.scale = 0.5
        self.lim = float("inf")
        self.register_buffer("buf", torch.arange(6.0) / 6)

    def helper(self, x: torch.Tensor, k: int) -> torch.Tensor:
        return x * k + self.buf

    def forward(self, x: torch.Tensor, p: Optional[torch.Tensor] = None) -> Out:
        if x.dim() == 3:
            x = x.mean(dim=1)
        elif x.dim() == 1:
            x = x.unsqueeze(0)
        else:
            x = x + 0.0
        if self.use_pad:
            y = F.pad(x, [1, 1], mode="constant", value=0.0)[:, 1:-1]
        else:
            y = x
        h = self.ln(y)
        outs: List[torch.Tensor] = []
        for i in range(3):
            h = self.helper(h, i) * self.scale
            outs.append(h)
        z = torch.stack(outs, 0).sum(0)
        if p is not None:
            z = z + p
        n = 0
        while n < 2 and not (n > 5):
            n += 1
        d = {"k": 0.5 if n == 2 else 1.0}
        z = torch.clamp(z, max=self.lim, min=-float("inf")) * d["k"]
        return Out(self.seq(z), z ** 2 / (n + 1e-05), n)


class Block(nn.Module):
    def __init__(self, n: int, act: str):
        super().__init__()
        self.lin = nn.Linear(n, n)
        self.act = act

    def forward(self, x):
        y = self.lin(x)
        if self.act == "tanh":
            return torch.tanh(y)
        return F.relu(y)


class Layers(nn.Module):
    """A ModuleList looped over with enumerate, list/dict/tuple/str attributes, assert and raise,
    a list comprehension, min/max, view/clamp/select, a tuple result with a list and an int."""

    dims: List[int]

    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([Block(4, a) for a in ["tanh", "relu", "tanh"]])
        self.dims = [1, 2, 3]
        self.table = {"a": 1, "b": 2}
        self.pair = (1.0, 2)
        self.one = 1.0
        self.name = 'x"y\n'

    def forward(self, x: torch.Tensor, flags: List[int]) -> Tuple[torch.Tensor, List[torch.Tensor], int]:
        assert x.dim() >= 2, "need 2d"
        outs = []
        for i, b in enumerate(self.blocks):
            x = b(x)
            outs.append(x * float(i))
        sq = [d * d for d in self.dims]
        total = 0
        for f in flags:
            total += f
        total = max(total, len(sq)) + min(3, 4) - self.table["a"]
        if total > 100:
            raise ValueError("too big")
        k = 0
        while k < 3 and x.shape[0] > 0:
            k += 1
        x = x.view(-1, x.size(1)).contiguous()
        y = x.clamp(min=-1.0, max=1.0) ** 2 // 0.25 % 2
        z = x[0] if x.size(0) > 1 else x[:, 0]
        n = x.numel() // 4 + len(self.name)
        return x + y.sum(dim=-1, keepdim=True) + z.mean() * self.one, outs, n + total + k


@torch.jit.script
def act(x: torch.Tensor, kind: str = "gelu") -> torch.Tensor:
    if kind == "gelu":
        return F.gelu(x, approximate="tanh")
    return -x


class Functional(nn.Module):
    """A free scripted function, reflect padding, interpolate, functional layer_norm, arange, full."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 4) * 0.5)

    def forward(self, x):
        h = act(x @ self.w)
        h = F.pad(h, (1, 2), mode="reflect")
        h = F.interpolate(h.unsqueeze(0), size=5, mode="linear", align_corners=False).squeeze(0)
        return F.layer_norm(h, (5,)), torch.arange(6.0), torch.full([2], 1.0)


# --- writing ------------------------------------------------------------------------------------


def encode(v):
    if isinstance(v, torch.Tensor):
        t = v.detach()
        if t.is_complex():
            raise ValueError("complex outputs are not expected")
        return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""), "data": t.double().flatten().tolist()}
    if isinstance(v, tuple):
        return {"tuple": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def case(name, module, inputs, runs=None):
    path = os.path.join(OUT, name + ".pt")
    module.save(path)
    loaded = torch.jit.load(path)
    runs = runs or [inputs]
    results = []
    for args in runs:
        with torch.no_grad():
            y = loaded(*args)
        results.append({"inputs": [encode(a) for a in args], "output": encode(y)})
    print(f"{name}: {os.path.getsize(path)} bytes")
    return name, results


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x_fno = torch.randn(2, 8, 3, generator=g)
    expected = dict(
        [
            case("fno-traced", torch.jit.trace(FNO().eval(), (x_fno,)), [x_fno]),
            case("fno-scripted", torch.jit.script(FNO().eval()), [x_fno]),
            case(
                "control-scripted",
                torch.jit.script(Control().eval()),
                None,
                runs=[
                    [torch.randn(2, 3, 6, generator=g)],
                    [torch.randn(2, 6, generator=g), torch.randn(2, 6, generator=g)],
                    [torch.randn(6, generator=g)],
                ],
            ),
            case("layers-scripted", torch.jit.script(Layers().eval()), [torch.randn(3, 4, generator=g), [1, 2]]),
            case("functional-scripted", torch.jit.script(Functional().eval()), [torch.randn(3, 4, generator=g)]),
        ]
    )
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
