/**
 * DFTs along one axis of a strided tensor: rfft, fft, ifft and the C2R irfft, any length n, each
 * as a basis matrix times the data (kernels/contract.ts: a few GEMMs, no copies where the layout
 * allows) or, when most of a long spectrum is wanted, as an FFT per line (fft.js, Bluestein for
 * lengths that are not powers of two).
 *
 * Only the output entries asked for are computed: `rows` < the full count gives a leading block
 * (the kept modes of an rfft cost a truncated DFT), and an input shorter than n along the axis is
 * read as zero-padded (an irfft from the first `modes` bins costs T·modes per line).
 *
 * Bases hold the exact cos/sin tables of dft/twiddle.ts with the normalisation folded in, and are
 * cached per (transform, n, norm, rows, cols, layout).
 */
import { ShapeError } from '../../errors';
import { complexDft, type ComplexDft } from '../../dft/complex-dft';
import { cosTurn, sinTurn } from '../../dft/twiddle';
import { physicalOrder } from '../strided';
import { GTensor, sizeOf } from '../tensor';
import { contract } from './contract';
import { activeRecorder } from '../lower/record';
import { expandTo, leadAlong, materialize, raw, zerosInOrder } from './layout';

export type DftKind = 'rfft' | 'fft' | 'ifft' | 'irfft';
export type Norm = 'backward' | 'forward' | 'ortho';

export interface DftSpec {
  readonly kind: DftKind;
  /** Signal length (the input length of rfft/fft/ifft, the output length of irfft). */
  readonly n: number;
  readonly norm: Norm;
}

/** How many entries the transform produces along the axis. */
export function dftOutLength(s: DftSpec): number {
  return s.kind === 'rfft' ? Math.floor(s.n / 2) + 1 : s.n;
}

/** How many input entries along the axis the transform reads (the rest count as zero). */
export function dftInLength(s: DftSpec): number {
  return s.kind === 'irfft' ? Math.floor(s.n / 2) + 1 : s.n;
}

export function parseNorm(v: string | null, op: string): Norm {
  if (v === null || v === 'backward') return 'backward';
  if (v === 'forward' || v === 'ortho') return v;
  throw new ShapeError(`${op}: invalid normalization mode "${v}"`);
}

/** The factor every basis entry carries. */
export function dftScale(s: DftSpec): number {
  const inverse = s.kind === 'ifft' || s.kind === 'irfft';
  if (s.norm === 'ortho') return 1 / Math.sqrt(s.n);
  if (s.norm === 'forward') return inverse ? 1 : 1 / s.n;
  return inverse ? 1 / s.n : 1;
}

// ---------------------------------------------------------------- bases

interface Basis {
  re: Float64Array;
  im: Float64Array;
  negIm: Float64Array | null;
  /** [rows, cols] with these strides (row-major: [cols, 1]; transposed: [1, rows]). */
  strides: [number, number];
  rows: number;
  cols: number;
}

const cache = new Map<string, Basis>();
let cached = 0;
const CACHE_LIMIT = 8 * 1024 * 1024; // elements (re + im), ~64 MB

/**
 * W[r, c] (r: output index, c: input index): the transform as a matrix, `rows` × `cols`, stored
 * row-major (`transposed` false) or column-major (true).
 */
