/**
 * The one error the TorchScript front-end throws on purpose: a `LoadError` naming the archive, the code
 * file, line and column, and what is wrong (`model.pt: code/__torch__/m.py:23:5: unsupported op
 * aten::istft`). Errors from the tensor host are re-thrown as this, with the location of the call.
 */
import { CancelledError, LoadError } from '../errors';
import { type SourceLoc, formatLoc } from './ast';

export class TorchScriptError extends LoadError {
  /** Where in the archive's code the problem is; absent for problems with the archive as a whole. */
  readonly loc?: SourceLoc;
  /** The problem alone, without file or location. */
  readonly what: string;
  constructor(file: string, what: string, loc?: SourceLoc) {
    super(file, loc ? `${formatLoc(loc)}: ${what}` : what);
    this.name = 'TorchScriptError';
    this.loc = loc;
    this.what = what;
  }
}

/** Wraps anything thrown below a call site into a located TorchScriptError (located ones pass through). */
export function located(err: unknown, file: string, loc: SourceLoc): Error {
  if (err instanceof TorchScriptError || err instanceof CancelledError) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new TorchScriptError(file, 'the code nests calls too deeply to run', loc);
  }
  const what = err instanceof Error ? err.message : String(err);
  return new TorchScriptError(file, what, loc);
}
