// The worker_threads entry of a CPU helper thread: like bin/jacscope.mjs, it runs the TypeScript
// sources through tsx, so a checkout needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cpu-pool-thread.ts');
