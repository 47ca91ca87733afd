/**
 * Joe & Kuo's Sobol' direction numbers (S. Joe and F. Y. Kuo, "Constructing Sobol sequences with
 * better two-dimensional projections", SIAM J. Sci. Comput. 30 (2008) 2635-2654; the table
 * new-joe-kuo-6.21201), dimensions 1 to 256: enough for the 2·P columns of Saltelli's design with
 * up to 128 features.
 *
 * Packed as base-36 tokens: for each dimension from 2 on, the primitive polynomial with its leading
 * and constant terms (x^s + a_1 x^(s-1) + ... + a_(s-1) x + 1 as the bits 1 a_1 ... a_(s-1) 1, so
 * its degree s is its bit length less one), then the s initial direction numbers m_1 ... m_s
 * (m_k odd, below 2^k). Dimension 1 is the van der Corput sequence (every m_k = 1). Copied from
 * the published table (the copy SciPy ships); test/engine/analysis/sobol-sequence.test.ts checks
 * every polynomial is primitive, every m_k valid, and points against published values.
 */

/** Dimensions the table has. */
export const SOBOL_MAX_DIMS = 256;

/** Bits of each coordinate: 2^32 points at most. */
export const SOBOL_BITS = 32;

const TABLE = `
3 1 7 1 3 b 1 3 1 d 1 1 1 j 1 1 3 3 p 1 3 5 d 11 1 1 5 5 h 15 1 1 5 5 5 1b 1 1 7 b j 1j 1 1 5 1 1 1n
1 1 1 3 b 1p 1 3 5 5 v 1v 1 3 3 9 7 1d 2j 1 1 1 f l l 2p 1 3 1 d r 1d 2v 1 1 1 f 7 5 31 1 3 1 f d p
37 1 1 5 5 j 1p 3n 1 3 7 b n f 2v 3t 1 3 7 d d f 1x 3z 1 1 3 d 7 z 1r 41 1 3 5 9 1 p 1h 4d 1 3 1 d 9
z 2z 4n 1 3 1 5 r 1p v 4r 1 1 5 b j 15 1p 55 1 3 5 3 3 d 1x 5b 1 1 7 d 1 j 1 5d 1 3 7 5 d j 1n 5n 1
1 3 9 p t 15 5v 1 3 5 d n 1 1j 5x 1 3 7 3 d 1n h 6d 1 3 1 3 5 1h 1x 6n 1 1 5 5 n x d 6p 1 1 7 7 1 1p
3f 6v 1 1 7 9 d 1p 1d 71 1 3 3 5 3 1j x 7x 1 3 1 f v d 1d 6t 8b 1 3 5 f v 1n 1r 2p 8d 1 3 1 b b b 25
6x 99 1 3 1 b r 17 1z 9 9r 1 1 7 f l b 29 19 9v 1 3 7 3 p v 1t 27 9x 1 3 1 1 j b 3 5p a1 1 1 5 9 j l
t 4d a9 1 3 7 b 1 x 2h 55 av 1 3 3 3 f 9 27 1z b1 1 3 7 b f 13 3b r bt 1 1 3 1 b v 2p 69 cj 1 1 1 3
n 17 1l 4x cv 1 3 7 7 h h 11 1z dj 1 3 1 5 r 1r 3f 5x dx 1 1 3 5 b 17 1h 3p ep 1 3 5 5 t h 1b 4t db
ez 1 3 3 b 3 1 31 9 1x f5 1 1 1 5 h 13 n 5 9j fh 1 3 1 5 p f v 2v dv fn 1 1 1 b b h 1r 2x 53 gp 1 1
5 b 9 t 2p 6f a3 gv 1 1 5 f j 19 15 7 an h5 1 3 7 7 v j 2b 3t 65 hb 1 1 1 3 n f 33 67 2b hj 1 1 5 d
v f 1j p 4h hp 1 1 3 d p 1b 13 2f 75 hz 1 1 1 b l 1h 3h 6x 85 id 1 1 7 b b 7 1l 27 8z ir 1 1 5 5 h d
29 3 3n it 1 1 7 d n 7 1t 6z d7 j3 1 3 5 1 9 17 3 45 b jb 1 1 3 d v d d 73 dj jh 1 3 3 1 5 1r 2h 2j
3j jz 1 1 3 3 1 j 3f 3j 6l k1 1 1 5 7 n v 11 6r 81 kb 1 1 5 b h 1h 39 53 dn l1 1 1 1 5 1 d d 5t 9l
l5 1 1 3 f 1 1l 37 7 x lv 1 3 1 b 7 17 29 5r 4v lx 1 3 1 1 f r 1r 73 1d m7 1 3 5 3 r 1p 2x 4r 8h mb
1 1 5 3 1 3 1l 6x 45 mp 1 1 3 5 5 1l f d 4f mz 1 1 1 b 7 b 2x 3x 69 nj 1 3 3 5 r 1n 3d 2t 7j nv 1 3
5 9 b 1d 1f 1n 37 o1 1 1 7 1 n 19 3h 1z bn ob 1 1 3 5 n 5 2x 31 23 od 1 1 7 f 7 b 1v 3d cl oj 1 3 7
3 9 d v r ch ov 1 3 1 f j 13 13 2h f p1 1 1 1 1 1 x 21 41 aj pb 1 3 1 f f 17 t d df qd 1 1 7 3 j r
2d 3n bz qh 1 3 3 3 5 z n 5f 9p qv 1 3 3 7 9 r 13 1n 89 qz 1 1 3 9 b h d 6p 4d r1 1 3 7 f p 1l x 59
5x r9 1 1 7 1 9 1j 21 2b 61 rd 1 3 3 d j r n 35 6x rn 1 3 5 3 n 17 3 71 db rt 1 1 5 5 b 5 19 39 61
sb 1 3 3 7 t 11 x 3f 43 sp 1 3 1 f 5 5 11 6b 67 cr t7 1 1 7 5 5 13 1r 73 3r dj tj 1 3 1 7 9 7 2f 6x
61 gn tp 1 1 3 d 9 1b 7 69 a3 6v v9 1 3 7 d j d 9 1v 9 kh vj 1 3 5 5 j 1n 7 15 8v it w1 1 1 5 3 v 1r
f 17 5r lx wb 1 1 7 9 d 13 3 1b dt 4p xx 1 3 1 7 l h 2p j bj p5 yf 1 3 7 1 3 v 1z 33 4l 3j yv 1 1 5
b 1 1p 2b 3b 5n nj z7 1 3 3 d 9 1p j 2p 1b z zj 1 1 7 7 f t 1r 2n bl d1 zx 1 3 1 9 p 9 1z 1l 5x ap
109 1 3 5 d v 1b 2t 1l 13 9h 10j 1 1 3 3 v 1l 3h 4t a5 fb 10x 1 3 7 1 d 1l 1v 4d cj jn 119 1 1 1 7 l
d 2x 2h bx qt 11f 1 1 5 9 h 1f 19 3b 4d 3x 11z 1 3 7 7 d 19 2j 9 3l kl 12j 1 3 7 1 n 1l 1v 3x 47 fv
139 1 1 3 b h 1b 2l 2z af 4d 13j 1 3 3 5 b l 17 1f 4p pf 13r 1 1 5 3 f 1j 2t 1v cn hd 141 1 3 5 9 1
n t 1b 9l gj 153 1 3 7 7 5 1d t 4b 8z gd 15x 1 3 3 7 5 15 3j 1p 79 jx 16f 1 3 7 7 h n 39 1v 3l s1
16j 1 1 3 d b 13 l 5r 3f 8h 177 1 1 3 9 t 3 2n 1b 6f 21 179 1 3 1 9 1 t 39 l c9 77 17p 1 3 1 d l 13
3h 5v c7 k3 187 1 1 7 3 h 1r 37 2h 1d lh 18j 1 3 7 d b x 2t 2z 1r 21 18v 1 1 5 5 d 1l 1r 3r c5 4x
197 1 1 3 7 r 1r 2l 1b bl df 1a1 1 1 3 1 n t 1 5b 1d n 1a7 1 1 3 f p 1j 9 2t 63 gv 1ah 1 3 1 7 7 j
1f 6z ax 8j 1bp 1 3 3 3 p 1j h 23 9d 3 1c1 1 1 1 d p h 1t 19 db bh 1cj 1 1 7 7 r 1d 2r 4h 5x k7 1cv
1 3 5 1 n 5 17 15 6z nt 1dp 1 3 3 7 b 1p 13 2f an n7 1ef 1 1 3 f d 7 t 7 e1 pn 1el 1 3 7 1 5 v 1b 4d
cd dx 1ep 1 1 3 7 1 17 9 43 37 gt 1fd 1 3 3 d 5 1 3b 5v cn rt 1fr 1 1 3 5 d j 3 6r 23 nf 1fx 1 3 7 7
1 j 2j 6x 9x gd 1g5 1 1 1 9 1 p 31 5h 7r bf 1g9 1 3 1 f n 1l 1n 3r 5b 23 1gj 1 1 5 f t l 13 71 an 9p
1h9 1 3 3 5 j 19 1p 47 5j r9 1hp 1 3 5 d 9 1p 2z 3x 3x 1 1hv 1 3 1 b r p 2d 2x 8l r7 1ip 1 3 3 b j 7
37 67 9p 17 1jv 1 1 7 9 l 13 3f l 7n pr 1kj 1 1 7 d f 15 1b 6r 8f c5 1kp 1 1 1 7 7 3 f 2r bd jz 1l1
1 3 3 f r 1d 35 3f 35 1v d1 1lj 1 3 7 b 3 n 2f 4p 3b df 5j 1m3 1 1 5 f 7 h 31 6d 4z 5x kl 1m5 1 1 5
d b h p 3r b7 fh 13t 1mv 1 3 1 1 1 1p 1v 5z 59 q9 yj 1nn 1 1 7 d h x 9 65 bx 61 1an 1np 1 1 3 b r 3
f 2l 2l o1 t5 1o1 1 3 7 7 p 15 3d z ad aj 16z 1ob 1 3 3 9 b z 19 5p 6p 9 1n 1ot 1 3 1 7 3 1f 7 4x 1h
r3 2h 1p1 1 1 3 5 r 1 35 6f 8b l3 nx 1pb 1 3 3 f p t 5 73 3v or 1kf 1pl 1 3 1 1 d 9 31 5d bn 2n h
1pt 1 1 7 9 3 7 t 15 3r nb o3 1qn 1 1 7 9 p 1d 3f 61 35 p9 5z 1qp 1 1 7 3 n f 17 3p 61 93 p1 1r5 1 1
3 3 d 1h 1r 3f d9 jr 12j 1rb 1 1 3 f 7 t 23 3b 51 ql 6v 1rf 1 1 1 b r p 31 47 7f 2r 14l 1rp 1 3 7 f
5 5 1h 41 b k5 15p 1sd 1 3 7 1 9 17 1z 6d 4d gv 1ez 1sj 1 3 3 d p 1 5 r d3 9p 3j 1t1 1 1 1 1 n 11 9
65 7h ox 1at 1t5 1 1 3 3 v t 1f j 8n fd 1ip 1tn 1 3 7 5 5 1j h 13 d7 in 16h 1tp 1 1 7 1 1 z 1b r c5
az 19f 1tx 1 1 7 3 d n 17 3r 93 3v at 1u1 1 3 7 3 9 p 2j p bx 63 e9 1u9 1 1 3 5 d t 3b 5l 7p 4d 1kr
1uj 1 3 5 3 t 1l d h 4n kj sn 1v7 1 3 3 5 t l 2n r 73 iv 16j 1v9 1 3 7 f 9 5 l 1z 1p qp xd 1vj 1 3 5
d f 1l x 2l cr o3 67 1vn 1 1 1 f h 17 3j 5b 1v 4x tt 1vz 1 1 1 f n 7 l 5j 23 85 18r 1wr 1 3 7 d f 13
l 45 1t kl 8v 1wt 1 3 7 b n d 2t 2h 7p ef jr 1x5 1 3 7 f j r 2d 5n c9 2p 1gn 1xj 1 3 1 3 t p l 4b b
5b 5h 1y1 1 1 7 5 r b 29 2t cp ir 1av 1yd 1 3 1 5 p 5 1t 5d 15 fr lp 1yv 1 3 1 5 b f 35 25 bf jb uv
1z5 1 1 3 9 b 1h 3b 4r 1j 89 e5 1zb 1 1 1 1 b 13 35 3v 4l 9n gj 1zn 1 3 7 b 9 h 2t d 29 91 1c5 1zp 1
3 1 1 l 17 37 9 35 p7 hx 209 1 1 7 3 9 p 39 5h 4f d3 d7 215 1 3 1 9 b l 1l 5r dh h1 1a5 21t 1 1 7 7
r 1j 1d 67 2h 2d 16b 225 1 1 5 3 j 15 19 1f cf 8b 11n 22h 1 3 1 d 1 x 39 3z 8p 57 tt 22n 1 1 7 7 5 b
1t 2p ah ah 15p 22t 1 3 1 1 l z 2n 1t 2r n yf 235 1 1 5 9 3 11 2n 4n 37 bt o3 23h 1 3 3 d 1 11 r 59
29 iv lh 23r 1 1 3 b 1 1p 2r 6h bx qx 1d 23v 1 1 1 7 p 1r 2r 4l 6t m1 vr 243 1 1 5 b b 17 1j 1t 1z
7v 7l 245 1 1 5 5 9 3 2t 6z 9v aj 18r 251 1 1 1 f l 1r 2d 2r 1d kt 113 25b 1 1 5 d r 9 3d 17 73 jv
81 25l 1 3 1 5 r j h 67 25 fv 13b 25r 1 1 5 3 d 1n 3h 6z 5f fb 1c9 25t 1 3 3 f d r 1d 2x at qz kz
263 1 3 5 f n 17 z 2z cf l7 71 26b 1 3 5 b l 3 h 13 dt bb gz 26h 1 1 7 d f v 35 h n e3 1jf 26p 1 1 7
f 3 f v 49 br 27 dz 27n 1 1 7 9 j p n 4r e1 pn 1j9 27z 1 1 5 9 l r 3d 67 3p 2f jd 281 1 1 5 5 9 j 2z
2r 8v l9 14l 28b 1 1 3 3 j p 3 2t 4r k9 57 28p 1 1 3 1 d n 2d 2l 83 5t 11 28v 1 1 1 f p p 25 71 99
qb tt 291 1 1 3 9 h t 1j 1b 73 8h 1kl 29b 1 3 3 9 t 1r 9 2v dl q3 16b 29p 1 3 7 f 7 v 2h 4v a9 9f gj
29z 1 3 7 d p 5 1z 5r 6z a7 ih 2a3 1 3 3 3 l p 23 z v 8x 18j 2ab 1 1 1 9 b 1 1t 5 b 95 ev 2ad 1 1 5
3 j d h 17 aj dh an 2b3 1 3 5 d d 9 2d 43 dl lv vh 2bb 1 3 1 1 5 1f 11 3l 5f 89 1dj 2bh 1 1 3 f j 1l
1n 51 cn jd 1kh 2bt 1 3 7 1 r 9 1t 41 91 59 5l 2cb 1 3 1 f v n j 5 dh g5 ez 2cd 1 1 7 d b f 1t 2b 55
nj n3 2cn 1 3 5 7 7 1j 21 f 8f e7 1gx 2ct 1 3 5 9 7 l 19 f b1 ap gl 2dn 1 3 7 3 n d 21 65 e7 oj z5
2dp 1 1 3 b 1 1f 21 55 x r3 141 2e1 1 3 3 9 j 1n l 13 9f 11 3z 2e7 1 1 7 1 v x j 4n 39 hn hr 2fr 1 1
1 3 5 d 1n 2b 9v 9p 1in 2g1 1 1 1 5 j 3 1h 3p 2p nz rb
`;

