/**
 * Owen's nested uniform scrambling (A. B. Owen, "Randomly permuted (t,m,s)-nets and (t,s)-sequences",
 * 1995) of one coordinate, to all 32 bits: the k-th bit (from the top) of the point is flipped or not
 * by a random bit that belongs to the node of the binary tree reached by the k bits above it — the
 * node being (k, those bits), drawn independently for each node. The node's bit is a hash of the node
 * and the coordinate's two key words (from Philox, per seed and dimension), so the random tree needs
 * no storage and any point is scrambled without the others.
 *
 * A scrambled (t,m,s)-net is again a (t,m,s)-net — every 2^m points keep their stratification —
 * and each scrambled point is uniform on [0,1): estimates from it are unbiased, with randomised-QMC
 * convergence.
 */

/** Chris Wellons' "lowbias32" integer hash: a bijection of 32-bit words with low bias. */
function mix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/** The random bit of tree node `node` (1 for the root; a node's children are 2·node and 2·node+1). */
function nodeBit(node: number, keyA: number, keyB: number): number {
  return mix((mix((node ^ keyA) >>> 0) + keyB) >>> 0) >>> 31;
}

/** x (a 32-bit coordinate) scrambled under the keys of its dimension. */
export function owenScramble(x: number, keyA: number, keyB: number): number {
  x >>>= 0;
  let flips = 0;
  let node = 1;
  for (let k = 0; k < 32; k++) {
    const b = (x >>> (31 - k)) & 1;
    if (nodeBit(node, keyA, keyB)) flips |= 1 << (31 - k);
    // Depth k+1: the node id gains bit b; at depth 32 it would need 33 bits and is never used.
    node = (node * 2 + b) >>> 0;
  }
  return (x ^ flips) >>> 0;
}
