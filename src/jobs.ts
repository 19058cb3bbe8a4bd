import type { FastifyBaseLogger } from 'fastify';
import type { Container } from './container.ts';

export interface BackgroundJobs {
  stop(): Promise<void>;
}

/** Periodic work of a running server: each job finishes its current run before stop resolves. */
export function startBackgroundJobs(container: Container, log: FastifyBaseLogger): BackgroundJobs {
  const jobs: Array<{ name: string; everyMs: number; run: () => Promise<unknown> }> = [
    { name: 'expiry-sweep', everyMs: container.config.expirySweepSeconds * 1000, run: () => container.tokenLifecycle.sweepExpired() },
    { name: 'rate-limit-sweep', everyMs: 60_000, run: () => container.rateLimits.sweep() },
  ];
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<unknown>>();
  let stopped = false;

  for (const job of jobs) {
    const tick = () => {
      if (stopped) return;
      const run = job.run().catch((err: unknown) => log.warn({ err, job: job.name }, 'background job failed'));
      running.add(run);
      void run.finally(() => running.delete(run));
    };
    timers.push(setInterval(tick, job.everyMs).unref());
  }

  container.outbox.start();
  container.webhookSender.start();
  container.pushSender.start();

  return {
    async stop() {
      stopped = true;
      timers.forEach(clearInterval);
      await container.outbox.stop();
      await container.webhookSender.stop();
      await container.pushSender.stop();
      container.apns.close();
      await Promise.all(running);
      container.mailer.close();
    },
  };
}
