#!/usr/bin/env bash
# The GPU measurement of issue 5, run on a lent GPU machine from the repository root after
# bench/device-pack.sh (carry .dev and .gl):
#   jacscope on WebGPU (Dawn → Vulkan → the NVIDIA driver) at B = 1, 16, 64, 1024, 4096, checked
#   against the PyTorch float64 fixtures first; the CPU backend at B = 1, 16, 64 on the same
#   machine; PyTorch on CUDA (vmap(jacfwd), functional.jacobian) for the same sizes.
# Results land in $OUT (or ./device-out): webgpu-gpu.json, torch-cuda.json and the logs.
set -u
OUT=${OUT:-$PWD/device-out}
mkdir -p "$OUT"
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
batches=${BATCHES:-1,16,64,1024,4096}
timeout 300 $node .dev/webgpu-bench.mjs --batches "$batches" --cpu-batches "${CPU_BATCHES:-1,16,64}" \
  --workspaces "${WORKSPACES:-512,2048,2048/128,8192}" --budget 60 --verify .dev/fixtures --json-out "$OUT/webgpu-gpu.json" 2>&1 |
  grep -v '^Warning: ' | tee "$OUT/webgpu.log"
[ -n "${SKIP_TORCH:-}" ] && exit 0
echo "== PyTorch on CUDA"
timeout 200 python3 bench/pytorch_bench.py --fixtures .dev/fixtures --device cuda \
  --batches "$batches" --runs 5 --functional-max-b 16 >"$OUT/torch-cuda.json" 2>"$OUT/torch.log"
echo "exit $?"; tail -n 8 "$OUT/torch.log"
