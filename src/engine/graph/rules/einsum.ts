/**
 * torch.einsum: any equation, implicit or explicit output, `...` with broadcasting, repeated letters
 * within an operand (diagonals, taken as strided views), any number of operands (contracted left to
 * right), real and complex.
 *
 * Each pairwise product is a few large (complex) GEMMs over the operands' own strides
 * (kernels/contract.ts). The JVP adds a letter for the tangent's P axis ("Zbix,iox->Zbox") and keeps
 * boxes letter by letter: a tangent boxed along a letter it shares with another operand cuts that
 * operand to the box, so the spectral mix of a DC-only spectrum is one small product with the
 * weights' first mode, and a box along an output letter stays a box of the result.
 */
import { ShapeError } from '../../errors';
import { UnsupportedError } from '../args';
import { contract, type ContractOptions, type Operand } from '../kernels/contract';
import { raw } from '../kernels/layout';
import { P_LABEL, productJvp } from '../kernels/tangents';
import type { RuleTable, TanOf } from '../rule';
import type { Tan } from '../tangent';
import { GTensor, scalarTensor } from '../tensor';

/** Labels: letters A–Z → 0–25, a–z → 26–51 (torch's order); `...` dims → 1000 + position from the right. */
const ELL = 1000;

function letterId(c: string, eq: string): number {
  const code = c.charCodeAt(0);
  if (code >= 65 && code <= 90) return code - 65;
  if (code >= 97 && code <= 122) return code - 97 + 26;
  throw new ShapeError(`einsum: invalid character '${c}' in the equation "${eq}"`);
}

interface Term {
  letters: number[];
  /** index in `letters` where `...` stands, or -1 */
  ell: number;
}

function parseTerm(s: string, eq: string): Term {
  const letters: number[] = [];
  let ell = -1;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ' ') continue;
    if (s[i] === '.') {
      if (ell >= 0 || s.slice(i, i + 3) !== '...') throw new ShapeError(`einsum: invalid '.' in "${eq}"`);
      ell = letters.length;
      i += 2;
      continue;
    }
    letters.push(letterId(s[i], eq));
  }
  return { letters, ell };
}

export interface ParsedEinsum {
  /** labels per operand axis */
  inputs: number[][];
  out: number[];
}

/** Labels for each operand axis and for the output. */
export function parseEinsum(eq: string, ranks: readonly number[]): ParsedEinsum {
  const arrow = eq.indexOf('->');
  const lhs = arrow >= 0 ? eq.slice(0, arrow) : eq;
  const terms = lhs.split(',').map((s) => parseTerm(s, eq));
  if (terms.length !== ranks.length)
    throw new ShapeError(
      `einsum: the equation "${eq}" has ${terms.length} operands, ${ranks.length} tensors given`,
    );
  let ellRank = 0;
  const inputs = terms.map((t, i) => {
    const r = ranks[i];
    if (t.ell < 0) {
      if (t.letters.length !== r)
        throw new ShapeError(
          `einsum: operand ${i} has ${r} dimensions but "${eq}" gives it ${t.letters.length}`,
        );
      return [...t.letters];
    }
    const e = r - t.letters.length;
    if (e < 0) throw new ShapeError(`einsum: operand ${i} has fewer dimensions than "${eq}" needs`);
    ellRank = Math.max(ellRank, e);
    const ellLabels = Array.from({ length: e }, (_, j) => ELL + (e - 1 - j));
    return [...t.letters.slice(0, t.ell), ...ellLabels, ...t.letters.slice(t.ell)];
  });
  const ellOut = Array.from({ length: ellRank }, (_, j) => ELL + (ellRank - 1 - j));
  let out: number[];
  if (arrow >= 0) {
    const t = parseTerm(eq.slice(arrow + 2), eq);
    if (new Set(t.letters).size !== t.letters.length)
      throw new ShapeError(`einsum: an output letter appears more than once in "${eq}"`);
    const seen = new Set(inputs.flat());
    for (const l of t.letters)
      if (!seen.has(l)) throw new ShapeError(`einsum: an output letter of "${eq}" is in no operand`);
    out = t.ell < 0 ? [...t.letters] : [...t.letters.slice(0, t.ell), ...ellOut, ...t.letters.slice(t.ell)];
  } else {
    const count = new Map<number, number>();
    for (const t of terms) for (const l of t.letters) count.set(l, (count.get(l) ?? 0) + 1);
    const once = [...count.entries()]
      .filter(([, c]) => c === 1)
      .map(([l]) => l)
      .sort((a, b) => a - b);
    out = [...ellOut, ...once];
  }
  return { inputs, out };
}