function basis(s: DftSpec, rows: number, cols: number, transposed: boolean): Basis {
  const key = `${s.kind}|${s.n}|${s.norm}|${rows}|${cols}|${transposed ? 't' : 'n'}`;
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const { n } = s;
  const sc = dftScale(s);
  const re = new Float64Array(rows * cols);
  const im = new Float64Array(rows * cols);
  const sr = transposed ? 1 : cols;
  const scol = transposed ? rows : 1;
  const sign = s.kind === 'rfft' || s.kind === 'fft' ? -1 : 1;
  // cos and sin of the n angles once (the entry of r·c is that of r·c mod n, the same bits as
  // cosTurn(r·c, n)): 2n trigonometric calls instead of 2·rows·cols, which cost a fresh process
  // about 20 ms for the seed's two bases.
  const cos = new Float64Array(n);
  const sin = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    cos[m] = cosTurn(m, n);
    sin[m] = sinTurn(m, n);
  }
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const j = (r * c) % n;
      let w = sc;
      let dropIm = false;
      if (s.kind === 'irfft') {
        // row r = time, col c = bin
        const nyq = 2 * c === n;
        w = c === 0 || nyq ? sc : 2 * sc;
        dropIm = c === 0 || nyq;
      }
      const at = r * sr + c * scol;
      re[at] = w * cos[j];
      im[at] = dropIm ? 0 : sign * w * sin[j];
    }
  const b: Basis = { re, im, negIm: null, strides: [sr, scol], rows, cols };
  cache.set(key, b);
  cached += 2 * rows * cols;
  while (cached > CACHE_LIMIT && cache.size > 1) {
    const [k, v] = cache.entries().next().value as [string, Basis];
    cache.delete(k);
    cached -= 2 * v.rows * v.cols;
  }
  return b;
}

function negImOf(b: Basis): Float64Array {
  if (!b.negIm) {
    const neg = new Float64Array(b.im.length);
    for (let i = 0; i < neg.length; i++) neg[i] = -b.im[i];
    b.negIm = neg;
  }
  return b.negIm;
}

// ---------------------------------------------------------------- FFT per line

const ffts = new Map<number, ComplexDft>();
function fftOf(n: number): ComplexDft {
  let f = ffts.get(n);
  if (!f) {
    f = complexDft(n);
    if (ffts.size > 16) ffts.clear();
    ffts.set(n, f);
  }
  return f;
}

/** Rough flop count of one length-n complex FFT here (fft.js, or Bluestein at a power of two ≥ 2n−1). */
function fftFlops(n: number): number {
  if ((n & (n - 1)) === 0) return 5 * n * Math.log2(n);
  let L = 2;
  while (L < 2 * n - 1) L *= 2;
  return 10 * L * Math.log2(L) + 12 * L;
}

const LABEL_ROW = -1;
const LABEL_COL = -2;

export interface DftOptions {
  /** Keep stride-0 axes of x at stride 0 in the result (tangent data). */
  compact?: boolean;
}

/**
 * The transform of x along `axis`, entries [0, rows) of the result along that axis. x's extent
 * along the axis must be ≤ dftInLength (shorter reads as zero-padded). Real output for irfft.
 */
export function dftAlong(x: GTensor, axis: number, s: DftSpec, rows: number, opts: DftOptions = {}): GTensor {
  const L = x.shape[axis];
  if (L > dftInLength(s)) throw new Error('internal: dft input longer than the transform');
  if (s.kind === 'rfft' && x.kind === 'complex') throw new ShapeError('rfft expects a real input tensor');
  const outKind = s.kind === 'irfft' ? 'float' : 'complex';
  const outShape = [...x.shape];
  outShape[axis] = rows;
  if (rows === 0 || sizeOf(outShape) === 0 || L === 0) {
    const order = physicalOrder(outShape, x.strides);
    return zerosInOrder(outShape, order, outKind);
  }
  const parts = s.kind === 'irfft' || x.kind !== 'complex' ? 2 : 4;
  // A recorded run takes the basis product, which lowers to a product on every backend.
  const useFft =
    !activeRecorder() && x.strides[axis] !== 0 && rows > 8 && fftFlops(s.n) * 4 < L * rows * parts;
  if (useFft) {
    // compact stride-0 axes first
    const flat = x.shape.map((d, i) => i !== axis && d > 1 && x.strides[i] === 0);
    const xs = flat.some((f) => f)
      ? raw(
          x,
          x.shape.map((d, i) => (flat[i] ? 1 : d)),
          x.strides,
          x.offset,
        )
      : x;
    const r = fftLines(xs, axis, s, rows);
    const full = expandTo(r, outShape);
    return opts.compact || full === r ? full : materialize(full);
  }
  const transposed = x.strides[axis] === 1 || L === 1;
  const b = basis(s, rows, dftInLength(s), transposed);
  const W = new GTensor([rows, L], b.strides, 0, b.re, b.im, 'complex');
  const labels = x.shape.map((_, i) => i);
  labels[axis] = LABEL_COL;
  const outLabels = [...labels];
  outLabels[axis] = LABEL_ROW;
  return contract(
    { t: W, labels: [LABEL_ROW, LABEL_COL], negIm: x.kind === 'complex' ? negImOf(b) : null },
    { t: x, labels },
    outLabels,
    { compact: opts.compact, realOut: s.kind === 'irfft' },
  );
}

