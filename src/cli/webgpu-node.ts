/**
 * WebGPU in Node through the `webgpu` package (Dawn). Kept out of src/engine, which stays free of
 * Node APIs: the CLI, the tests and the benchmarks get a `GPU` object here and hand it to the
 * engine's backend selection.
 *
 * Dawn writes its Vulkan diagnostics ("vkCreateInstance: Found no drivers!", "Vulkan … required")
 * straight to the process's stderr, where nothing in JavaScript can catch them. So the CLI asks
 * first, without Dawn: `findGpu` looks for a Vulkan driver with a device to drive, and only then
 * asks Dawn for an adapter in a child process whose stderr is captured. Dawn is loaded into this
 * process only when that child found an adapter worth using.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describeAdapter, summarizeAdapter, type AdapterSummary } from '../engine/backends/webgpu/context';

/** Defined (true) by scripts/build-cli.mjs in the bundled CLI; undefined when run from the sources. */
declare const __JACSCOPE_BUNDLE__: boolean | undefined;
/**
 * Given by bin/jacscope.mjs when it runs the bundle from V8's code cache, where Node 20 cannot run
 * an import() of its own; undefined otherwise.
 */
declare const __jacscopeImport: ((specifier: string) => Promise<unknown>) | undefined;

/** import() of a module outside the bundle (Dawn's package, a Node built-in). */
function importExternal<T>(specifier: string): Promise<T> {
  return (
    typeof __jacscopeImport === 'function' ? __jacscopeImport(specifier) : import(specifier)
  ) as Promise<T>;
}

/** Debian's Chromium ships SwiftShader's Vulkan driver: a software adapter for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface NodeGpuOptions {
  /**
   * Point the Vulkan loader at SwiftShader when VK_ICD_FILENAMES is not set and the driver is
   * installed (tests and CI on GPU-less machines). It must happen before Dawn starts, and it hides
   * real GPUs, so the CLI leaves it off unless asked.
   */
  swiftshader?: boolean;
}

export interface NodeGpu {
  gpu: GPU | null;
  /** Why there is no GPU object, when there is none. */
  reason?: string;
}

let loaded: Promise<NodeGpu> | undefined;

