import type { SQL } from 'drizzle-orm';
import type { Database, Executor } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { claimDue, heldBy, newLeaseToken, renewLeases, type Lease, type OutboxQueue, type OutboxRow, type OutboxTable } from './outbox-queue.ts';

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What one attempt at a held row came to; `cancel` settles it without retrying (nothing to send). */
export type AttemptResult<D> = { ok: true; detail: D } | { ok: false; error: string; detail: D; cancel?: boolean };

/** How a row is settled after an attempt: the worker decides, the outbox's own `settle` writes it. */
export type Settlement<D> =
  | { state: 'done'; at: Date; detail: D }
  | { state: 'retry'; at: Date; nextAttemptAt: Date; error: string; detail: D }
  | { state: 'failed'; at: Date; error: string; detail: D }
  | { state: 'cancelled'; at: Date; error: string; detail: D };

/** What the wiring sets for every sender alike (container.ts); the rest is each outbox's own. */
export interface SenderSettings {
  database: Database;
  clock: Clock;
  log: Log;
  maxAttempts: number;
  /** First retry delay; each later one doubles, up to an hour. */
  retryBaseMs: number;
  /** How long a claim holds a row unless renewed; live senders renew every third of it. */
  leaseMs?: number;
  /** Attempts in flight at once, and so the most rows this sender holds. */
  concurrency?: number;
}

export interface OutboxWorkerOptions<R extends OutboxRow, D> extends SenderSettings {
  /** Names the outbox in logs: `email`, `webhook`. */
  name: string;
  queue: OutboxQueue<OutboxTable>;
  /**
   * One attempt at a held row. It must call `stillHeld()` right before the send and send
   * nothing when it answers false (another sender holds the row now): it returns 'lost'.
   */
  attempt(row: R, stillHeld: () => Promise<boolean>): Promise<AttemptResult<D> | 'lost'>;
  /**
   * Writes the settlement through `db`, on the row matching `held` only (still pending, still
   * this claim's), with whatever must be recorded with it; returns false when no row matched.
   * One statement where it can: from the receiver's acceptance until the mark reaches the
   * database is the window in which a crash sends the row twice, and a statement of its own goes
   * out in one packet, where BEGIN, the statements and COMMIT wait a round trip each. An outbox
   * that records more than the row opens its own transaction.
   */
  settle(db: Executor, row: R, held: SQL, settlement: Settlement<D>): Promise<boolean>;
}

export interface WorkerReport {
  claimed: number;
  done: number;
  retried: number;
  failed: number;
  cancelled: number;
  /** Rows another sender took before this one sent (not sent) or before it settled (maybe sent twice). */
  lost: number;
  /** Attempts whose bookkeeping failed (the database went away): their rows come back after the lease. */
  errors: number;
}

type Outcome = Settlement<unknown>['state'] | 'lost' | 'error';

const MAX_RETRY_DELAY_MS = 3_600_000;

/** Exponential backoff: base, 2×base, 4×base, ... capped at an hour. */
export function retryDelay(attempts: number, baseMs: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempts - 1));
}

interface Held<R> {
  row: R;
  lease: Lease;
  lost: boolean;
  /** When the database last confirmed the lease (the claim, a renewal), by this sender's clock. */
  confirmedAt: number;
}

/**
 * The one polling outbox worker (mail, webhooks, and the outboxes to come). It claims only what
 * it starts at once (at most `concurrency` rows, so nothing waits in its hands for a lease to run
 * out), renews the leases of what it holds every third of the lease (a heartbeat), checks right
 * before each send that the row is still its own, and settles each attempt through the claim's
 * token: delivered, retried with exponential backoff, failed after `maxAttempts`, or cancelled.
 * A process that dies leaves its rows to the others once its short lease runs out.
 *
 * The guarantee: each row is sent once, except that a crash (or a lease lost during a send)
 * between the receiver's acceptance and the settlement's commit can send it twice.
 */
