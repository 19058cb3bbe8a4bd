import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

/**
 * At most `perKey` requests of one API key are served at once by this process; the next ones
 * wait their turn in order, without work. One script looping six slow searches used to hold six
 * database connections and most of the event loop, and every other caller (another
 * organization, /healthz) waited behind it. A key whose queue is full gets 429 4029 at once.
 * In-flight work is this process's own, like its connection pool: the bound is per process.
 */
/** Requests of one key that may wait for a slot; past it, 429 at once (memory stays bounded). */
export const KEY_QUEUE_LENGTH = 1_000;

export function registerKeyConcurrency(app: FastifyInstance, options: { perKey: number; queue: number }): void {
  if (options.perKey === 0) return;
  const slots = new Map<string, { active: number; waiting: Array<() => void> }>();
  const holding = new WeakMap<FastifyRequest, string>();

  const release = (request: FastifyRequest) => {
    const keyId = holding.get(request);
    if (keyId === undefined) return;
    holding.delete(request);
    const slot = slots.get(keyId)!;
    const next = slot.waiting.shift();
    if (next) next();
    else if (--slot.active === 0) slots.delete(keyId);
  };

  app.addHook('onRequest', async (request) => {
    const keyId = request.auth?.keyId;
    if (keyId === undefined) return;
    let slot = slots.get(keyId);
    if (!slot) slots.set(keyId, (slot = { active: 0, waiting: [] }));
    holding.set(request, keyId);
    if (slot.active < options.perKey) {
      slot.active++;
      return;
    }
    if (slot.waiting.length >= options.queue) {
      holding.delete(request);
      throw new AppError('TOO_MANY_REQUESTS', { headers: { 'retry-after': '1' } });
    }
    // The slot is handed over by the request that ends (release), so `active` stays as it is.
    await new Promise<void>((resolve) => slot.waiting.push(resolve));
  });
  app.addHook('onResponse', async (request) => release(request));
  app.addHook('onRequestAbort', async (request) => release(request));
}
