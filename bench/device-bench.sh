#!/usr/bin/env bash
# The GPU measurement, run on a lent GPU machine from the repository root after
# bench/device-pack.sh (carry .dev and .gl), in one command of under 10 minutes:
#   1. the seed fno1d on WebGPU (Dawn → Vulkan → the NVIDIA driver) at B = 1, 16, 64, 1024, 4096,
#      checked against the PyTorch float64 fixtures first; the CPU backend at B = 1, 16, 64 on the
#      same machine; PyTorch on CUDA (vmap(jacfwd), functional.jacobian) for the same sizes;
#   2. the non-FNO graph fixtures scaled up (bench/make_scaled_models.py: attention and CNN, T = 1024,
#      width 128), made here with PyTorch, at B = 1, 64, 1024: WebGPU (WebGpuGraphRunner) against
#      the graph engine on one CPU thread and on every core, and PyTorch CUDA vmap(jacfwd)
#      (bench/graph-gpu-bench.ts, bench/graph_torch_bench.py); see bench/results/gpu-graph.md.
# Results land in $OUT (or ./device-out): webgpu-gpu.json, torch-cuda.json, graph-<model>.json,
# torch-<model>.json and the logs. Each step has a time limit, and all of them together stop by
# TOTAL_S seconds (default 500) after the start. Environment: BATCHES, CPU_BATCHES, WORKSPACES
# (the seed table), SKIP_TORCH, SKIP_SEED, SKIP_GRAPH, SCALED (cnn,attention), SCALED_T, SCALED_WIDTH,
# GRAPH_BATCHES, GRAPH_WORKSPACES, READBACK_DETAIL.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
end=$((SECONDS + ${TOTAL_S:-500}))
# step LIMIT CMD...: CMD under `timeout`, for at most LIMIT seconds and not past the overall end.
step() {
  local lim=$1 left=$((end - SECONDS))
  shift
  [ "$left" -lt "$lim" ] && lim=$left
  if [ "$lim" -lt 10 ]; then
    echo "-- skipped, out of time: $*" >&2
    return 124
  fi
  timeout "$lim" "$@"
}
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f "$icd" ] && export VK_DRIVER_FILES=$icd
node=/tmp/jacscope-node
xz -dc .dev/node.xz > $node 2>/dev/null ||
  python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open('.dev/node.xz'), open(sys.argv[1],'wb'))" $node
chmod +x $node
$node --version >/dev/null 2>&1 || export LD_LIBRARY_PATH=$PWD/.dev/lib
echo "== $(nvidia-smi -L 2>&1 | head -1); node $($node --version); $(ldconfig -p | grep -c libvulkan.so) libvulkan; VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}"
probe() { timeout 60 $node bench/device-probe.mjs .dev/node_modules/webgpu/index.js >/tmp/probe.log 2>&1; local rc=$?; tail -n 4 /tmp/probe.log; return $rc; }
# No adapter with the driver above: say why, then try the driver's own library folder and every
# Vulkan driver manifest there is.
if ! probe; then
  echo "-- loader's view:"; VK_LOADER_DEBUG=error,warn,driver probe | head -c 3000
  [ -n "${VK_DRIVER_FILES:-}" ] && cat "$VK_DRIVER_FILES" && ls /usr/local/nvidia/lib64 2>/dev/null | grep -i -E 'glx|vulkan' | head
  export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "-- with LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  if ! probe; then
    for m in $(find /usr/local/nvidia /usr/share/vulkan /etc/vulkan -name '*.json' 2>/dev/null); do
      echo "-- trying $m"
      if VK_DRIVER_FILES=$m probe; then export VK_DRIVER_FILES=$m; break; fi
    done
  fi
fi
if [ -n "${READBACK_DETAIL:-}" ]; then
  # Where the read-back time goes, Dawn and PyTorch side by side (0.5 GB, the B=1024 J in f32).
  timeout 120 $node .dev/webgpu-bench.mjs --readback-detail --batches 1024 --workspaces 2048 \
    --json-out "$OUT/readback.json" 2>&1 | grep -v '^Warning: '
  python3 - <<'PY'
