/**
 * The committed archives (make-cases.py) run through the interpreter on a small fake tensor host and
 * compared with PyTorch's outputs: traced and scripted FNOs (rfft, slice assignment into zeros,
 * einsum with complex weights, irfft), control flow, module lists, free functions.
 */
import { describe as suite, expect, it } from 'vitest';
import { Interpreter, readTorchScript } from '../../../src/engine/torchscript';
import { fakeHost } from './fake-host';
import { caseBytes, decode, expectClose, expectedRuns } from './helpers';

const CASES = ['fno-traced', 'fno-scripted', 'control-scripted', 'layers-scripted', 'functional-scripted'];

suite('committed TorchScript cases', () => {
  for (const name of CASES) {
    it(`${name} runs and matches PyTorch`, () => {
      const archive = readTorchScript(caseBytes(name), `${name}.pt`);
      expect(archive.kind).toBe(name.endsWith('traced') ? 'traced' : 'scripted');
      const log: string[] = [];
      const it = new Interpreter(archive, fakeHost(log));
      for (const run of expectedRuns(name)) {
        const out = it.forward(run.inputs.map(decode));
        expectClose(out, run.output, 1e-5);
      }
      expect(log.length).toBeGreaterThan(0);
    });
  }

  it('the traced FNO writes the spectral product into a slice of zeros through copy_', () => {
    const archive = readTorchScript(caseBytes('fno-traced'), 'fno-traced.pt');
    const log: string[] = [];
    new Interpreter(archive, fakeHost(log)).forward(expectedRuns('fno-traced')[0].inputs.map(decode));
    const order = ['aten::fft_rfft', 'aten::zeros', 'aten::einsum', 'aten::copy_', 'aten::fft_irfft'];
    const at = order.map((op) => log.indexOf(op));
    expect(at.every((k) => k >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    // int(N) of a NumToTensor size goes to the host as aten::Int (traced code).
    expect(log).toContain('aten::Int');
  });
});
