/**
 * cos/sin of 2π·j/n for integer j, with the angle reduced exactly in integers first.
 * Reducing `k·t mod n` before scaling keeps every table entry correct to the last bit
 * (Math.cos(2π·k·t/n) for k·t ≈ 10^5 would lose about five digits).
 */
export function cosTurn(j: number, n: number): number {
  return Math.cos((2 * Math.PI * (((j % n) + n) % n)) / n);
}

export function sinTurn(j: number, n: number): number {
  return Math.sin((2 * Math.PI * (((j % n) + n) % n)) / n);
}
