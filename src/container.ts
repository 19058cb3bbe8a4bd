import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './lib/clock.ts';
import { createEnrollPageService } from './enroll-page/enroll-page.service.ts';
import { createCounterStore } from './limits/counter-store.ts';
import { createEmailLimits } from './limits/email-limits.ts';
import { createCaptureMailer, createSmtpMailer, type Mailer } from './mail/mailer.ts';
import { createOutboxSender } from './mail/outbox-sender.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.service.ts';
import { createEnterprisesService } from './modules/enterprises/enterprises.service.ts';
import { createMdmUsersService } from './modules/mdm-users/mdm-users.service.ts';
import { createTokenCreateService } from './modules/enrollment-tokens/token-create.service.ts';
import { createTokensService } from './modules/enrollment-tokens/tokens.service.ts';
import { createOrganizationsService } from './modules/organizations/organizations.service.ts';
import { createPoliciesService } from './modules/policies/policies.service.ts';
import { createSegmentsService } from './modules/segments/segments.service.ts';
import { createVppLocationsService } from './modules/vpp-locations/vpp-locations.service.ts';

export interface ContainerDeps {
  config: Config;
  database: Database;
  clock: Clock;
  /** Where messages go; by default SMTP_URL's server, else captured in the database. */
  mailer?: Mailer;
  log?: FastifyBaseLogger;
}

const silent = { warn: () => {}, error: () => {}, info: () => {} };

/** The one place where services are wired from the external systems they use. */
export function createContainer(deps: ContainerDeps) {
  const { database, clock, config } = deps;
  const mailer = deps.mailer ?? (config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom) : createCaptureMailer(database, config.mailFrom, () => clock.now()));
  const outbox = createOutboxSender({
    database,
    clock,
    mailer,
    log: deps.log ?? silent,
    publicUrl: config.publicUrl,
    maxAttempts: config.mailMaxAttempts,
    retryBaseMs: config.mailRetryBaseMs,
  });
  const emailLimits = createEmailLimits({ resendCooldownSeconds: config.emailResendCooldownSeconds, dailyCapPerOrganization: config.emailDailyCapPerOrganization });
  const tokenDeps = { database, clock, publicUrl: config.publicUrl, onEmailQueued: outbox.wake, emailLimits };
  return {
    config: deps.config,
    database,
    clock,
    apiKeys: createApiKeysService({ database, clock }),
    organizations: createOrganizationsService({ database, clock }),
    mdmUsers: createMdmUsersService({ database, clock }),
    policies: createPoliciesService({ database, clock }),
    vppLocations: createVppLocationsService({ database, clock }),
    segments: createSegmentsService({ database, clock }),
    enterprises: createEnterprisesService({ database }),
    mailer,
    outbox,
    enrollPages: createEnrollPageService({ database, clock, publicUrl: config.publicUrl }),
    /** Rate-limit counters: in the database on PostgreSQL, so every process shares one limit. */
    rateLimits: createCounterStore(database),
    tokens: createTokensService(tokenDeps),
    tokenCreate: createTokenCreateService(tokenDeps),
  };
}

export type Container = ReturnType<typeof createContainer>;
