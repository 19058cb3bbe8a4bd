import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { AddressRefusedError, checkedAddresses, checkLiteralHost, hostOf, type HostResolver } from './address-policy.ts';

export interface TransportOptions {
  resolve: HostResolver;
  allowPrivate: boolean;
  /** The whole attempt: resolving, connecting, sending and reading the answer. */
  timeoutMs: number;
  /** Bytes of the answer read at most; the rest is not waited for. */
  maxResponseBytes: number;
}

export interface AttemptResult {
  ok: boolean;
  /** The endpoint's HTTP status; null when there was no answer. */
  status: number | null;
  error?: string;
  /** The address policy refused the endpoint's address: nothing was sent. */
  refused?: boolean;
}

const USER_AGENT = 'Openroll-Webhooks/1.0';

/** Node's errors can be long or multi-line; the delivery log keeps a short, single-line form. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').slice(0, 300);
}

/**
 * POSTs one signed body. The socket connects only to addresses that passed the address policy:
 * a literal host is checked before the request; a name is resolved by the `lookup` the socket
 * itself calls, which checks every answer and hands back exactly those, so there is no gap
 * between the check and the connection for DNS rebinding to slip into. Redirects are not
 * followed (a 3xx is a failure), so an endpoint cannot bounce a delivery to an internal address.
 */
export function createWebhookTransport(options: TransportOptions) {
  const policy = { resolve: options.resolve, allowPrivate: options.allowPrivate };

  const checkedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    checkedAddresses(hostname, policy).then(
      (addresses) => {
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };

  function send(target: URL, host: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const client = target.protocol === 'https:' ? https : http;
    const signal = AbortSignal.timeout(options.timeoutMs);
    return new Promise<AttemptResult>((resolve) => {
      const request = client.request(
        {
          hostname: host,
          port: target.port || undefined,
          path: `${target.pathname}${target.search}`,
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': USER_AGENT },
          lookup: checkedLookup,
          // A fresh connection per attempt: a pooled socket would skip the lookup and its check.
          agent: false,
          signal,
        },
        (response) => {
          const status = response.statusCode ?? 0;
          const answered = () => resolve(status >= 200 && status < 300 ? { ok: true, status } : { ok: false, status, error: `the endpoint answered HTTP ${status}` });
          let read = 0;
          response.on('data', (chunk: Buffer) => {
            read += chunk.length;
            // The status says enough; a receiver that streams more is not waited for.
            if (read > options.maxResponseBytes) response.destroy();
          });
          response.on('close', answered);
          response.on('error', () => {});
        },
      );
      request.on('error', (error) => {
        if (error instanceof AddressRefusedError) resolve({ ok: false, status: null, error: describe(error), refused: true });
        else resolve({ ok: false, status: null, error: signal.aborted ? `no answer within ${options.timeoutMs} ms` : describe(error) });
      });
      request.end(body);
    });
  }

  return {
    async post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
      let target: URL;
      try {
        target = new URL(url);
      } catch {
        return { ok: false, status: null, error: 'the endpoint URL is not valid' };
      }
      const host = hostOf(target);
      try {
        // Literal addresses never reach the lookup: they are checked here.
        checkLiteralHost(host, options.allowPrivate);
      } catch (error) {
        return { ok: false, status: null, error: describe(error), refused: true };
      }
      return send(target, host, headers, body);
    },
  };
}

export type WebhookTransport = ReturnType<typeof createWebhookTransport>;
