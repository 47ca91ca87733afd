#!/usr/bin/env bash
# Packs what bench/device-bench.sh needs on a lent GPU machine (no Node, no network there) into
# .dev/ (git-ignored; carried by the device tool): an xz-compressed node binary, the WebGPU benches
# bundled (webgpu-bench.mjs; graph-gpu-bench.mjs with its CPU thread graph-cpu-worker.mjs beside
# it), the `webgpu` package's Linux x64 Dawn, libstdc++ as a fallback, the
# PyTorch fixtures the bench verifies against; and in .gl/ the Vulkan loader with libglvnd.
#   bash bench/device-pack.sh [fixtures-dir]      # default test/fixtures/fno
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=${1:-test/fixtures/fno}
rm -rf .dev && mkdir -p .dev/node_modules/webgpu/dist/linux-x64 .dev/lib .dev/fixtures
xz -T0 -6 -c "$(readlink -f "$(command -v node)")" > .dev/node.xz
npx esbuild bench/webgpu-bench.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --log-level=warning --outfile=.dev/webgpu-bench.mjs
# The graph bench and its helper thread (which it looks for beside itself). esbuild stays out: only
# the sources' runs bundle the thread at start.
req="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);"
for b in graph-gpu-bench graph-cpu-worker; do
  npx esbuild bench/$b.ts --bundle --platform=node --format=esm --target=node20 --external:webgpu \
    --external:esbuild --banner:js="$req" --log-level=warning --outfile=.dev/$b.mjs
done
cp node_modules/webgpu/index.js node_modules/webgpu/package.json .dev/node_modules/webgpu/
cp node_modules/webgpu/dist/linux-x64/dawn.node .dev/node_modules/webgpu/dist/linux-x64/
cp "$(readlink -f /usr/lib/x86_64-linux-gnu/libstdc++.so.6)" .dev/lib/libstdc++.so.6
# What webgpu-bench.ts --verify reads (the seed case has no batch-of-4 references) and the seed
# config.json that pytorch_bench.py reads; the model it builds is scripts/fixtures/make_fno_fixtures.py's.
mkdir -p .dev/fixtures/seed-fno1d .dev/fixtures/deep-fno1d
cp "$fixtures"/seed-fno1d/{config.json,model.safetensors,x.npy,p.npy,y_f64.npy,jacobian_f64.npy} .dev/fixtures/seed-fno1d/
cp "$fixtures"/deep-fno1d/{config.json,model.safetensors,x.npy,p.npy,x4.npy,p4.npy,y_f64.npy,y4_f64.npy,jacobian_f64.npy,jacobian4_f64.npy} .dev/fixtures/deep-fno1d/
# The Vulkan loader, and libglvnd's EGL/GLX: the NVIDIA Vulkan driver (libGLX_nvidia) needs them,
# and without them Dawn finds no adapter on the lent machines.
gl_debs="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
if [ "$(ls .gl/*.deb 2>/dev/null | wc -l)" -lt 7 ]; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update >/dev/null && (cd .gl && apt-get $o download $gl_debs)
fi
# (A worktree's .git is a file, and a fresh clone may have no info/ folder.)
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
grep -qx '/.dev/' "$exclude" 2>/dev/null || printf '/.dev/\n/.gl/\n' >> "$exclude"
du -sh .dev .gl
