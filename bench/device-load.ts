/**
 * Load generators for the device scenarios: many devices at once, each one a sequence of
 * messages where the next depends on the server's answer (what autocannon cannot play).
 * `concurrency` devices are in flight at a time; every message's latency is kept.
 */

export interface DeviceLoadResult {
  devices: number;
  messages: number;
  seconds: number;
  devicesPerSecond: number;
  messagesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /** Devices whose conversation went wrong (an unexpected status or answer), with the first reason. */
  failures: number;
  firstFailure?: string;
}

const percentile = (sorted: number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!);
const round = (n: number) => Math.round(n * 100) / 100;

/** One HTTP exchange of a device; the latency is recorded by the runner. */
export type Send = (path: string, body: string | Buffer, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

/**
 * Plays `play(device, send)` for every device, `concurrency` at a time, against `baseUrl`.
 * `play` throws to report a device whose conversation went wrong.
 */
export async function runDevices<D>(baseUrl: string, devices: D[], concurrency: number, play: (device: D, send: Send) => Promise<void>): Promise<DeviceLoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  const send: Send = async (path, body, headers) => {
    const t = performance.now();
    const res = await fetch(`${baseUrl}${path}`, { method: path.includes('/mdm/apple/') ? 'PUT' : 'POST', body, headers });
    const text = await res.text();
    latencies.push(performance.now() - t);
    return { status: res.status, body: text };
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, devices.length) }, async () => {
      for (let i = next++; i < devices.length; i = next++) {
        try {
          await play(devices[i]!, send);
        } catch (error) {
          failures++;
          firstFailure ??= error instanceof Error ? error.message : String(error);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    devices: devices.length,
    messages: latencies.length,
    seconds: round(seconds),
    devicesPerSecond: Math.round(devices.length / seconds),
    messagesPerSecond: Math.round(latencies.length / seconds),
    p50: round(percentile(sorted, 50)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? 0),
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}
