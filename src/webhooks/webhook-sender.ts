import type { FastifyBaseLogger } from 'fastify';
import type { Database } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { signedHeaders } from './webhook-signing.ts';
import type { AttemptResult, WebhookTransport } from './webhook-transport.ts';
import { claimDueDeliveries, endpointsOf, finishDelivery, type WebhookDeliveryRecord, type WebhookEndpointRecord } from './webhooks.repo.ts';

export interface WebhookSenderOptions {
  database: Database;
  clock: Clock;
  transport: WebhookTransport;
  log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>;
  maxAttempts: number;
  retryBaseMs: number;
  batch?: number;
  /** How long a claimed delivery stays with this sender before another may retry it. */
  leaseMs?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Called with each attempt's outcome (the metrics count them). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed' | 'refused') => void;
}

export interface WebhookReport {
  delivered: number;
  retried: number;
  failed: number;
}

const MAX_RETRY_DELAY_MS = 3_600_000;

/** Exponential backoff: base, 2×base, 4×base, ... capped at an hour. */
export function webhookRetryDelay(attempts: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

/** The Standard Webhooks message id: the same on every attempt and on a redelivery. */
export function messageIdOf(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

/**
 * Delivers the webhook outbox after commit: claims due deliveries (several processes share the
 * work through leases and SKIP LOCKED), POSTs each signed body, and records the outcome on the
 * delivery: delivered on a 2xx, else retried with exponential backoff until maxAttempts, then
 * failed. Everything it needs is in the database, so retries survive restarts.
 */
export function createWebhookSender(options: WebhookSenderOptions) {
  const { database, clock, transport, log } = options;
  const db = database.db;
  const batch = options.batch ?? 50;
  const leaseMs = options.leaseMs ?? 120_000;
  const concurrency = options.concurrency ?? 8;

  async function record(delivery: WebhookDeliveryRecord, result: AttemptResult, report: WebhookReport): Promise<void> {
    const done = clock.now();
    const common = { lastAttemptAt: done, responseStatus: result.status, updatedAt: done };
    if (result.ok) {
      await finishDelivery(db, delivery.organizationId, delivery.id, { ...common, status: 'delivered', deliveredAt: done, lastError: null });
      report.delivered++;
      options.onAttempt?.('delivered');
      return;
    }
    const lastError = result.error ?? 'failed';
    if (delivery.attempts >= options.maxAttempts) {
      await finishDelivery(db, delivery.organizationId, delivery.id, { ...common, status: 'failed', lastError });
      report.failed++;
    } else {
      const nextAttemptAt = new Date(done.getTime() + webhookRetryDelay(delivery.attempts, options.retryBaseMs));
      await finishDelivery(db, delivery.organizationId, delivery.id, { ...common, lastError, nextAttemptAt });
      report.retried++;
    }
    options.onAttempt?.(result.refused ? 'refused' : delivery.attempts >= options.maxAttempts ? 'failed' : 'retry');
    // No URL in the log: it may carry a secret in its path or query.
    log.warn({ deliveryId: delivery.id, webhookId: delivery.endpointId, attempts: delivery.attempts, status: result.status, error: lastError }, 'webhook delivery failed');
  }

  async function deliver(delivery: WebhookDeliveryRecord, endpoint: WebhookEndpointRecord | undefined, report: WebhookReport): Promise<void> {
    if (!endpoint) {
      await record(delivery, { ok: false, status: null, error: 'the endpoint was deleted' }, report);
      return;
    }
    const messageId = messageIdOf(delivery.id);
    const headers = signedHeaders(endpoint.secret, messageId, clock.now(), delivery.payload);
    const result = await transport.post(endpoint.url, { ...headers }, delivery.payload);
    await record(delivery, result, report);
  }

  /** One pass over the due deliveries; returns what happened, and how many were claimed. */
  async function runOnce(): Promise<WebhookReport & { claimed: number }> {
    const claimed = await db.transaction((tx) => claimDueDeliveries(tx, clock.now(), batch, leaseMs));
    const report: WebhookReport = { delivered: 0, retried: 0, failed: 0 };
    if (claimed.length === 0) return { ...report, claimed: 0 };
    const endpoints = await endpointsOf(db, claimed);
    let next = 0;
    const worker = async () => {
      while (next < claimed.length) {
        const delivery = claimed[next++]!;
        // A failure here (the database went away) leaves the delivery leased: it is retried later.
        await deliver(delivery, endpoints.get(`${delivery.organizationId}:${delivery.endpointId}`), report).catch((error: unknown) =>
          log.error({ err: error, deliveryId: delivery.id }, 'webhook bookkeeping failed'),
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    return { ...report, claimed: claimed.length };
  }

  let running: Promise<void> | undefined;
  let stopped = true;
  let wakeUp: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  async function loop(pollMs: number): Promise<void> {
    while (!stopped) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).claimed;
      } catch (error) {
        log.warn({ err: error }, 'webhook outbox pass failed');
      }
      if (stopped) break;
      // Work was found: look again at once, also for the events that waited behind it.
      if (claimed > 0) continue;
      await new Promise<void>((resolve) => {
        wakeUp = resolve;
        timer = setTimeout(resolve, pollMs);
      });
      clearTimeout(timer);
      wakeUp = undefined;
    }
  }

  return {
    runOnce,
    /**
     * Starts delivering in the background. Deliveries are written inside other transactions,
     * which cannot wake a sender of another process, so new ones are found by polling.
     */
    start(pollMs = 1_000): void {
      if (!stopped) return;
      stopped = false;
      running = loop(pollMs);
    },
    /** A pass now, e.g. after a redelivery was queued. */
    wake(): void {
      wakeUp?.();
    },
    async stop(): Promise<void> {
      stopped = true;
      wakeUp?.();
      await running;
    },
  };
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
