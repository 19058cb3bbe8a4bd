import { Worker } from 'node:worker_threads';

export interface HealthzResult {
  samples: number;
  p50: number;
  p99: number;
  max: number;
  /** Probes that failed or answered other than 200. */
  failures: number;
}

/**
 * The probe runs in a worker thread: its own event loop, so the load generator's busy loop in
 * the main thread does not delay the probe's timings. One request at a time on one kept-alive
 * connection, a pause between them: what a load balancer's health check sees.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const latencies = [];
let failures = 0;
let stopping = false;
parentPort.on('message', () => (stopping = true));
(async () => {
  while (!stopping) {
    const started = performance.now();
    try {
      const res = await fetch(workerData.url);
      await res.arrayBuffer();
      if (res.status !== 200) failures++;
    } catch {
      failures++;
    }
    latencies.push(performance.now() - started);
    await new Promise((r) => setTimeout(r, workerData.pauseMs));
  }
  parentPort.postMessage({ latencies, failures });
})();
`;

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const ms = (n: number) => Math.round(n * 10) / 10;

/** Samples GET /healthz until stopped; latencies in milliseconds. */
export function startHealthzProbe(baseUrl: string, pauseMs = 10): { stop(): Promise<HealthzResult> } {
  const worker = new Worker(WORKER, { eval: true, workerData: { url: `${baseUrl}/healthz`, pauseMs } });
  const done = new Promise<{ latencies: number[]; failures: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const { latencies, failures } = await done;
      await worker.terminate();
      const sorted = latencies.sort((a, b) => a - b);
      return { samples: sorted.length, p50: ms(quantile(sorted, 0.5)), p99: ms(quantile(sorted, 0.99)), max: ms(sorted.at(-1) ?? 0), failures };
    },
  };
}
