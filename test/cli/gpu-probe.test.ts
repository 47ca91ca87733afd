import { describe, expect, it, vi } from 'vitest';
import { findGpu, vulkanDrivers, type DriverFs } from '../../src/cli/webgpu-node';

// The GPU probe that keeps Dawn's native warnings off the CLI's stderr, on made-up machines.

/** A machine with these files (path → content) and folders. */
function machine(files: Record<string, string>): DriverFs {
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) {
    const parts = f.split('/');
    for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  return {
    readdir: (d) =>
      Object.keys(files)
        .filter((f) => f.startsWith(d + '/') && !f.slice(d.length + 1).includes('/'))
        .map((f) => f.slice(d.length + 1)),
    readFile: (p) => {
      if (!(p in files)) throw new Error('ENOENT');
      return files[p];
    },
    isDir: (p) => dirs.has(p),
    exists: (p) => p in files || dirs.has(p),
  };
}

const icd = (lib: string) => JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: lib } });
const LVP = { '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json': icd('/usr/lib/libvulkan_lvp.so') };
const RADEON = { '/usr/share/vulkan/icd.d/radeon_icd.x86_64.json': icd('libvulkan_radeon.so') };
const NVIDIA = { '/usr/share/vulkan/icd.d/nvidia_icd.json': icd('libGLX_nvidia.so.0') };
const env = () => ({ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1' }) as NodeJS.ProcessEnv;
const probeSays = (stdout: string, stderr = '') =>
  vi.fn((_env: NodeJS.ProcessEnv) => ({ status: 0, stdout, stderr }));
const adapter = (description: string, vendor = 'nvidia') =>
  JSON.stringify({ info: { vendor, architecture: '', device: '', description, isFallbackAdapter: false } });

describe('vulkanDrivers', () => {
  it('finds manifests in the loader folders and tells hardware from software drivers', async () => {
    const d = vulkanDrivers(env(), machine({ ...LVP, ...RADEON, '/dev/dri/renderD128': '' }));
    expect(d.manifests).toHaveLength(2);
    expect(d.hardware).toEqual(['/usr/share/vulkan/icd.d/radeon_icd.x86_64.json']);
    expect(d.deviceNode).toBe(true);
  });

  it('reads only VK_ICD_FILENAMES when it is set', async () => {
    const e = { ...env(), VK_ICD_FILENAMES: '/opt/sw/vk_swiftshader_icd.json' };
    const d = vulkanDrivers(
      e,
      machine({ ...NVIDIA, '/opt/sw/vk_swiftshader_icd.json': icd('./libvk_swiftshader.so') }),
    );
    expect(d.manifests).toEqual(['/opt/sw/vk_swiftshader_icd.json']);
    expect(d.hardware).toEqual([]);
  });
});

describe('findGpu', () => {
  it('auto without any driver: the CPU, without starting Dawn anywhere', async () => {
    const probe = probeSays('');
    const r = await findGpu('auto', env(), 'linux', probe, machine({}));
    expect(r).toMatchObject({ use: false, reason: expect.stringMatching(/no Vulkan driver/) });
    expect(probe).not.toHaveBeenCalled();
  });

  it('auto with software drivers only, or hardware drivers but no GPU device: no probe', async () => {
    const probe = probeSays('');
    expect((await findGpu('auto', env(), 'linux', probe, machine(LVP))).reason).toMatch(/software/);
    expect((await findGpu('auto', env(), 'linux', probe, machine({ ...RADEON, ...LVP }))).reason).toMatch(
      /no GPU device/,
    );
    expect(probe).not.toHaveBeenCalled();
  });

  it('auto with a GPU: probes in a child with only the hardware drivers, and uses what it finds', async () => {
    const probe = probeSays(adapter('NVIDIA H100'), 'Warning: something about lavapipe\n');
    const e = env();
    const r = await findGpu('auto', e, 'linux', probe, machine({ ...NVIDIA, ...LVP, '/dev/nvidiactl': '' }));
    expect(r.use).toBe(true);
    expect(r.adapter?.description).toBe('NVIDIA H100');
    expect(probe).toHaveBeenCalledTimes(1);
    expect(e.VK_ICD_FILENAMES).toBe('/usr/share/vulkan/icd.d/nvidia_icd.json');
  });

  it('auto passes over a software adapter with a note; webgpu takes it', async () => {
    const sw = probeSays(adapter('SwiftShader Device (Subzero)', 'google'));
    const e = { ...env(), VK_ICD_FILENAMES: '/opt/vk_nvidia.json' };
    const m = machine({ '/opt/vk_nvidia.json': icd('libGLX_nvidia.so.0'), '/dev/nvidia0': '' });
    const auto = await findGpu('auto', e, 'linux', sw, m);
    expect(auto).toMatchObject({ use: false, note: expect.stringMatching(/software renderer/) });
    expect((await findGpu('webgpu', e, 'linux', sw, m)).use).toBe(true);
  });

  it("says why when Dawn offers no adapter or the probe fails, in one line from Dawn's words", async () => {
    const m = machine({ ...NVIDIA, '/dev/nvidiactl': '' });
    const none = await findGpu(
      'webgpu',
      env(),
      'linux',
      probeSays('{"info":null}', 'Warning: vkCreateInstance: Found no drivers!\n - While …\n'),
      m,
    );
    expect(none).toEqual({
      use: false,
      reason: 'Dawn offers no adapter (vkCreateInstance: Found no drivers!)',
    });
    const crashed = await findGpu(
      'webgpu',
      env(),
      'linux',
      () => ({ status: null, stdout: '', stderr: '' }),
      m,
    );
    expect(crashed.reason).toMatch(/could not be asked for an adapter: it did not finish/);
  });

  it('elsewhere than Linux (Metal, D3D12) the child probe decides', async () => {
    const probe = probeSays(adapter('Apple M2', 'apple'));
    expect((await findGpu('auto', env(), 'darwin', probe, machine({}))).use).toBe(true);
    expect(probe).toHaveBeenCalledTimes(1);
  });

  it('gives the Vulkan loader a private XDG_RUNTIME_DIR when there is none', async () => {
    const e = { HOME: '/home/u' } as NodeJS.ProcessEnv;
    await findGpu('webgpu', e, 'linux', probeSays('{"info":null}'), machine(NVIDIA));
    expect(e.XDG_RUNTIME_DIR).toMatch(/jacscope-xdg-/);
  });
});
