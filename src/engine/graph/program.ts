/**
 * A program the graph engine runs: what every front-end produces. The TorchScript reader gives
 * one for any traced or scripted archive; the fno1d-scalar builder gives one for bare weights.
 * Running it on a tensor host computes the forward pass, and the JVPs when the host tracks
 * tangents.
 */
import type { GTensor } from './tensor';

export interface ProgramArg {
  readonly name: string;
  /** The annotated type as the code writes it (`Tensor`, `Optional[Tensor]`, `int` ...). */
  readonly type: string;
}

/** The part of a TorchScript-style host the program needs (see torchscript/host.ts). */
export interface ProgramHost {
  isTensor(v: unknown): v is GTensor;
}

export interface GraphProgram<H extends ProgramHost = ProgramHost> {
  /** Where the program came from, for people. */
  readonly origin: 'traced' | 'scripted' | 'unknown' | 'state-dict';
  /** `forward`'s arguments after `self`. */
  readonly signature: readonly ProgramArg[];
  /** Run `forward` with these arguments; the result as the code returns it (a tensor, a tuple ...). */
  run(host: H, args: unknown[]): unknown;
}
