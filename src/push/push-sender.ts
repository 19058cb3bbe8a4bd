import type { Executor } from '../db/client.ts';
import { createOutboxWorker, senderFace, type SenderSettings, type Settlement, type WorkerReport } from '../outbox/outbox-worker.ts';
import { redactPushToken, type ApnsClient, type ApnsPush, type PushCredentials } from './apns-client.ts';
import { pushQueue, settlePush, type PushRecord } from './push-outbox.repo.ts';

/** What the sender needs of a device, handed in by container.ts (push/ imports nothing of devices/). */
export interface PushTargets {
  /** The device's push token and PushMagic, or undefined when it cannot be pushed (gone, no token, token refused). */
  find(organizationId: string, deviceId: string): Promise<ApnsPush | undefined>;
}

export interface PushSenderOptions extends SenderSettings {
  apns: ApnsClient;
  targets: PushTargets;
  /** The organization's push certificate and key, or undefined while it has none. */
  credentials(organizationId: string): Promise<PushCredentials | undefined>;
  onAttempt?: (outcome: 'sent' | 'retry' | 'failed' | 'invalid-token') => void;
}

/** `sent` is the worker's `done`. */
export type PushReport = Omit<WorkerReport, 'done'> & { sent: number };

interface PushDetail {
  status: number | null;
  apnsId?: string | null;
  /** The token APNs refused for good (410 Unregistered, 400 BadDeviceToken). */
  refusedToken?: Buffer;
  /** Nothing was sent: no target or no certificate any more. */
  nothingToSend?: boolean;
}

/** Apple: 429 and 5xx are worth retrying; 410, and 400 BadDeviceToken, mean the token is dead. */
function isRetryable(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}
function refusesToken(status: number, reason: string | null): boolean {
  return status === 410 || (status === 400 && reason === 'BadDeviceToken');
}

/**
 * Sends the push outbox (apple_push_outbox) through the shared worker (src/outbox/): each push
 * is read at send time (the device's current token and PushMagic, the organization's current
 * certificate), POSTed over the pooled HTTP/2 session, and settled: sent; retried with backoff on
 * 429, 5xx and network errors; failed for good on other 4xx, with the token marked invalid on
 * 410 and BadDeviceToken; cancelled when there is nothing to push to. Never logs a full push
 * token, nor PushMagic.
 */
export function createPushSender(options: PushSenderOptions) {
  const { apns, targets, log } = options;

  async function settle(tx: Executor, push: PushRecord, held: Parameters<typeof settlePush>[1], s: Settlement<PushDetail>): Promise<boolean> {
    const common = { lastAttemptAt: s.at, responseStatus: s.detail.status, updatedAt: s.at };
    const set =
      s.state === 'done'
        ? { ...common, status: 'sent', sentAt: s.at, apnsId: s.detail.apnsId ?? null, lastError: null }
        : s.state === 'retry'
          ? { ...common, lastError: s.error, nextAttemptAt: s.nextAttemptAt }
          : { ...common, status: s.state === 'cancelled' && s.detail.nothingToSend ? 'cancelled' : 'failed', lastError: s.error, refusedToken: s.detail.refusedToken ?? null };
    // The refused token, kept on the push, is what makes the device unpushable (devices/commands/push-targets.repo.ts).
    if (!(await settlePush(tx, held, set))) return false;
    const refused = s.detail.refusedToken;
    options.onAttempt?.(s.state === 'done' ? 'sent' : refused ? 'invalid-token' : s.state === 'retry' ? 'retry' : 'failed');
    if (s.state !== 'done' && !s.detail.nothingToSend) {
      log.warn(
        { pushId: push.id, deviceId: push.deviceId, attempts: push.attempts, status: s.detail.status, error: s.error, ...(refused ? { pushToken: redactPushToken(refused) } : {}) },
        'APNs push failed',
      );
    }
    return true;
  }

  // Pushes are queued inside other transactions: new ones are found by polling, or on wake().
  const worker = createOutboxWorker<PushRecord, PushDetail>({
    ...options,
    name: 'push',
    queue: pushQueue,
    concurrency: options.concurrency ?? 20,
    async attempt(push, stillHeld) {
      const [target, credentials] = await Promise.all([targets.find(push.organizationId, push.deviceId), options.credentials(push.organizationId)]);
      if (!target) return { ok: false, cancel: true, error: 'the device has no push token to push to', detail: { status: null, nothingToSend: true } };
      if (!credentials) return { ok: false, cancel: true, error: 'the organization has no push certificate', detail: { status: null, nothingToSend: true } };
      if (!(await stillHeld())) return 'lost';
      const result = await apns.send(push.organizationId, credentials, target);
      if (result.status === 200) return { ok: true, detail: { status: 200, apnsId: result.apnsId } };
      const error = result.reason ?? `APNs answered ${result.status}`;
      const detail: PushDetail = { status: result.status === 0 ? null : result.status };
      if (isRetryable(result.status)) return { ok: false, error, detail };
      // Any other answer will not change on a retry: settled now (the worker's `cancel`), as failed.
      return { ok: false, cancel: true, error, detail: refusesToken(result.status, result.reason) ? { ...detail, refusedToken: target.pushToken } : detail };
    },
    settle,
  });

  return senderFace(worker, ({ done, ...rest }): PushReport => ({ ...rest, sent: done }));
}

export type PushSender = ReturnType<typeof createPushSender>;