export function createOutboxWorker<R extends OutboxRow, D>(options: OutboxWorkerOptions<R, D>) {
  const { database, clock, log, queue, name } = options;
  const leaseMs = options.leaseMs ?? 10_000;
  const concurrency = options.concurrency ?? 5;
  const db = database.db;
  const held = new Map<string, Held<R>>();
  const keyOf = (row: { organizationId: string; id: string }) => `${row.organizationId}:${row.id}`;
  const leaseEnd = () => new Date(clock.now().getTime() + leaseMs);

  async function claim(limit: number): Promise<R[]> {
    const token = newLeaseToken();
    const rows = (await claimDue(db, queue, clock.now(), limit, token, leaseMs)) as unknown as R[];
    const confirmedAt = clock.now().getTime();
    for (const row of rows) held.set(keyOf(row), { row, lease: { organizationId: row.organizationId, id: row.id, token }, lost: false, confirmedAt });
    heartbeatWhileHeld();
    return rows;
  }

  let renewing = false;
  async function heartbeat(): Promise<void> {
    const current = [...held.values()].filter((h) => !h.lost);
    if (current.length === 0 || renewing) return;
    renewing = true;
    try {
      const renewedAt = clock.now().getTime();
      const kept = await renewLeases(db, queue, current.map((h) => h.lease), leaseEnd());
      for (const h of current) {
        if (kept.has(keyOf(h.row))) h.confirmedAt = renewedAt;
        else if (held.get(keyOf(h.row)) === h) h.lost = true;
      }
    } catch (error) {
      log.warn({ err: error }, `${name} outbox lease renewal failed`);
    } finally {
      renewing = false;
    }
  }
  // Runs only while this sender holds something.
  let heartbeatTimer: NodeJS.Timeout | undefined;
  const heartbeatWhileHeld = () => {
    if (held.size > 0 && !heartbeatTimer) {
      heartbeatTimer = setInterval(() => void heartbeat(), Math.max(100, Math.floor(leaseMs / 3)));
      heartbeatTimer.unref();
    } else if (held.size === 0 && heartbeatTimer) {
      clearInterval(heartbeatTimer);
      heartbeatTimer = undefined;
    }
  };

  function settlementOf(row: R, result: AttemptResult<D>, at: Date): Settlement<D> {
    if (result.ok) return { state: 'done', at, detail: result.detail };
    const { error, detail } = result;
    if (result.cancel) return { state: 'cancelled', at, error, detail };
    if (row.attempts >= options.maxAttempts) return { state: 'failed', at, error, detail };
    return { state: 'retry', at, error, detail, nextAttemptAt: new Date(at.getTime() + retryDelay(row.attempts, options.retryBaseMs)) };
  }

  async function attemptHeld(row: R): Promise<Outcome> {
    const entry = held.get(keyOf(row))!;
    const ids = { [`${name}Id`]: row.id };
    try {
      const stillHeld = async (): Promise<boolean> => {
        if (entry.lost) return false;
        // Confirmed a moment ago (most sends start right after their claim): no other claim can
        // have taken it since, short of clocks apart by most of a lease.
        if (clock.now().getTime() - entry.confirmedAt < leaseMs / 4) return true;
        const kept = await renewLeases(db, queue, [entry.lease], leaseEnd());
        entry.lost = !kept.has(keyOf(row));
        if (!entry.lost) entry.confirmedAt = clock.now().getTime();
        return !entry.lost;
      };
      const result = await options.attempt(row, stillHeld);
      if (result === 'lost') {
        log.warn(ids, `${name} not sent: its lease ran out and another sender holds it`);
        return 'lost';
      }
      const settlement = settlementOf(row, result, clock.now());
      const settled = await options.settle(db, row, heldBy(queue, entry.lease), settlement);
      if (!settled) {
        log.warn(ids, `${name} lease lost during the attempt: another sender may send it again`);
        return 'lost';
      }
      return settlement.state;
    } catch (error) {
      // The row stays leased, and is no longer renewed: it comes back after the lease.
      log.error({ err: error, ...ids }, `${name} bookkeeping failed`);
      return 'error';
    } finally {
      held.delete(keyOf(row));
      heartbeatWhileHeld();
    }
  }

  function tally(claimed: number, outcomes: Outcome[]): WorkerReport {
    const report: WorkerReport = { claimed, done: 0, retried: 0, failed: 0, cancelled: 0, lost: 0, errors: 0 };
    for (const o of outcomes) {
      if (o === 'retry') report.retried++;
      else if (o === 'error') report.errors++;
      else report[o]++;
    }
    return report;
  }

  let stopped = true;
  let running: Promise<void> | undefined;
  let wakeRequested = false;
  let signal: (() => void) | undefined;
  const notify = () => signal?.();

  /**
   * Keeps up to `concurrency` attempts in flight: claims as many rows as slots are free, again
   * once a quarter of the slots freed while the last claim found all it asked for; once the
   * queue is drained, again on wake() or after pollMs.
   */
  async function loop(pollMs: number): Promise<void> {
    const minClaim = Math.max(1, Math.ceil(concurrency / 4));
    const active = new Set<Promise<unknown>>();
    let drained = false;
    let pollAt = 0;
    while (!stopped) {
      if (wakeRequested || (drained && Date.now() >= pollAt)) {
        wakeRequested = false;
        drained = false;
      }
      const free = concurrency - active.size;
      // A claim for every freed slot would be a statement per row: wait for a quarter of them.
      if (free > 0 && !drained && (free >= minClaim || active.size === 0)) {
        let rows: R[] = [];
        try {
          rows = await claim(free);
        } catch (error) {
          log.warn({ err: error }, `${name} outbox claim failed`);
        }
        for (const row of rows) {
          const run: Promise<unknown> = attemptHeld(row).finally(() => {
            active.delete(run);
            notify();
          });
          active.add(run);
        }
        if (rows.length < free) {
          drained = true;
          pollAt = Date.now() + pollMs;
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = drained ? setTimeout(resolve, Math.max(0, pollAt - Date.now())) : undefined;
        signal = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      signal = undefined;
    }
    await Promise.all(active);
  }

  return {
    /** One claim (as many rows as it sends at once) and its attempts; for tests and tools. */
    async runOnce(): Promise<WorkerReport> {
      const rows = await claim(concurrency);
      return tally(rows.length, await Promise.all(rows.map(attemptHeld)));
    },
    /** Renews the leases of the rows in hand now (the timer does it every third of the lease). */
    heartbeat,
    /** Starts working in the background; new rows are found on wake() or within pollMs. */
    start(pollMs = 1_000): void {
      if (!stopped) return;
      stopped = false;
      running = loop(pollMs);
    },
    /** Called after a commit that queued rows, so they go out without waiting for the poll. */
    wake(): void {
      wakeRequested = true;
      notify();
    },
    /** Lets the attempts in flight finish and settle, then stops. */
    async stop(): Promise<void> {
      stopped = true;
      notify();
      await running;
    },
  };
}

export type OutboxWorker = ReturnType<typeof createOutboxWorker>;

/** A sender's face: the worker's controls, its report in the outbox's own words. */
export function senderFace<T>(worker: OutboxWorker, report: (r: WorkerReport) => T) {
  return {
    /** One claim and its attempts; returns what happened, and how many were claimed. */
    runOnce: async (): Promise<T> => report(await worker.runOnce()),
    start: worker.start,
    wake: worker.wake,
    stop: worker.stop,
    heartbeat: worker.heartbeat,
  };
}
