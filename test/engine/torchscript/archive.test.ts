/** Reading TorchScript archives: layouts, the module tree, constants, code, describe(). */
import { readFileSync } from 'node:fs';
import { describe as suite, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { readZip } from '../../../src/engine/io/zip';
import {
  PyFloat,
  TsObject,
  describe,
  formatDescription,
  isHostTensor,
  readTorchScript,
} from '../../../src/engine/torchscript';
import { Interpreter } from '../../../src/engine/torchscript';
import { fakeHost } from './fake-host';
import { buildZip, caseBytes, decode, expectClose, expectedRuns } from './helpers';

const IO_CASES = new URL('../io/cases/', import.meta.url);

/** The case's entries under a new top folder, plus extra entries (a torch 2.x layout, say). */
function relayout(bytes: Uint8Array, top: string, extra: Record<string, string> = {}): Uint8Array {
  const entries: Record<string, Uint8Array | string> = {};
  for (const e of readZip(bytes, 'x')) entries[`${top}/${e.name.split('/').slice(1).join('/')}`] = e.read();
  for (const [k, v] of Object.entries(extra)) entries[`${top}/${k}`] = v;
  return buildZip(entries);
}

suite('readTorchScript', () => {
  it('reads the module tree with tensors, plain attributes and sub-modules', () => {
    const a = readTorchScript(caseBytes('layers-scripted'), 'layers.pt');
    expect(a.root.type).toBe('__torch__.Layers');
    expect(a.version).toMatch(/^\d+$/);
    const attrs = a.root.attrs;
    expect(attrs.get('dims')).toEqual([1, 2, 3]);
    expect(attrs.get('table')).toEqual(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    expect(attrs.get('pair')).toEqual([new PyFloat(1), 2]);
    expect(Object.isFrozen(attrs.get('pair'))).toBe(true);
    expect(attrs.get('one')).toEqual(new PyFloat(1));
    expect(attrs.get('name')).toBe('x"y\n');
    const blocks = attrs.get('blocks') as TsObject;
    expect(blocks).toBeInstanceOf(TsObject);
    expect([...blocks.attrs.keys()]).toEqual(['training', '_is_full_backward_hook', '0', '1', '2']);
    const lin = (blocks.attrs.get('1') as TsObject).attrs.get('lin') as TsObject;
    const w = lin.attrs.get('weight');
    expect(isHostTensor(w)).toBe(true);
    expect(w).toMatchObject({ dtype: 'float32', shape: [4, 4] });
    expect((blocks.attrs.get('1') as TsObject).attrs.get('act')).toBe('relu');
  });

  it('reads complex parameters and the constants of traced code', () => {
    const a = readTorchScript(caseBytes('fno-traced'), 'fno.pt');
    const spec0 = (a.root.attrs.get('spec') as TsObject).attrs.get('0') as TsObject;
    const w = spec0.attrs.get('w');
    expect(w).toMatchObject({ dtype: 'complex64', shape: [4, 4, 3] });
    expect(isHostTensor(w) && w.imag?.length).toBe(48);
    expect(a.constants.length).toBeGreaterThan(0);
    expect(a.constants.every(isHostTensor)).toBe(true);
    expect([...a.classes.keys()]).toContain('__torch__.Spectral');
    expect(a.code.map((c) => c.path)).toContain('code/__torch__.py');
  });

  it('accepts any top folder name and the files of newer PyTorch versions', () => {
    const bytes = relayout(caseBytes('control-scripted'), 'archive', {
      byteorder: 'little',
      '.data/serialization_id': '1234',
      '.data/version': '3',
      'extra/notes.txt': 'hi',
    });
    const a = readTorchScript(bytes, 'model.pt');
    const run = expectedRuns('control-scripted')[0];
    expectClose(new Interpreter(a, fakeHost()).forward(run.inputs.map(decode)), run.output);
  });

  it('reads the TorchScript archive of the io tests and refuses a plain checkpoint', () => {
    const ts = new Uint8Array(readFileSync(new URL('torchscript.pt', IO_CASES)));
    const a = readTorchScript(ts, 'torchscript.pt');
    expect(a.root.type.startsWith('__torch__.')).toBe(true);
    expect(describe(a).forward).not.toBeNull();
    const sd = new Uint8Array(readFileSync(new URL('state-dict.pt', IO_CASES)));
    expect(() => readTorchScript(sd, 'state-dict.pt')).toThrow(LoadError);
    expect(() => readTorchScript(sd, 'state-dict.pt')).toThrow(/^state-dict\.pt: not a TorchScript archive/);
  });
});

suite('describe', () => {
  it('gives kind, forward signature, ops and parameter counts', () => {
    const d = describe(readTorchScript(caseBytes('fno-scripted'), 'fno.pt'));
    expect(d.kind).toBe('scripted');
    expect(d.rootType).toBe('FNO');
    expect(d.forward).toEqual({ params: [{ name: 'x', type: 'Tensor' }], returns: 'Tensor' });
    // lift 3*4+4, two spectral 4*4*3 complex, two convs 4*4+4, proj 4*8+8 + 8*1+1
    expect(d.parameters).toEqual({ tensors: 12, real: 16 + 2 * 20 + 40 + 9, complex: 96 });
    expect(d.modules).toBe(12);
    const ops = Object.fromEntries(d.ops.map((o) => [o.op, o.count]));
    expect(ops).toMatchObject({
      'aten::fft_rfft': 1,
      'aten::fft_irfft': 1,
      'aten::einsum': 1,
      'aten::copy_': 1,
    });
    expect(ops['aten::linear']).toBe(3);
    expect(ops['aten::size']).toBeUndefined();
  });

  it('shows optional arguments, named tuple results and buffers', () => {
    const d = describe(readTorchScript(caseBytes('control-scripted'), 'control.pt'));
    expect(d.forward).toEqual({
      params: [
        { name: 'x', type: 'Tensor' },
        { name: 'p', type: 'Optional[Tensor]', default: 'None' },
      ],
      returns: '__torch__.Out',
    });
    expect(d.buffers).toEqual({ tensors: 1, real: 6, complex: 0 });
    const lines = formatDescription(d);
    expect(lines[0]).toMatch(/^TorchScript module Control \(scripted: the code has /);
    expect(lines[1]).toBe('forward(x: Tensor, p: Optional[Tensor] = None) -> __torch__.Out');
    expect(lines[2]).toMatch(
      /^parameters: 96 in 6 tensors \(96 real, 0 complex\); buffers: 6 in 1; \d+ modules$/,
    );
    expect(lines[3]).toMatch(/^ops: .*aten::layer_norm/);
  });

  it('says traced for traced code', () => {
    const a = readTorchScript(caseBytes('fno-traced'), 'fno.pt');
    expect(a.kind).toBe('traced');
    expect(a.kindReason).toMatch(/NumToTensor|pin_memory|9223372036854775807/);
  });
});
