"""PyTorch side of `npm run bench`: times the same work as jacscope on the same machine.

Prints one JSON object on stdout. Run by bench/engine-bench.ts; usable alone:
    python3 bench/pytorch_bench.py --fixtures ../shared/fixtures --batches 1,16,64 --runs 5
"""
import argparse, json, os, resource, statistics, sys, time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("--fixtures", required=True)
ap.add_argument("--batches", default="1,16,64")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
args = ap.parse_args()

torch.set_num_threads(args.threads)
sys.path.insert(0, args.fixtures)
import fno_model  # the fixtures' own model definition

try:
    import functorch
except ImportError:
    functorch = None

with open(os.path.join(args.fixtures, "seed-fno1d", "config.json")) as f:
    cfg = json.load(f)
T = 601
model = fno_model.build(cfg, seed=0, vmap_compatible=True).eval()
for prm in model.parameters():
    prm.requires_grad_(False)


def median_ms(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def per_sample(xb, pb):
    return model(xb[None], pb[None])[0]


out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "rows": []}
g = torch.Generator().manual_seed(0)
for B in [int(b) for b in args.batches.split(",")]:
    x = torch.randn(B, T, cfg["inp_dim_func"], generator=g)
    p = torch.randn(B, cfg["inp_dim_scalar"], generator=g)
    row = {"B": B}
    with torch.no_grad():
        row["forward_ms"] = median_ms(lambda: model(x, p), args.runs)
    if functorch is not None:
        jac = functorch.vmap(functorch.jacfwd(per_sample, argnums=1))
        try:
            row["vmap_jacfwd_ms"] = median_ms(lambda: jac(x, p), args.runs)
        except Exception as e:  # noqa: BLE001 - report, don't die
            row["vmap_jacfwd_error"] = str(e).splitlines()[0]

    # torch.autograd.functional.jacobian returns the [B,T,O,B,P] cross-batch tensor; for B > 1
    # a user gets the per-sample blocks by calling it once per sample, which is what we time.
    def functional():
        for b in range(B):
            torch.autograd.functional.jacobian(
                lambda q: per_sample(x[b], q), p[b], vectorize=True, strategy="forward-mode")

    row["functional_forward_ms"] = median_ms(functional, args.runs if B <= 16 else max(1, args.runs // 2))
    out["rows"].append(row)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
