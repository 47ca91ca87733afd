import type { Act, Primitive } from '../ad/primitive';
import { unreachable, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';

/** out += const tangent [B,P,C] broadcast over time into a dense [B,T,P,C]. */
function addConstInto(out: Float64Array, c: Float64Array, B: number, T: number, PC: number): void {
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const o = (b * T + t) * PC;
      const s = b * PC;
      for (let j = 0; j < PC; j++) out[o + j] += c[s + j];
    }
  }
}

function sum(a: Float64Array, b: Float64Array, alloc: Alloc): Float64Array {
  const out = alloc(a.length, false);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

/** Elementwise a + b of two [B,T,C] tensors (the spectral and the 1×1-conv paths of a layer). */
export function add(
  alloc: Alloc = freshAlloc,
): Primitive<[Act, Act], Act, [TimeTangent, TimeTangent], TimeTangent> {
  return {
    name: 'add',
    forward([a, b]) {
      if (a.data.length !== b.data.length) throw new Error('add: shapes differ');
      return { B: a.B, T: a.T, C: a.C, data: sum(a.data, b.data, alloc) };
    },
    jvp([a], _y, [da, db], P) {
      if (da.kind === 'zero') return db;
      if (db.kind === 'zero') return da;
      if (da.kind === 'const' && db.kind === 'const')
        return { kind: 'const', data: sum(da.data, db.data, alloc) };
      if (da.kind === 'dense' && db.kind === 'dense')
        return { kind: 'dense', data: sum(da.data, db.data, alloc) };
      const [d, c] = da.kind === 'dense' ? [da, db] : [db, da];
      if (d.kind !== 'dense' || c.kind !== 'const') return unreachable(d as never);
      const out = alloc(d.data.length, false);
      out.set(d.data);
      addConstInto(out, c.data, a.B, a.T, P * a.C);
      return { kind: 'dense', data: out };
    },
  };
}
