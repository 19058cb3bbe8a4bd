import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { TOKEN_STATES } from '../modules/enrollment-tokens/token-state.ts';
import { PLATFORMS } from '../platforms/platforms.ts';
import { outboxFigures, tokenStateCounts } from './metrics.repo.ts';

export type WebhookAttemptOutcome = 'delivered' | 'retry' | 'failed' | 'refused';
export type PushAttemptOutcome = 'sent' | 'retry' | 'failed' | 'invalid-token';

/**
 * The Prometheus metrics of one server process, in a registry of its own (tests build many apps
 * in one process). Counters and histograms are this process's, as Prometheus expects of each
 * instance; the gauges of tokens and outboxes are read from the database at each scrape, so
 * every process reports the same, current figures.
 */
export function createMetrics(deps: { database: Database; clock: Clock }) {
  const registry = new Registry();
  const { db } = deps.database;
  const scrapeErrors = new Counter({
    name: 'openroll_metrics_scrape_errors_total',
    help: 'Scrapes in which a database-backed figure could not be read (it is left out of that scrape)',
    labelNames: ['figure'],
    registers: [registry],
  });
  /** A figure that fails to read is left out, not the whole scrape. */
  const guarded = (figure: string, read: () => Promise<void>) => async () => {
    try {
      await read();
    } catch {
      scrapeErrors.inc({ figure });
    }
  };

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer HTTP requests, by route pattern and status',
    labelNames: ['method', 'route', 'status_code'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const tokens = new Gauge({
    name: 'openroll_enrollment_tokens',
    help: 'Enrollment tokens of all organizations by platform and state (PENDING past expireAt counts as EXPIRED)',
    labelNames: ['platform', 'state'],
    registers: [registry],
    collect: guarded('tokens', async () => {
      const counts = await tokenStateCounts(db, deps.clock.now());
      for (const platform of PLATFORMS) for (const state of TOKEN_STATES) tokens.set({ platform, state }, 0);
      for (const c of counts) tokens.set({ platform: c.platform, state: c.state }, c.count);
    }),
  });

  // One query fills the three outbox gauges. The registry collects every metric at once, so the
  // three share the scrape's one read (made by whichever asks first) and all show its figures.
  let outboxRead: Promise<void> | undefined;
  const readOutboxes = guarded('outbox', async () => {
    const figures = await outboxFigures(db, deps.clock.now());
    for (const [outbox, f] of Object.entries(figures)) {
      outboxPending.set({ outbox }, f.pending);
      outboxFailed.set({ outbox }, f.failed);
      outboxOldest.set({ outbox }, f.oldestPendingSeconds);
    }
  });
  const collectOutboxes = () => (outboxRead ??= readOutboxes().finally(() => (outboxRead = undefined)));
  const outboxPending = new Gauge({ name: 'openroll_outbox_pending', help: 'Messages waiting to be delivered (emails, webhook deliveries)', labelNames: ['outbox'], registers: [registry], collect: collectOutboxes });
  const outboxFailed = new Gauge({ name: 'openroll_outbox_failed', help: 'Messages that used up their attempts and were given up', labelNames: ['outbox'], registers: [registry], collect: collectOutboxes });
  const outboxOldest = new Gauge({ name: 'openroll_outbox_oldest_pending_age_seconds', help: 'Age of the oldest message still waiting; 0 when none is', labelNames: ['outbox'], registers: [registry], collect: collectOutboxes });

  const webhookAttempts = new Counter({
    name: 'openroll_webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by this process, by outcome (refused: the address policy stopped it before connecting)',
    labelNames: ['outcome'],
    registers: [registry],
  });

  const pushAttempts = new Counter({
    name: 'openroll_apns_push_attempts_total',
    help: 'APNs push attempts by this process, by outcome (invalid-token: APNs refused the device token for good)',
    labelNames: ['outcome'],
    registers: [registry],
  });

  if (deps.database.poolStats) {
    const stats = deps.database.poolStats;
    new Gauge({
      name: 'openroll_db_pool_connections',
      help: 'PostgreSQL connections of this process by state, and queries waiting for one',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = stats();
        this.set({ state: 'total' }, s.total);
        this.set({ state: 'idle' }, s.idle);
        this.set({ state: 'busy' }, s.total - s.idle);
        this.set({ state: 'waiting' }, s.waiting);
      },
    });
    new Gauge({ name: 'openroll_db_pool_max', help: 'Size of the PostgreSQL pool (DATABASE_POOL_SIZE)', registers: [registry] }).set(stats().max);
  }

  let processMetrics = false;
  return {
    registry,
    httpDuration,
    webhookAttempt(outcome: WebhookAttemptOutcome): void {
      webhookAttempts.inc({ outcome });
    },
    pushAttempt(outcome: PushAttemptOutcome): void {
      pushAttempts.inc({ outcome });
    },
    /** CPU, memory, handles, GC and event-loop lag: started once, by the server's app. */
    collectProcessMetrics(): void {
      if (processMetrics) return;
      processMetrics = true;
      collectDefaultMetrics({ register: registry });
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
