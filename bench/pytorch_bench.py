"""PyTorch side of `npm run bench`: times the same work as jacscope on the same machine.

Prints one JSON object on stdout. Run by bench/engine-bench.ts; usable alone:
    python3 bench/pytorch_bench.py --batches 1,16,64 --runs 5
--fixtures names the seed case's folder (default test/fixtures/fno/seed-fno1d) or a folder holding
seed-fno1d/; only its config.json is read. The model is scripts/fixtures/make_fno_fixtures.py's, with
the seed case's weights (torch.manual_seed(0)); the inputs are random.
On a GPU (bench/device-bench.sh), float32 as PyTorch trains it, every time synchronised, and the
Jacobian timed both left on the GPU and brought to host memory (.cpu()), as jacscope's is:
    python3 bench/pytorch_bench.py --fixtures F --device cuda --batches 1,16,64,1024,4096
"""
import argparse, json, os, resource, statistics, sys, time

import torch

ap = argparse.ArgumentParser()
HERE = os.path.dirname(os.path.abspath(__file__))
ap.add_argument("--fixtures", default=os.path.join(HERE, "..", "test", "fixtures", "fno", "seed-fno1d"))
ap.add_argument("--batches", default="1,16,64")
ap.add_argument("--runs", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--device", default="cpu")
ap.add_argument("--functional-max-b", type=int, default=1 << 30,
                help="time functional.jacobian (one call per sample) only up to this B")
args = ap.parse_args()
dev = torch.device(args.device)

torch.set_num_threads(args.threads)
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures"))
import make_fno_fixtures as fno_model  # the model the fixtures were made with

try:  # torch >= 2.0 has torch.func; 1.13 (Debian's) has functorch
    from torch.func import jacfwd, vmap
except ImportError:
    try:
        from functorch import jacfwd, vmap
    except ImportError:
        jacfwd = vmap = None

cfg_path = os.path.join(args.fixtures, "config.json")
if not os.path.exists(cfg_path):
    cfg_path = os.path.join(args.fixtures, "seed-fno1d", "config.json")
with open(cfg_path) as f:
    cfg = json.load(f)
T = 601
model = fno_model.build(cfg, seed=0, vmap_compatible=True).eval().to(dev)
for prm in model.parameters():
    prm.requires_grad_(False)


def sync():
    if dev.type == "cuda":
        torch.cuda.synchronize()


# Short calls run until this much time has passed (and at least `runs` times), as engine-bench.ts
# does for jacscope: a median of 5 calls of a few milliseconds moves with every pause of the machine.
MIN_TOTAL_MS = 1000
MAX_RUNS = 200


def median_ms(fn, runs):
    fn()  # warm-up
    sync()
    times = []
    while len(times) < runs or (sum(times) < MIN_TOTAL_MS and len(times) < MAX_RUNS):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def per_sample(xb, pb):
    return model(xb[None], pb[None])[0]


out = {"torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(dev), "rows": []}
if dev.type == "cuda":
    out["gpu"] = torch.cuda.get_device_name(dev)
g = torch.Generator().manual_seed(0)
for B in [int(b) for b in args.batches.split(",")]:
    x = torch.randn(B, T, cfg["inp_dim_func"], generator=g).to(dev)
    p = torch.randn(B, cfg["inp_dim_scalar"], generator=g).to(dev)
    row = {"B": B}
    with torch.no_grad():
        row["forward_ms"] = median_ms(lambda: model(x, p), args.runs)
    if vmap is not None:
        jac = vmap(jacfwd(per_sample, argnums=1))
        try:
            row["vmap_jacfwd_ms"] = median_ms(lambda: jac(x, p), args.runs)
            if dev.type == "cuda":
                row["vmap_jacfwd_to_host_ms"] = median_ms(lambda: jac(x, p).cpu(), args.runs)
        except Exception as e:  # noqa: BLE001 - report, don't die
            row["vmap_jacfwd_error"] = str(e).splitlines()[0]

    # torch.autograd.functional.jacobian returns the [B,T,O,B,P] cross-batch tensor; for B > 1
    # a user gets the per-sample blocks by calling it once per sample, which is what we time.
    def functional():
        for b in range(B):
            torch.autograd.functional.jacobian(
                lambda q: per_sample(x[b], q), p[b], vectorize=True, strategy="forward-mode")

    if B <= args.functional_max_b:
        row["functional_forward_ms"] = median_ms(functional, args.runs if B <= 16 else max(1, args.runs // 2))
    out["rows"].append(row)
    print(json.dumps(row), file=sys.stderr, flush=True)
out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
