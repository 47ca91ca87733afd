/**
 * Colour scales. Diverging blue–white–red centred on 0 for J (a 256-entry table, so a lookup is O(1));
 * sequential white→purple for non-negative summaries; a categorical palette for line plots.
 */

type RGB = readonly [number, number, number];

/** Anchors of a diverging scale (ColorBrewer RdBu, reversed: negative = blue, positive = red). */
const DIVERGING_ANCHORS: RGB[] = [
  [5, 48, 97],
  [33, 102, 172],
  [67, 147, 195],
  [146, 197, 222],
  [209, 229, 240],
  [247, 247, 247],
  [253, 219, 199],
  [244, 165, 130],
  [214, 96, 77],
  [178, 24, 43],
  [103, 0, 31],
];

const SEQUENTIAL_ANCHORS: RGB[] = [
  [252, 251, 253],
  [218, 218, 235],
  [158, 154, 200],
  [106, 81, 163],
  [63, 0, 125],
];

export const LUT_SIZE = 256;

function buildLut(anchors: RGB[]): Uint8ClampedArray {
  const lut = new Uint8ClampedArray(LUT_SIZE * 4);
  const segs = anchors.length - 1;
  for (let i = 0; i < LUT_SIZE; i++) {
    const x = (i / (LUT_SIZE - 1)) * segs;
    const j = Math.min(segs - 1, Math.floor(x));
    const f = x - j;
    const a = anchors[j];
    const b = anchors[j + 1];
    lut[i * 4] = Math.round(a[0] + (b[0] - a[0]) * f);
    lut[i * 4 + 1] = Math.round(a[1] + (b[1] - a[1]) * f);
    lut[i * 4 + 2] = Math.round(a[2] + (b[2] - a[2]) * f);
    lut[i * 4 + 3] = 255;
  }
  return lut;
}

export const DIVERGING_LUT = buildLut(DIVERGING_ANCHORS);
export const SEQUENTIAL_LUT = buildLut(SEQUENTIAL_ANCHORS);

/** LUT index of v on a diverging scale [-limit, limit] (values beyond are clamped; limit 0 → centre). */
export function divergingIndex(v: number, limit: number): number {
  if (!(limit > 0) || !Number.isFinite(v)) return (LUT_SIZE - 1) >> 1;
  const x = (v / limit + 1) / 2;
  return Math.min(LUT_SIZE - 1, Math.max(0, Math.round(x * (LUT_SIZE - 1))));
}

/** LUT index of v on a sequential scale [0, max]. */
export function sequentialIndex(v: number, max: number): number {
  if (!(max > 0) || !Number.isFinite(v)) return 0;
  return Math.min(LUT_SIZE - 1, Math.max(0, Math.round((v / max) * (LUT_SIZE - 1))));
}

/** Paints values into RGBA pixels (ImageData layout) through a LUT. */
export function paintPixels(
  values: Float64Array,
  out: Uint8ClampedArray,
  lut: Uint8ClampedArray,
  index: (v: number) => number,
): void {
  for (let i = 0; i < values.length; i++) {
    const j = index(values[i]) * 4;
    const o = i * 4;
    out[o] = lut[j];
    out[o + 1] = lut[j + 1];
    out[o + 2] = lut[j + 2];
    out[o + 3] = 255;
  }
}

export function lutColor(lut: Uint8ClampedArray, i: number): string {
  return `rgb(${lut[i * 4]},${lut[i * 4 + 1]},${lut[i * 4 + 2]})`;
}

/** Eight distinguishable colours (Okabe–Ito + black). */
export const CATEGORICAL = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#F0E442',
];
