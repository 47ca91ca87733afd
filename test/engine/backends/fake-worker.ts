import type { PoolReply, PoolRequest, PoolWorker } from '../../../src/engine/backends/cpu/pool-protocol';
import { poolWorker } from '../../../src/engine/backends/cpu/pool-worker';

// Helper threads simulated in-process: the real worker-side handler, with messages cloned and
// delivered on later macrotasks as a thread's would be. Real threads: test/cli/threads.test.ts.
/** Runs the fakes were given (to check that helpers took part) and threads that died. */
export const seen = { runs: 0, died: 0 };
interface FakeOptions {
  /** The thread dies (onError) when it receives its n-th run. */
  dieOnRun?: number;
  /** Its computations throw. */
  broken?: boolean;
}
export function fakeWorker(o: FakeOptions = {}): PoolWorker {
  let onMessage: ((m: PoolReply) => void) | undefined;
  let onError: ((m: string) => void) | undefined;
  let runs = 0;
  let alive = true;
  const handle = poolWorker((msg) => {
    const copy = structuredClone(msg);
    setTimeout(() => alive && onMessage?.(copy), 0);
  });
  return {
    post(msg: PoolRequest) {
      const copy = structuredClone(msg);
      setTimeout(() => {
        if (!alive) return;
        if (copy.type === 'run') seen.runs++;
        if (copy.type === 'run' && ++runs === o.dieOnRun) {
          seen.died++;
          alive = false;
          onError?.('the thread exited');
          return;
        }
        if (copy.type === 'run' && o.broken) copy.inputs = copy.inputs.slice(1); // no x: the model refuses
        handle(copy);
      }, 0);
    },
    onMessage: (cb) => (onMessage = cb),
    onError: (cb) => (onError = cb),
    terminate: () => (alive = false),
  };
}