import time, torch
n = 1024 * 601 * 15 * 14
g = torch.randn(n, device="cuda")
for pinned in (True, False):
    h = torch.empty(n, pin_memory=pinned)
    for _ in range(3):
        torch.cuda.synchronize(); t0 = time.perf_counter(); h.copy_(g); torch.cuda.synchronize()
        print(f"torch D2H into {'pinned' if pinned else 'pageable'} host memory: {(time.perf_counter() - t0) * 1e3:.1f} ms")
PY
  exit 0
fi
if [ -z "${SKIP_SEED:-}" ]; then
  # The chunk-size study (512,2048,2048/128,8192 MiB) is in bench/results/h100.md; the default
  # workspace alone keeps this step near a minute.
  batches=${BATCHES:-1,16,64,1024,4096}
  echo "== seed fno1d on WebGPU"
  step 150 $node .dev/webgpu-bench.mjs --batches "$batches" --cpu-batches "${CPU_BATCHES:-1,16,64}" \
    --workspaces "${WORKSPACES:-512}" --budget 40 --verify .dev/fixtures --json-out "$OUT/webgpu-gpu.json" 2>&1 |
    grep -v '^Warning: ' | tee "$OUT/webgpu.log"
  if [ -z "${SKIP_TORCH:-}" ]; then
    echo "== seed fno1d, PyTorch on CUDA"
    step 120 python3 bench/pytorch_bench.py --fixtures .dev/fixtures --device cuda \
      --batches "$batches" --runs 5 --functional-max-b 16 >"$OUT/torch-cuda.json" 2>"$OUT/torch.log"
    echo "exit $?"; tail -n 8 "$OUT/torch.log"
  fi
fi
[ -n "${SKIP_GRAPH:-}" ] && exit 0
# The scaled CNN and attention, made here with PyTorch (as many samples as the last GRAPH_BATCHES).
models=/tmp/jacscope-scaled
gb=${GRAPH_BATCHES:-1,64,1024}
echo "== scaled graph models (T = ${SCALED_T:-1024}, width ${SCALED_WIDTH:-128}): ${SCALED:-cnn,attention}"
step 60 python3 bench/make_scaled_models.py "$models" --B "${gb##*,}" --T "${SCALED_T:-1024}" --width "${SCALED_WIDTH:-128}" \
  --models "${SCALED:-cnn,attention}" 2>&1 | grep -v -i 'warning' | tee "$OUT/make-scaled.log"
IFS=, read -r -a scaled <<<"${SCALED:-cnn,attention}"
for m in "${scaled[@]}"; do
  [ -f "$models/$m/model.pt" ] || { echo "-- no $models/$m/model.pt"; continue; }
  # Lowering the attention alone took 80-140 s on a 2-core machine (the CNN 33-44 s), once per
  # run of the bench: one workspace, and one timed CPU call of the attention per size (seconds each).
  case $m in attention) lt=80 lg=240 budget=30 cr=1 ;; *) lt=50 lg=120 budget=20 cr=3 ;; esac
  if [ -z "${SKIP_TORCH:-}" ]; then
    echo "== $m, PyTorch on CUDA"
    step $lt python3 bench/graph_torch_bench.py --dir "$models/$m" --device cuda --batches "$gb" \
      --runs 3 --budget 15 >"$OUT/torch-$m.json" 2>"$OUT/torch-$m.log"
    echo "exit $?"; grep -v -i warning "$OUT/torch-$m.log" | tail -n 4
  fi
  echo "== $m, jacscope: WebGPU, CPU"
  step $lg $node .dev/graph-gpu-bench.mjs --dir "$models/$m" --batches "$gb" --cpu-batches 1 \
    --pool-batches 64 --cpu-runs $cr --workspaces "${GRAPH_WORKSPACES:-16384}" --budget $budget \
    --torch "$OUT/torch-$m.json" --json-out "$OUT/graph-$m.json" 2>&1 | grep -v '^Warning: ' | tee "$OUT/graph-$m.log"
done
