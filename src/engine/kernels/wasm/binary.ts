// AssemblyScript source of the elementwise add/sub/mul over one block of a strided loop (graph/strided.ts
// forBlocks): n1 rows of n0 values, each row contiguous in the output, in a (unless a0 is 0: one value per
// row, broadcast) and in b (likewise b0). Byte strides between rows. Operands are tensors of a resident arena
// (graph/tensor.ts), already in the module's memory: nothing is copied in or out.
//
//   op 0: o = a + alpha·b    op 1: o = a − alpha·b    op 2: o = a · b    op 3: o = alpha − a·b
//
// (op 3 with a = b = tanh(x), alpha = 1: tanh's derivative 1 − y².)
//
// o may be a (accumulation, d += s): each vector is loaded before it is stored. SIMD128 has no FMA, so
// each result is the same two roundings as the scalar JS loop's.

// The app's tsc project includes src/, but this file is AssemblyScript: only asc can type-check it.
// @ts-nocheck

@inline
function apply(op: i32, x: v128, y: v128, alpha: v128): v128 {
  if (op == 2) return f64x2.mul(x, y);
  if (op == 3) return f64x2.sub(alpha, f64x2.mul(x, y));
  const t = f64x2.mul(alpha, y);
  return op == 0 ? f64x2.add(x, t) : f64x2.sub(x, t);
}

@inline
function apply1(op: i32, x: f64, y: f64, alpha: f64): f64 {
  if (op == 2) return x * y;
  if (op == 3) return alpha - x * y;
  return op == 0 ? x + alpha * y : x - alpha * y;
}

@inline
function row(op: i32, o: usize, a: usize, a0: i32, b: usize, b0: i32, n: i32, alpha: f64): void {
  const al = f64x2.splat(alpha);
  const end = o + ((<usize>(n & ~1)) << 3);
  if (a0 != 0 && b0 != 0) {
    while (o < end) {
      v128.store(o, apply(op, v128.load(a), v128.load(b), al));
      o += 16;
      a += 16;
      b += 16;
    }
    if (n & 1) store<f64>(o, apply1(op, load<f64>(a), load<f64>(b), alpha));
  } else if (a0 != 0) {
    const yv = load<f64>(b);
    const y = f64x2.splat(yv);
    while (o < end) {
      v128.store(o, apply(op, v128.load(a), y, al));
      o += 16;
      a += 16;
    }
    if (n & 1) store<f64>(o, apply1(op, load<f64>(a), yv, alpha));
  } else {
    const xv = load<f64>(a);
    const x = f64x2.splat(xv);
    if (b0 != 0) {
      while (o < end) {
        v128.store(o, apply(op, x, v128.load(b), al));
        o += 16;
        b += 16;
      }
      if (n & 1) store<f64>(o, apply1(op, xv, load<f64>(b), alpha));
    } else {
      const v = apply1(op, xv, load<f64>(b), alpha);
      const vv = f64x2.splat(v);
      while (o < end) {
        v128.store(o, vv);
        o += 16;
      }
      if (n & 1) store<f64>(o, v);
    }
  }
}

export function binaryBlock(
  op: i32,
  n1: i32,
  n0: i32,
  o: usize,
  o1: isize,
  a: usize,
  a1: isize,
  a0: i32,
  b: usize,
  b1: isize,
  b0: i32,
  alpha: f64,
): void {
  // the op is a constant per call: one specialised loop per op
  for (let u = 0; u < n1; u++) {
    if (op == 0) row(0, o, a, a0, b, b0, n0, alpha);
    else if (op == 1) row(1, o, a, a0, b, b0, n0, alpha);
    else if (op == 2) row(2, o, a, a0, b, b0, n0, alpha);
    else row(3, o, a, a0, b, b0, n0, alpha);
    o = <usize>(<isize>o + o1);
    a = <usize>(<isize>a + a1);
    b = <usize>(<isize>b + b1);
  }
}
