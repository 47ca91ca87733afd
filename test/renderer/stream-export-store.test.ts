// A streamed export of the whole J end to end, without Electron: the store's side (store/stream-export.ts)
// over the desktop host (host/electron-host.ts) whose API calls main's real IPC handlers (src/main/ipc.ts,
// save-stream.ts) on a temporary folder, and a fake engine link that runs the worker's StreamExports on a
// sample-mode session of the deep PyTorch fixture. The file main leaves is read back with readNpy.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { readNpy } from '../../src/engine';
import { ChosenPaths } from '../../src/main/chosen';
import { createHandlers } from '../../src/main/ipc';
import { RecentFiles } from '../../src/main/recent';
import { StreamedSaves } from '../../src/main/save-stream';
import { CHANNELS } from '../../src/preload/contract';
import type { JacscopeApi } from '../../src/preload/contract';
import type { EngineClient } from '../../src/renderer/engine-client';
import { createElectronHost } from '../../src/renderer/host/electron-host';
import { useStore } from '../../src/renderer/store';
import { connect } from '../../src/renderer/store/engine-link';
import {
  cancelStreamExport,
  exportWholeJStreamed,
  streamExportMessage,
  streamsWholeJ,
} from '../../src/renderer/store/stream-export';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import type { FromWorker } from '../../src/renderer/worker/protocol';
import { Session } from '../../src/renderer/worker/session';
import { StreamExports } from '../../src/renderer/worker/stream-export-handler';

const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const file = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(resolve(deep, name))) });
const dir = mkdtempSync(join(tmpdir(), 'jacscope-stream-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saves = new StreamedSaves({ maxTotalBytes: 1e9 });
const handlers = createHandlers({
  showOpenDialog: async () => null,
  showSaveDialog: async (name) => join(dir, name),
  recent: new RecentFiles(join(dir, 'recent.json')),
  chosen: new ChosenPaths(),
  saves,
});
/** The preload's API as main answers it for window 1. */
const ipc = (channel: string, ...args: unknown[]) =>
  handlers[channel as keyof typeof handlers].fromSender!(1, ...args);
const api = {
  version: 1,
  saveBegin: (r: unknown) => ipc(CHANNELS.saveBegin, r),
  saveAppend: (t: string, b: Uint8Array) => ipc(CHANNELS.saveAppend, t, b),
  saveCommit: (t: string) => ipc(CHANNELS.saveCommit, t),
  saveAbort: (t: string) => ipc(CHANNELS.saveAbort, t),
} as unknown as JacscopeApi;

const session = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 1000 });
let onPart: (m: Extract<FromWorker, { type: 'export-part' }>) => void = () => {};
const worker = new StreamExports(
  session,
  (m) =>
    setTimeout(() => {
      if (m.type === 'export-part') onPart(m);
      streamExportMessage(m);
    }, 0),
  () => () => {},
  (e) => (e instanceof Error ? e.message : String(e)),
);
const engine: EngineClient = { send: (m) => void setTimeout(() => worker.handle(m), 0) };
connect(engine, createElectronHost(api));

const listing = () => readdirSync(dir).filter((f) => f !== 'recent.json');

beforeEach(async () => {
  for (const f of listing()) rmSync(join(dir, f));
  onPart = () => {};
  useStore.setState({ job: null, lastExport: null });
  if (!session.result) {
    const o = await session.load(['model.pt', 'config.json', 'x4.npy', 'p4.npy'].map(file));
    if (o.kind !== 'computed') throw new Error(JSON.stringify(o.messages));
  }
});

describe('the whole J exported in parts (desktop app)', () => {
  it('lands in the chosen file as PyTorch J, and the job bar follows it', async () => {
    expect(streamsWholeJ()).toBe(true);
    const r = session.result!;
    expect(r.sample).not.toBeNull();
    const jobs: string[] = [];
    onPart = () => jobs.push(useStore.getState().job?.phase ?? 'none');
    await exportWholeJStreamed('full-npy', r.meta.seq, r.meta.B);
    expect(jobs.length).toBeGreaterThan(0);
    expect(jobs.every((p) => p === 'exporting')).toBe(true);
    expect(useStore.getState().job).toBeNull();
    expect(useStore.getState().lastExport).toBe(`saved ${join(dir, 'J.npy')}`);
    expect(listing()).toEqual(['J.npy']);
    const back = readNpy(new Uint8Array(readFileSync(join(dir, 'J.npy'))), 'J.npy');
    const want = readNpy(file('jacobian4_f64.npy').bytes, 'jacobian4_f64.npy');
    expect(back.shape).toEqual(want.shape);
    let e = 0;
    let m = 0;
    for (let i = 0; i < want.data.length; i++) {
      e = Math.max(e, Math.abs(back.data[i] - want.data[i]));
      m = Math.max(m, Math.abs(want.data[i]));
    }
    expect(e / m).toBeLessThan(1e-10);
  });

  it('cancel from the job bar: no file, not even a temporary one', async () => {
    const r = session.result!;
    onPart = () => {
      const job = useStore.getState().job;
      if (job) cancelStreamExport(job.id);
    };
    await exportWholeJStreamed('full-csv', r.meta.seq, r.meta.B);
    expect(useStore.getState().lastExport).toBe('export cancelled: nothing was saved');
    expect(useStore.getState().job).toBeNull();
    expect(listing()).toEqual([]);
    expect(saves.openCount).toBe(0);
  });

  it("a write main refuses fails the export with main's reason, and leaves nothing", async () => {
    const r = session.result!;
    // Main drops the save (as when its window closes) while the export runs; the removal of the
    // temporary file is main's own async work, finished here before looking.
    let aborting: Promise<void> | undefined;
    onPart = () => void (aborting = saves.abortAll());
    await expect(exportWholeJStreamed('full-npy', r.meta.seq, r.meta.B)).rejects.toThrow(
      /unknown save token/,
    );
    await aborting;
    expect(listing()).toEqual([]);
    expect(useStore.getState().job).toBeNull();
  });

  it('refuses to start while another job runs', async () => {
    useStore.setState({
      job: { id: 99, label: 'x', phase: 'computing', startedAt: 0, done: 0, total: 1, cancelling: false },
    });
    await expect(exportWholeJStreamed('full-npy', session.result!.meta.seq, 4)).rejects.toThrow(
      /another job is running/,
    );
    expect(listing()).toEqual([]);
  });
});