/** Load Dawn once per process and create its `GPU` object; `gpu` is null (with a reason) if it cannot load. */
export function loadNodeGpu(opts: NodeGpuOptions = {}): Promise<NodeGpu> {
  if (opts.swiftshader && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  loaded ??= (async () => {
    try {
      const mod = await importExternal<{ create(flags: string[]): GPU; globals: object }>('webgpu');
      // Dawn's classes (GPUBufferUsage, …) as globals, as a browser has them.
      for (const [k, v] of Object.entries(mod.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      return { gpu: mod.create([]) };
    } catch (e) {
      return {
        gpu: null,
        reason: `the webgpu module did not load: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  })();
  return loaded;
}

/** The `GPU` object, or null where Dawn cannot load. */
export async function nodeGpu(opts: NodeGpuOptions = {}): Promise<GPU | null> {
  return (await loadNodeGpu(opts)).gpu;
}

/** The file-system calls the driver search makes (tests pass a fake machine). */
export interface DriverFs {
  readdir(dir: string): string[];
  readFile(path: string): string;
  isDir(path: string): boolean;
  exists(path: string): boolean;
}

const realFs: DriverFs = {
  readdir: (dir) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  },
  readFile: (path) => readFileSync(path, 'utf8'),
  isDir: (path) => statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false,
  exists: (path) => existsSync(path),
};

/** Vulkan drivers that render in software: never worth a GPU probe for `auto`. */
const SOFTWARE_DRIVER = /lvp|lavapipe|llvmpipe|swiftshader|mock_icd|softpipe/i;

export interface VulkanDrivers {
  /** Driver manifests (ICD .json files) the Vulkan loader would read. */
  manifests: string[];
  /** Those of hardware drivers (their library is not a software renderer). */
  hardware: string[];
  /** Whether a GPU device node exists (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg). */
  deviceNode: boolean;
}

/**
 * The Vulkan drivers the loader would find on Linux, looked up the way the loader does it:
 * VK_DRIVER_FILES or VK_ICD_FILENAMES when set (files or folders), else the icd.d folders under
 * the XDG config and data folders and /etc, plus VK_ADD_DRIVER_FILES.
 */
export function vulkanDrivers(env: NodeJS.ProcessEnv = process.env, fs: DriverFs = realFs): VulkanDrivers {
  const list = (v: string | undefined) => (v ? v.split(delimiter).filter(Boolean) : []);
  const home = env.HOME || homedir();
  let places = list(env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES);
  if (places.length === 0) {
    const config = [env.XDG_CONFIG_HOME || join(home, '.config'), ...list(env.XDG_CONFIG_DIRS || '/etc/xdg')];
    const data = [
      env.XDG_DATA_HOME || join(home, '.local/share'),
      ...list(env.XDG_DATA_DIRS || '/usr/local/share:/usr/share'),
    ];
    places = [...config, '/usr/local/etc', '/etc', ...data].map((d) => join(d, 'vulkan/icd.d'));
  }
  places.push(...list(env.VK_ADD_DRIVER_FILES));
  const manifests: string[] = [];
  for (const p of places) {
    if (fs.isDir(p)) {
      for (const f of fs.readdir(p).sort()) if (f.endsWith('.json')) manifests.push(join(p, f));
    } else if (fs.exists(p)) manifests.push(p);
  }
  const hardware = manifests.filter((m) => {
    let library = m;
    try {
      const icd = JSON.parse(fs.readFile(m)) as { ICD?: { library_path?: string } };
      library = icd.ICD?.library_path ?? m;
    } catch {
      return false; // the loader skips a manifest it cannot read
    }
    return !SOFTWARE_DRIVER.test(library) && !SOFTWARE_DRIVER.test(m);
  });
  const dri = fs.readdir('/dev/dri').some((f) => /^(renderD|card)\d+$/.test(f));
  const deviceNode = dri || fs.exists('/dev/nvidiactl') || fs.exists('/dev/nvidia0') || fs.exists('/dev/dxg');
  return { manifests, hardware, deviceNode };
}

export interface GpuFinding {
  /** Worth loading Dawn in this process: the probe found an adapter (a hardware one, for `auto`). */
  use: boolean;
  /** Why not, in one sentence, when `use` is false. */
  reason?: string;
  /** Not a failure: a software adapter that `auto` passes over. */
  note?: string;
  adapter?: AdapterSummary;
}

/** What the child process runs: load Dawn, ask for an adapter, print what it says about itself. */
const PROBE = `
const { create } = await import(process.argv[1]);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = adapter ? adapter.info ?? {} : null;
const info = i && { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description,
  isFallbackAdapter: i.isFallbackAdapter ?? adapter.isFallbackAdapter ?? false };
process.stdout.write(JSON.stringify({ info }), () => process.exit(0));
`;

function webgpuEntry(): string {
  const base = typeof __JACSCOPE_BUNDLE__ !== 'undefined' ? __filename : import.meta.url;
  return pathToFileURL(createRequire(base).resolve('webgpu')).href;
}

/** The first line Dawn or the loader wrote, without its "Warning:"/"Error:" label. */
function firstLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.trim()) ?? '';
  return line.replace(/^\s*(warning|error):\s*/i, '').trim();
}

/**
 * Whether WebGPU is worth loading for `auto` or `webgpu`, found without letting Dawn write to this
 * process's stderr. On Linux, `auto` looks no further when there is no hardware Vulkan driver with
 * a device to drive (no GPU: the common case, answered in a millisecond). Then Dawn is asked for an
 * adapter in a child process (its stderr captured). Also gives the loader a private
 * XDG_RUNTIME_DIR when there is none (it complains on stderr without one).
 */
export async function findGpu(
  want: 'auto' | 'webgpu',
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  probe: (env: NodeJS.ProcessEnv) => Promise<ProbeOutput> | ProbeOutput = probeChild,
  fs: DriverFs = realFs,
): Promise<GpuFinding> {
  if (platform === 'linux') {
    const d = vulkanDrivers(env, fs);
    if (d.manifests.length === 0)
      return {
        use: false,
        reason: 'no Vulkan driver is installed (no ICD manifest in any vulkan/icd.d folder)',
      };
    if (want === 'auto') {
      if (d.hardware.length === 0)
        return { use: false, reason: 'only software Vulkan drivers are installed' };
      if (!d.deviceNode) return { use: false, reason: 'no GPU device (/dev/dri, /dev/nvidia*) is present' };
      // Only the hardware drivers: software ones add nothing auto would use, and complain.
      if (!env.VK_DRIVER_FILES && !env.VK_ICD_FILENAMES) env.VK_ICD_FILENAMES = d.hardware.join(delimiter);
    }
  }
  if (!env.XDG_RUNTIME_DIR) env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'jacscope-xdg-'));
  const r = await probe(env);
  let info: Record<string, unknown> | null | undefined;
  try {
    info = (JSON.parse(r.stdout) as { info: Record<string, unknown> | null }).info;
  } catch {
    const why = firstLine(r.stderr) || (r.status === null ? 'it did not finish' : `exit code ${r.status}`);
    return { use: false, reason: `Dawn (the webgpu module) could not be asked for an adapter: ${why}` };
  }
  if (!info) {
    const said = firstLine(r.stderr);
    return { use: false, reason: `Dawn offers no adapter${said ? ` (${said})` : ''}` };
  }
  const adapter = summarizeAdapter({ info } as unknown as GPUAdapter);
  if (want === 'auto' && adapter.software) {
    return {
      use: false,
      adapter,
      note: `${describeAdapter(adapter)} is a software renderer, slower than the CPU backend; using the CPU (choose WebGPU to use it anyway)`,
    };
  }
  return { use: true, adapter };
}

export interface ProbeOutput {
  status: number | null;
  stdout: string;
  stderr: string;
}

async function probeChild(env: NodeJS.ProcessEnv): Promise<ProbeOutput> {
  // Loaded here, not at start: node:child_process costs more to load than `info` takes to run.
  const { spawnSync } = await importExternal<typeof import('node:child_process')>('node:child_process');
  let entry: string;
  try {
    entry = webgpuEntry();
  } catch (e) {
    return { status: 1, stdout: '', stderr: `the webgpu module is not installed: ${(e as Error).message}` };
  }
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', PROBE, entry], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' };
}
