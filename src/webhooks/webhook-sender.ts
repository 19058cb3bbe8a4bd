import type { Executor } from '../db/client.ts';
import { createOutboxWorker, senderFace, type SenderSettings, type Settlement, type WorkerReport } from '../outbox/outbox-worker.ts';
import { signedHeaders } from './webhook-signing.ts';
import type { WebhookTransport } from './webhook-transport.ts';
import { createWebhooksRepo, settleDelivery, webhookQueue, type WebhookDeliveryRecord } from './webhooks.repo.ts';

export interface WebhookSenderOptions extends SenderSettings {
  transport: WebhookTransport;
  /** Called with each attempt's outcome (the metrics count them). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed' | 'refused') => void;
}

/** `delivered` is the worker's `done`; a webhook is never cancelled. */
export type WebhookReport = Omit<WorkerReport, 'done' | 'cancelled'> & { delivered: number };

/** The Standard Webhooks message id: the same on every attempt and on a redelivery. */
export function messageIdOf(deliveryId: string): string {
  return `msg_${deliveryId}`;
}

/** What the endpoint answered: the log keeps it on every outcome. */
interface WebhookDetail {
  status: number | null;
  refused?: boolean;
}

/**
 * Delivers the webhook outbox after commit through the shared worker (src/outbox/): POSTs each
 * signed body, and records the outcome on the delivery: delivered on a 2xx, else retried with
 * exponential backoff until maxAttempts, then failed. Everything it needs is in the database, so
 * retries survive restarts, and several processes share the work through short leases.
 */
export function createWebhookSender(options: WebhookSenderOptions) {
  const { clock, transport, log } = options;
  const endpoints = createWebhooksRepo(options.database.db);

  // One UPDATE, outside any transaction: the mark leaves in one packet after the 2xx.
  async function settle(db: Executor, delivery: WebhookDeliveryRecord, held: Parameters<typeof settleDelivery>[1], s: Settlement<WebhookDetail>): Promise<boolean> {
    const common = { lastAttemptAt: s.at, responseStatus: s.detail.status, updatedAt: s.at };
    const set =
      s.state === 'done'
        ? { ...common, status: 'delivered', deliveredAt: s.at, lastError: null }
        : s.state === 'retry'
          ? { ...common, lastError: s.error, nextAttemptAt: s.nextAttemptAt }
          : { ...common, status: 'failed', lastError: s.error };
    if (!(await settleDelivery(db, held, set))) return false;
    if (s.state === 'done') {
      options.onAttempt?.('delivered');
      return true;
    }
    options.onAttempt?.(s.detail.refused ? 'refused' : s.state === 'retry' ? 'retry' : 'failed');
    // No URL in the log: it may carry a secret in its path or query.
    log.warn({ deliveryId: delivery.id, webhookId: delivery.endpointId, attempts: delivery.attempts, status: s.detail.status, error: s.error }, 'webhook delivery failed');
    return true;
  }

  // Deliveries are written inside other transactions, which cannot wake a sender of another
  // process: new ones are found by polling, or on wake() after a redelivery was queued.
  const worker = createOutboxWorker<WebhookDeliveryRecord, WebhookDetail>({
    ...options,
    name: 'webhook',
    queue: webhookQueue,
    concurrency: options.concurrency ?? 8,
    async attempt(delivery, stillHeld) {
      const endpoint = await endpoints.get(delivery.organizationId, delivery.endpointId);
      if (!endpoint) return { ok: false, error: 'the endpoint was deleted', detail: { status: null } };
      const messageId = messageIdOf(delivery.id);
      const headers = signedHeaders(endpoint.secret, messageId, clock.now(), delivery.payload);
      if (!(await stillHeld())) return 'lost';
      const result = await transport.post(endpoint.url, { ...headers }, delivery.payload);
      if (result.ok) return { ok: true, detail: { status: result.status } };
      return { ok: false, error: result.error ?? 'failed', detail: { status: result.status, refused: result.refused } };
    },
    settle,
  });

  return senderFace(worker, ({ done, cancelled: _cancelled, ...rest }): WebhookReport => ({ ...rest, delivered: done }));
}

export type WebhookSender = ReturnType<typeof createWebhookSender>;