export interface DirectionRow {
  /** The polynomial's bits, leading and constant terms included (1 for dimension 1). */
  readonly poly: number;
  /** m_1 ... m_s */
  readonly m: readonly number[];
}

let rows: DirectionRow[] | null = null;

/** The decoded table: row d-1 for dimension d. */
export function directionTable(): readonly DirectionRow[] {
  if (rows) return rows;
  const tokens = TABLE.trim()
    .split(/\s+/)
    .map((t) => parseInt(t, 36));
  const out: DirectionRow[] = [{ poly: 1, m: [] }];
  for (let i = 0; i < tokens.length;) {
    const poly = tokens[i++];
    const s = Math.floor(Math.log2(poly));
    out.push({ poly, m: tokens.slice(i, i + s) });
    i += s;
  }
  if (out.length !== SOBOL_MAX_DIMS) throw new Error(`Sobol' table has ${out.length} dimensions`);
  rows = out;
  return out;
}

const cache = new Map<number, Uint32Array>();

/**
 * The 32 direction numbers v_1 ... v_32 of dimension `dim` (1-based), scaled to 32 bits:
 * V[b] = m_(b+1) · 2^(31-b), so that point i is the XOR of V[b] over the set bits b of its Gray code.
 */
export function directionNumbers(dim: number): Uint32Array {
  const hit = cache.get(dim);
  if (hit) return hit;
  if (!Number.isInteger(dim) || dim < 1 || dim > SOBOL_MAX_DIMS)
    throw new RangeError(`Sobol' dimension ${dim} is outside 1..${SOBOL_MAX_DIMS}`);
  const { poly, m } = directionTable()[dim - 1];
  const V = new Uint32Array(SOBOL_BITS);
  if (dim === 1) {
    for (let b = 0; b < SOBOL_BITS; b++) V[b] = 2 ** (31 - b);
  } else {
    const s = m.length;
    for (let b = 0; b < s; b++) V[b] = m[b] * 2 ** (31 - b);
    for (let b = s; b < SOBOL_BITS; b++) {
      // v_k = a_1 v_(k-1) ^ ... ^ a_(s-1) v_(k-s+1) ^ v_(k-s) ^ (v_(k-s) >> s)
      let v = V[b - s] ^ (V[b - s] >>> s);
      for (let j = 1; j < s; j++) if ((poly >>> (s - j)) & 1) v ^= V[b - j];
      V[b] = v >>> 0;
    }
  }
  cache.set(dim, V);
  return V;
}
