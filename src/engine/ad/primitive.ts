/**
 * A primitive of the model graph: a forward rule and a forward-mode derivative (JVP) rule.
 * `jvp` receives the primal inputs and output (so rules like tanh' = 1 - y² reuse the forward
 * result) and one tangent per input, each carrying all P directions at once.
 */
export interface Primitive<In, Out, TIn, TOut> {
  readonly name: string;
  forward(inputs: In): Out;
  jvp(inputs: In, output: Out, tangents: TIn, P: number): TOut;
}

/** A time-domain activation tensor [B,T,C], row-major with channels innermost. */
export interface Act {
  readonly B: number;
  readonly T: number;
  readonly C: number;
  readonly data: Float64Array;
}

/** A truncated spectrum [modes,B,C], mode-major, as real and imaginary parts. */
export interface Spec {
  readonly modes: number;
  readonly B: number;
  readonly C: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}