/** Iterate the lines of `shape` along `axis`: f(offset of each operand). */
function forLines(
  shape: readonly number[],
  axis: number,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  f: (offs: number[]) => void,
): void {
  const axes = shape.map((_, i) => i).filter((i) => i !== axis && shape[i] > 1);
  const idx = new Array<number>(axes.length).fill(0);
  const pos = [...offsets];
  for (;;) {
    f(pos);
    let d = axes.length - 1;
    for (; d >= 0; d--) {
      const a = axes[d];
      idx[d]++;
      for (let k = 0; k < pos.length; k++) pos[k] += strides[k][a];
      if (idx[d] < shape[a]) break;
      for (let k = 0; k < pos.length; k++) pos[k] -= strides[k][a] * shape[a];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

function fftLines(x: GTensor, axis: number, s: DftSpec, rows: number): GTensor {
  const { n } = s;
  const L = x.shape[axis];
  const outShape = [...x.shape];
  outShape[axis] = rows;
  const order = physicalOrder(outShape, x.strides);
  const complexOut = s.kind !== 'irfft';
  const out = zerosInOrder(outShape, order, complexOut ? 'complex' : 'float');
  const dft = fftOf(n);
  const buf = new Float64Array(2 * n);
  const spec = new Float64Array(2 * n);
  const sc = dftScale(s);
  const xr = x.re;
  const xi = x.kind === 'complex' ? x.im : null;
  const or = out.re;
  const oi = out.kind === 'complex' ? out.im : null;
  const xs = x.strides[axis];
  const os = out.strides[axis];
  forLines(x.shape, axis, [x.strides, out.strides], [x.offset, 0], ([ix, io]) => {
    buf.fill(0);
    if (s.kind === 'irfft') {
      // y = Re DFT(conj Z), Z the Hermitian spectrum of the kept bins (DC/Nyquist imag dropped)
      for (let k = 0; k < L; k++) {
        const zr = xr[ix + k * xs];
        const drop = k === 0 || 2 * k === n;
        const zi = xi && !drop ? xi[ix + k * xs] : 0;
        buf[2 * k] = zr;
        buf[2 * k + 1] = -zi;
        if (k > 0 && 2 * k !== n) {
          buf[2 * (n - k)] = zr;
          buf[2 * (n - k) + 1] = zi;
        }
      }
      dft.transform(spec, buf);
      for (let t = 0; t < rows; t++) or[io + t * os] = sc * spec[2 * t];
      return;
    }
    const conj = s.kind === 'ifft' ? -1 : 1;
    for (let j = 0; j < L; j++) {
      buf[2 * j] = xr[ix + j * xs];
      buf[2 * j + 1] = xi ? conj * xi[ix + j * xs] : 0;
    }
    dft.transform(spec, buf);
    for (let k = 0; k < rows; k++) {
      or[io + k * os] = sc * spec[2 * k];
      oi![io + k * os] = conj * sc * spec[2 * k + 1];
    }
  });
  return out;
}

/** Truncate x along `axis` to what the transform reads (n for the forward ones, n//2+1 bins for irfft). */
export function dftInput(x: GTensor, axis: number, s: DftSpec): GTensor {
  const m = dftInLength(s);
  return x.shape[axis] > m ? leadAlong(x, axis, m) : x;
}
