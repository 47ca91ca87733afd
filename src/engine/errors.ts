/**
 * Errors the engine throws on purpose. Each carries a message a scientist can act on;
 * the CLI and the app print `message` alone (never a stack trace).
 */

/** A file could not be read: `file` names it, `reason` says what is wrong with it. */
export class LoadError extends Error {
  readonly file: string;
  readonly reason: string;
  constructor(file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'LoadError';
    this.file = file;
    this.reason = reason;
  }
}

/** Inputs that are each fine but do not fit together (data vs model, config vs weights). */
export class ShapeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShapeError';
  }
}

/** Work stopped because the caller asked it to. */
export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}
