import { type GemmChoice, chooseGemm } from './gemm-choice';

/** What the adapter says about itself, for `jacscope info` and the app's status line. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (SwiftShader, llvmpipe, WARP) or an adapter the browser marks as fallback. */
  software: boolean;
}

export interface WebGpuContextOptions {
  powerPreference?: GPUPowerPreference;
}

/** The WebGPU device failed or was lost; `message` says what the implementation reported. */
export class WebGpuError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebGpuError';
  }
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|warp|microsoft basic render/i;

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  // `info` is the current spelling; older implementations had requestAdapterInfo() only.
  const info = (adapter as { info?: GPUAdapterInfo }).info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const fallback =
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter ??
    (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  return {
    vendor,
    architecture,
    device,
    description,
    software: fallback || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`),
  };
}

/** "WebGPU: SwiftShader driver 5.0.0 (google swiftshader, software)" — one line for people. */
export function describeAdapter(a: AdapterSummary): string {
  const main = a.description || a.device || a.architecture || a.vendor || 'unknown adapter';
  const extra = [a.vendor, a.architecture].filter((s) => s && !main.includes(s)).join(' ');
  const parts = [extra, a.software ? 'software' : ''].filter(Boolean).join(', ');
  return `WebGPU: ${main}${parts ? ` (${parts})` : ''}`;
}

/**
 * A WebGPU device and the compiled kernels, shared by every model built on it. The caller passes
 * the `GPU` object — `navigator.gpu` in a browser worker, Dawn's `create([])` in Node — so the
 * engine itself imports nothing platform-specific.
 */
export class WebGpuContext {
  readonly device: GPUDevice;
  readonly adapter: AdapterSummary;
  readonly description: string;
  /** Set once the device is lost; every later call fails with it. */
  lostReason: string | undefined;
  private destroyed = false;
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  private gemm: Promise<GemmChoice> | undefined;

  private constructor(device: GPUDevice, adapter: AdapterSummary) {
    this.device = device;
    this.adapter = adapter;
    this.description = describeAdapter(adapter);
    void device.lost.then((info) => {
      if (!this.destroyed) this.lostReason = info.message || `reason: ${String(info.reason)}`;
    });
  }

  /**
   * Open an adapter and a device. Resolves to null when the GPU object offers no adapter at all
   * (the "no WebGPU here" case); rejects when an adapter exists but the device cannot be created.
   */
  static async create(gpu: GPU, opts: WebGpuContextOptions = {}): Promise<WebGpuContext | null> {
    const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
    if (!adapter) return null;
    const summary = summarizeAdapter(adapter);
    // Ask for the adapter's full buffer limits: the defaults (128/256 MiB) would make chunks smaller.
    const L = adapter.limits;
    let device: GPUDevice;
    try {
      device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
          maxBufferSize: L.maxBufferSize,
          maxStorageBuffersPerShaderStage: Math.min(8, L.maxStorageBuffersPerShaderStage),
        },
      });
    } catch (e) {
      throw new WebGpuError(`could not create a WebGPU device on ${describeAdapter(summary)}: ${errText(e)}`);
    }
    return new WebGpuContext(device, summary);
  }

  /** Which GEMM kernel this adapter runs (gemm-choice.ts): decided, or measured, once per context. */
  gemmChoice(): Promise<GemmChoice> {
    if (!this.gemm) {
      this.gemm = chooseGemm(this);
      this.gemm.catch(() => (this.gemm = undefined));
    }
    return this.gemm;
  }

  /**
   * The compute pipeline of a generated kernel (the tape runner's), compiled once per context under
   * `key`, which must determine `wgsl` (the text itself will do). Its first line names it in errors.
   */
  pipelineFor(key: string, wgsl: string): Promise<GPUComputePipeline> {
    const k = key;
    let p = this.pipelines.get(k);
    if (!p) {
      const first = wgsl
        .trimStart()
        .split('\n', 1)[0]
        .replace(/^\/\/\s*/, '');
      p = this.compile(first.length > 100 ? `${first.slice(0, 97)}...` : first, wgsl);
      this.pipelines.set(k, p);
      p.catch(() => this.pipelines.delete(k));
    }
    return p;
  }

  private async compile(label: string, code: string): Promise<GPUComputePipeline> {
    this.checkAlive();
    const module = this.device.createShaderModule({ label, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length) {
      const m = errors[0];
      throw new WebGpuError(`the WebGPU kernel '${label}' did not compile: ${m.message} (line ${m.lineNum})`);
    }
    try {
      return await this.device.createComputePipelineAsync({
        label,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
    } catch (e) {
      throw new WebGpuError(`the WebGPU kernel '${label}' could not be built: ${errText(e)}`);
    }
  }

  checkAlive(): void {
    if (this.destroyed) throw new WebGpuError('the WebGPU device has been released');
    if (this.lostReason !== undefined)
      throw new WebGpuError(`the WebGPU device was lost (${this.lostReason})`);
  }

  get isDestroyed(): boolean {
    return this.destroyed;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
