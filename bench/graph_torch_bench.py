#!/usr/bin/env python3
"""PyTorch's side of bench/graph-gpu-bench.ts: vmap(jacfwd) of a bench/make_scaled_models.py model.

    python3 bench/graph_torch_bench.py --dir D --device cuda --batches 1,64,1024 > torch.json

Prints one JSON object on stdout (graph-gpu-bench.ts --torch reads it); one line per size on stderr.
The module is the eager one the archive was traced from, rebuilt from D/spec.json and
D/state_dict.pt (--module traced: D/model.pt through torch.jit.load), float32 as saved, parameters
frozen. Inputs: the first B samples of D/x.npy and D/p.npy (repeated when B is larger), float32, on
the device. J = vmap(jacfwd(per-sample y, argnums=1))(x, p): per-sample blocks [B, ...y, P], as
jacscope computes them.

Times, each the median of at least --runs calls and at least 1 s of calls (at most --budget seconds
per size), synchronised, after a warm-up call:
  vmap_jacfwd_ms          J left on the device
  vmap_jacfwd_to_host_ms  J brought to host memory: .cpu() of the whole J (in chunks: each chunk
                          copied into one host tensor allocated once, as jacscope's J goes into a
                          reused array)
When the whole batch does not fit in device memory, it runs in chunks of samples (halved from B
until one fits; functorch 1.13's vmap has no chunk_size); `chunk` says how many.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_scaled_models as scaled  # noqa: E402

ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
ap.add_argument("--dir", required=True)
ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
ap.add_argument("--batches", default="1,64,1024")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--budget", type=float, default=30, help="seconds per size at most (after the warm-up)")
ap.add_argument("--chunk", type=int, default=0, help="at most this many samples per call (0: as many as fit)")
ap.add_argument("--module", choices=["eager", "traced"], default="eager")
ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
args = ap.parse_args()
dev = torch.device(args.device)
if args.threads:
    torch.set_num_threads(args.threads)

model, spec = scaled.load_eager(args.dir, dev)
if args.module == "traced":
    model = torch.jit.load(os.path.join(args.dir, "model.pt"), map_location=dev).eval()
for prm in model.parameters():
    prm.requires_grad_(False)
oi = spec.get("output_index")
vmap, jacfwd = scaled.vmap_jacfwd()
jac = vmap(jacfwd(scaled.per_sample(model, oi), argnums=1))

x_all = scaled.read_npy(os.path.join(args.dir, "x.npy")).float()
p_all = scaled.read_npy(os.path.join(args.dir, "p.npy")).float()
N = x_all.shape[0]


def first(t, B):
    reps = -(-B // N)
    return (t.repeat(reps, *[1] * (t.dim() - 1)) if reps > 1 else t)[:B].contiguous()


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


def is_oom(e):
    return isinstance(e, getattr(torch.cuda, "OutOfMemoryError", ())) or "out of memory" in str(e)


MIN_TOTAL_MS = 1000
MAX_RUNS = 200


def median_ms(fn):
    fn()  # warm-up
    sync()
    times = []
    while len(times) < args.runs or (sum(times) < MIN_TOTAL_MS and len(times) < MAX_RUNS):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
        if sum(times) + times[-1] > args.budget * 1e3:
            break
    return statistics.median(times), len(times)


out = {"torch": torch.__version__, "device": str(dev), "model": spec, "module": args.module,
       "method": "vmap(jacfwd(per-sample y, argnums=1)), float32", "rows": []}
if dev.type == "cuda":
    out["gpu"] = torch.cuda.get_device_name(dev)
    out["allow_tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32,
                         "cudnn": torch.backends.cudnn.allow_tf32}
else:
    out["threads"] = torch.get_num_threads()
chunk_cap = args.chunk or max(int(b) for b in args.batches.split(","))
for B in [int(b) for b in args.batches.split(",")]:
    row = {"B": B}
    x = first(x_all, B).to(dev)
    p = first(p_all, B).to(dev)
    while True:
        c = min(B, chunk_cap)
        try:
            if c == B:
                on_dev = lambda: jac(x, p)  # noqa: E731
                to_host = lambda: jac(x, p).cpu()  # noqa: E731
            else:
                shape = jac(x[:1], p[:1]).shape[1:]
                J_dev = torch.empty(B, *shape, device=dev)
                J_host = torch.empty(B, *shape)

                def on_dev():
                    for b0 in range(0, B, c):
                        J_dev[b0:b0 + c] = jac(x[b0:b0 + c], p[b0:b0 + c])

                def to_host():
                    for b0 in range(0, B, c):
                        J_host[b0:b0 + c].copy_(jac(x[b0:b0 + c], p[b0:b0 + c]))
            row["vmap_jacfwd_ms"], row["runs"] = median_ms(on_dev)
            if dev.type == "cuda":
                row["vmap_jacfwd_to_host_ms"], _ = median_ms(to_host)
            row["chunk"] = c
            break
        except Exception as e:  # noqa: BLE001 - report, don't die
            on_dev = to_host = J_dev = J_host = None
            if dev.type == "cuda":
                torch.cuda.empty_cache()
            if is_oom(e) and c > 1:
                chunk_cap = c // 2
                continue
            row["error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
            break
    if dev.type == "cuda":
        row["peak_mem_gb"] = torch.cuda.max_memory_allocated(dev) / 1e9
        torch.cuda.reset_peak_memory_stats(dev)
    out["rows"].append(row)
    print(json.dumps(row), file=sys.stderr, flush=True)
print(json.dumps(out))
