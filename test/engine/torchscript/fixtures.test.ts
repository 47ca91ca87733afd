/**
 * The graph fixtures (test/fixtures/graph/<case>/model.pt, PyTorch 1.13 traced and scripted models):
 * read, classified, described, and run through the interpreter on the fake host against PyTorch's
 * float64 outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe as suite, expect, it } from 'vitest';
import { readNpy } from '../../../src/engine/io/npy';
import { Interpreter, describe, readTorchScript } from '../../../src/engine/torchscript';
import { FT, fakeHost, make, values } from './fake-host';
import { GRAPH_FIXTURES, fixtureBytes } from './helpers';

const root = fileURLToPath(GRAPH_FIXTURES);
const cases = existsSync(root)
  ? readdirSync(root).filter(
      (d) => existsSync(`${root}/${d}/model.pt`) && existsSync(`${root}/${d}/meta.json`),
    )
  : [];
/**
 * Too slow for the fake host's naive DFTs: parsed and described here; its forward (and J) runs on
 * the real graph engine in test/engine/models/graph-fixtures.test.ts.
 */
const SLOW = new Set(['seed-fno1d-traced']);

interface Meta {
  kind: string;
  signature: { name: string }[];
  output_index: number | null;
  ops: Record<string, number>;
  ops_prim_calls?: Record<string, number>;
}

suite('graph fixtures', () => {
  it('has the committed cases', () => expect(cases.length).toBeGreaterThanOrEqual(10));
  for (const name of cases) {
    const url = (f: string): URL => new URL(`${name}/${f}`, GRAPH_FIXTURES);
    const meta: Meta = JSON.parse(readFileSync(url('meta.json'), 'utf8'));

    it(`${name}: read, classified ${meta.kind} and described`, () => {
      const archive = readTorchScript(fixtureBytes(url('model.pt')), `${name}/model.pt`);
      expect(archive.kind, archive.kindReason).toBe(meta.kind);
      const d = describe(archive);
      expect(d.forward?.params.map((p) => p.name)).toEqual(meta.signature.map((s) => s.name));
      expect(d.forward?.params.every((p) => p.type === 'Tensor')).toBe(true);
      expect(d.parameters.tensors).toBeGreaterThanOrEqual(0);
      for (const { op } of d.ops) {
        const [ns, bare] = op.split('::');
        const known = ns === 'prim' ? (meta.ops_prim_calls ?? {}) : meta.ops;
        expect(Object.keys(known), `${op} is in the code`).toContain(bare);
      }
    });

    if (SLOW.has(name)) continue;
    it(`${name}: forward matches PyTorch's float64 output`, () => {
      const archive = readTorchScript(fixtureBytes(url('model.pt')), `${name}/model.pt`);
      const args = meta.signature.map((s) => {
        const t = readNpy(fixtureBytes(url(`${s.name}.npy`)), `${s.name}.npy`);
        return make(t.shape, t.data);
      });
      let y = new Interpreter(archive, fakeHost()).forward(args);
      if (meta.output_index !== null) y = (y as FT[])[meta.output_index];
      const ref = readNpy(fixtureBytes(url('y_f64.npy')), 'y_f64.npy');
      expect((y as FT).shape).toEqual(ref.shape);
      const got = values(y as FT).re;
      const scale = Math.max(...ref.data.map(Math.abs));
      const err = Math.max(...ref.data.map((r, i) => Math.abs(r - got[i])));
      expect(err / scale).toBeLessThan(1e-9);
    });
  }
});
