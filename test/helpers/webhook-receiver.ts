import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** When the whole request had arrived (Date.now() in the test process). */
  receivedAt: number;
  /** When the receiver wrote its answer; absent until then. */
  answeredAt?: number;
}

/**
 * What the receiver does with the n-th request (0-based): answer a status (after `delayMs`, a
 * slow receiver), or never answer.
 */
export type Behaviour = (n: number, request: ReceivedWebhook) => { status: number; body?: string; delayMs?: number } | 'hang' | 'stream';

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /** Requests answered 2xx to a sender still connected: what the receiver accepted. */
  accepted: ReceivedWebhook[];
  /** TCP connections accepted: a refused delivery must leave this at 0. */
  connections: number;
  behave(behaviour: Behaviour): void;
  /** Resolves once `count` requests have arrived, or rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  stop(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1, the only kind of address tests send webhooks to. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  let behaviour: Behaviour = () => ({ status: 204 });
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const receiver = {
    received: [] as ReceivedWebhook[],
    accepted: [] as ReceivedWebhook[],
    connections: 0,
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const request: ReceivedWebhook = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() };
      const n = receiver.received.length;
      receiver.received.push(request);
      const answer = behaviour(n, request);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      if (answer === 'stream') {
        // An endless answer: the sender must stop reading at its cap and not wait for the end.
        res.writeHead(200, { 'content-type': 'text/plain' });
        const block = Buffer.alloc(64 * 1024, 'x');
        const pump = () => {
          while (!res.destroyed && res.write(block));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      const respond = () => {
        // A sender that went away while the receiver worked (its end of the connection closed or
        // reset) never learns of the answer: nothing was accepted.
        if (req.socket.destroyed || req.socket.readableEnded) return;
        request.answeredAt = Date.now();
        if (answer.status >= 200 && answer.status < 300) receiver.accepted.push(request);
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  server.on('connection', (socket) => {
    receiver.connections++;
    sockets.add(socket);
    // A sender killed mid-request resets its connections.
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}`,
    port,
    behave(next: Behaviour) {
      behaviour = next;
    },
    async waitFor(count: number, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (receiver.received.length < count) {
        if (Date.now() > until) throw new Error(`received ${receiver.received.length} webhooks, expected ${count}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return receiver.received;
    },
    async stop() {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}