/**
 * Repeated labels of one operand merged into a diagonal (a strided view: the strides add up). The
 * diagonal is as long as the shortest of the axes (a tangent's box may cut one of them).
 */
function diagonal(t: GTensor, labels: readonly number[], strict: boolean): Operand {
  if (new Set(labels).size === labels.length) return { t, labels };
  const ls: number[] = [];
  const shape: number[] = [];
  const strides: number[] = [];
  labels.forEach((l, i) => {
    const k = ls.indexOf(l);
    if (k < 0) {
      ls.push(l);
      shape.push(t.shape[i]);
      strides.push(t.strides[i]);
      return;
    }
    if (strict && shape[k] !== t.shape[i])
      throw new ShapeError(`einsum: a repeated index has sizes ${shape[k]} and ${t.shape[i]}`);
    shape[k] = Math.min(shape[k], t.shape[i]);
    strides[k] += t.strides[i];
  });
  return { t: raw(t, shape, strides, t.offset), labels: ls };
}

/** Contract operands left to right; intermediates keep the labels still needed. */
export function contractAll(ops: Operand[], outLabels: number[], opts: ContractOptions = {}): GTensor {
  if (ops.length === 1) {
    // reduce / permute: a product with the scalar 1
    return contract(ops[0], { t: scalarTensor(1), labels: [] }, outLabels, opts);
  }
  let cur = ops[0];
  for (let i = 1; i < ops.length; i++) {
    const last = i === ops.length - 1;
    let labels: number[];
    if (last) labels = outLabels;
    else {
      const later = new Set([...outLabels, ...ops.slice(i + 1).flatMap((o) => o.labels)]);
      labels = [...new Set([...cur.labels, ...ops[i].labels])].filter((l) => later.has(l));
    }
    const t = contract(cur, ops[i], labels, last ? opts : { compact: opts.compact });
    cur = { t, labels };
  }
  return cur.t;
}

export const einsumRules = {
  'aten::einsum': {
    params: ['equation', 'tensors', 'path='],
    forward(a) {
      const tensors = a.tensors('tensors');
      if (tensors.length === 0) throw new ShapeError(`${a.op}: at least one operand is needed`);
      const parsed = parseEinsum(
        a.string('equation'),
        tensors.map((t) => t.rank),
      );
      return contractAll(
        tensors.map((t, i) => diagonal(t, parsed.inputs[i], true)),
        parsed.out,
      );
    },
    jvp(a, out, t: TanOf): Tan {
      const tensors = a.tensors('tensors');
      const parsed = parseEinsum(
        a.string('equation'),
        tensors.map((x) => x.rank),
      );
      const ops: Operand[] = [];
      const tans: Tan[] = [];
      tensors.forEach((x, i) => {
        const op = diagonal(x, parsed.inputs[i], true);
        ops.push(op);
        const tx = t(x);
        if (!tx) {
          tans.push(null);
          return;
        }
        // the tangent's data through the same diagonal (P axis first)
        const d = diagonal(tx.data, [P_LABEL, ...parsed.inputs[i]], false);
        if (d.labels.length !== op.labels.length + 1)
          throw new UnsupportedError('einsum: a diagonal over the P axis');
        tans.push({ data: d.t, full: op.t.shape });
      });
      return productJvp(ops, tans, parsed.out, (out as GTensor).shape, (o, l, opts) =>
        contractAll(o, l, opts),
      );
    },
  },
} satisfies RuleTable;
