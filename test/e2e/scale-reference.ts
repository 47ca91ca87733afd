// The Node-side reference for scale.e2e.mjs, run with tsx: the engine's GraphModel on the same generated data,
// J of one sample, and ν = mean over samples of J² by a direct float64 loop over every sample's J (no streaming
// accumulator). Prints JSON.
//   tsx test/e2e/scale-reference.ts MODEL.pt X.npy P.npy SAMPLE
import { readFileSync } from 'node:fs';
import { GraphModel, openModel, readNpy } from '../../src/engine';
import { RULES } from '../../src/engine/graph/table';
import { graphHost } from '../../src/engine/torchscript/graph-host';

const [modelPath, xPath, pPath, sampleArg] = process.argv.slice(2);
const m = openModel(new Uint8Array(readFileSync(modelPath)), 'model.pt');
if (m.kind !== 'torchscript') throw new Error('expected a TorchScript archive');
const g = new GraphModel(m.program, graphHost, RULES);
const x = readNpy(new Uint8Array(readFileSync(xPath)), 'x.npy');
const p = readNpy(new Uint8Array(readFileSync(pPath)), 'p.npy');
const [B, P] = p.shape;
const inputs = new Map([
  ['x', { shape: x.shape, data: x.data }],
  ['p', { shape: p.shape, data: p.data }],
]);
const r = g.evaluate(inputs, { wrt: 'p' });
const J = r.J!;
const per = J.length / B;
const b = Number(sampleArg);
const nu = new Array<number>(per).fill(0);
for (let s = 0; s < B; s++) for (let i = 0; i < per; i++) nu[i] += (J[s * per + i] * J[s * per + i]) / B;
process.stdout.write(
  JSON.stringify({ yShape: r.yShape, P, Jb: Array.from(J.subarray(b * per, (b + 1) * per)), nu }),
);
