/** One helper thread of the parallel CPU backend (started by cpu-pool.ts from its bundle). */
import { parentPort } from 'node:worker_threads';
import { poolWorker } from '../engine/backends/cpu/pool-worker';

const port = parentPort;
if (!port) throw new Error('cpu-pool-thread runs in a worker thread');
port.on(
  'message',
  poolWorker((msg, transfer) => port.postMessage(msg, transfer)),
);
