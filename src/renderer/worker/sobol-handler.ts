/**
 * The engine worker's end of the variance-based tab: answers the tab's messages (distributions, runs,
 * cancels, exports), one Sobol' run at a time (a new run stops the one before), progress as 'progress'.
 */
import { sobolExportBytes } from './sobol-exports';
import { runSobol, shownMessage, sobolDists } from './sobol-run';
import type { SobolCache } from './sobol-run';
import type { FromWorker, ToWorker } from './protocol';
import type { Session } from './session';
import { StaleError } from './explore';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;

export class SobolHandler {
  private running: { id: number; controller: AbortController } | null = null;
  /** The last run's result, for exports (null once the data it was about is replaced). */
  private cache: SobolCache | null = null;

  constructor(
    private readonly session: Session,
    private readonly post: Post,
    private readonly errors: { describeError(e: unknown): string; isCancelled(e: unknown): boolean },
  ) {}

  /** Answers a message of the tab; false for any other. */
  handle(msg: ToWorker): boolean {
    switch (msg.type) {
      case 'sobol-dists':
        this.post(sobolDists(this.session, msg));
        return true;
      case 'sobol':
        void this.run(msg);
        return true;
      case 'sobol-cancel':
        if (this.running?.id === msg.id) this.running.controller.abort();
        return true;
      case 'export-sobol':
        try {
          const c = this.cache;
          const fresh = c && this.session.result?.meta.seq === c.shown.seq ? c : null;
          const out = sobolExportBytes(fresh, msg.what);
          this.post({ type: 'exported', id: msg.id, name: out.name, bytes: out.bytes }, [
            out.bytes.buffer as ArrayBuffer,
          ]);
        } catch (e) {
          this.post({ type: 'export-failed', id: msg.id, message: this.errors.describeError(e) });
        }
        return true;
      default:
        return false;
    }
  }

  private async run(msg: Extract<ToWorker, { type: 'sobol' }>): Promise<void> {
    this.running?.controller.abort();
    const controller = new AbortController();
    const me = { id: msg.id, controller };
    this.running = me;
    let last = 0;
    const onProgress = (done: number, total: number) => {
      const now = performance.now();
      if (done === total || now - last > 50) {
        last = now;
        this.post({ type: 'progress', id: msg.id, done, total });
      }
    };
    try {
      const c = await runSobol(this.session, msg, controller.signal, onProgress);
      this.cache = c;
      const { message, transfer } = shownMessage(msg.id, c.shown);
      this.post(message, transfer);
    } catch (e) {
      const cancelled = controller.signal.aborted || this.errors.isCancelled(e) || e instanceof StaleError;
      this.post({
        type: 'sobol-failed',
        id: msg.id,
        cancelled,
        message: cancelled && !(e instanceof StaleError) ? 'cancelled' : this.errors.describeError(e),
      });
    } finally {
      if (this.running === me) this.running = null;
    }
  }
}
