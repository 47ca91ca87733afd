/**
 * A loaded model's batch backend for the current choice: set up on first use, kept while the model is loaded
 * (a WebGPU device, its compiled kernels and lowerings are worth keeping between batches), freed when the choice
 * changes or the model goes. A graph model with another p chosen is a copy of the loaded model that shares its
 * slot: the backend does not depend on p, and whichever copy stays loaded keeps it.
 */
import type { BackendWant } from './protocol';

export class BackendSlot<B extends { dispose(): void }> {
  private held: { want: BackendWant; ready: Promise<B> } | undefined;

  /** The backend for `want`: kept from before, or set up now by `select` (setupMs: how long that took). */
  async get(want: BackendWant, select: () => Promise<B>): Promise<{ backend: B; setupMs?: number }> {
    if (this.held?.want === want) return { backend: await this.held.ready };
    this.release();
    const t0 = performance.now();
    const ready = select();
    this.held = { want, ready };
    try {
      const backend = await ready;
      return { backend, setupMs: performance.now() - t0 };
    } catch (e) {
      // A choice that could not be set up is asked again next time (WebGPU may have come back).
      if (this.held?.ready === ready) this.held = undefined;
      throw e;
    }
  }

  /** Frees the backend (GPU buffers, device); the next `get` sets one up again. */
  release(): void {
    const b = this.held;
    this.held = undefined;
    b?.ready.then(
      (backend) => backend.dispose(),
      () => undefined,
    );
  }
}
