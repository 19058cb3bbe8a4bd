import { createAuthenticator } from './auth/authenticator.ts';
import { createCredentialCheck } from './auth/credential-check.ts';
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { createStatisticsRefresher } from './db/planner-statistics.ts';
import { mdmUsers } from './db/schema.ts';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from './lib/clock.ts';
import { createEnrollPageService } from './enroll-page/enroll-page.service.ts';
import { createCounterStore } from './limits/counter-store.ts';
import { createEmailLimits } from './limits/email-limits.ts';
import { createCaptureMailer, createSmtpMailer, type Mailer } from './mail/mailer.ts';
import { createOutboxSender } from './mail/outbox-sender.ts';
import { createMetrics } from './metrics/metrics.ts';
import { createConsoleSessionsService } from './console/console-sessions.service.ts';
import { createApiKeysService } from './modules/api-keys/api-keys.service.ts';
import { createEnterprisesService } from './modules/enterprises/enterprises.service.ts';
import { createMdmUsersService } from './modules/mdm-users/mdm-users.service.ts';
import { createTokenLifecycle } from './modules/enrollment-tokens/token-lifecycle.service.ts';
import { createTokenQueries } from './modules/enrollment-tokens/token-queries.service.ts';
import { findTokenForDeviceByLinkSecret } from './modules/enrollment-tokens/token-device-access.ts';
import { createOrganizationsService } from './modules/organizations/organizations.service.ts';
import { stateLiteral } from './devices/device-state.ts';
import { createPoliciesService } from './modules/policies/policies.service.ts';
import { createEndpointCache } from './webhooks/endpoint-cache.ts';
import { createPolicyCache } from './modules/policies/policy-cache.ts';
import { createSegmentsService } from './modules/segments/segments.service.ts';
import { createDashboardService } from './modules/dashboard/dashboard.service.ts';
import { createVppLocationsService } from './modules/vpp-locations/vpp-locations.service.ts';
import { createAppleEnrollment } from './devices/apple-enrollment.service.ts';
import { createAppleLifecycle } from './devices/apple-lifecycle.service.ts';
import { createAppleProfileSync } from './devices/apple-profile-sync.ts';
import { createTokenAssignmentSync } from './devices/token-assignment-sync.ts';
import { createDevicesService } from './devices/devices.service.ts';
import { createWindowsLifecycle } from './devices/windows-lifecycle.service.ts';
import { createCertificateAuthority } from './pki/certificate-authority.ts';
import { createWindowsEnrollmentService } from './protocols/windows/windows-enrollment.service.ts';
import { createWindowsManagementService } from './protocols/windows/windows-management.service.ts';
import { createPushCertificateService } from './modules/apple-push-certificate/push-certificate.service.ts';
import { createCheckInService } from './protocols/apple/checkin.service.ts';
import { createMdmChannelService } from './protocols/apple/mdm-channel.service.ts';
import { createDeviceCommandsService } from './devices/commands/device-commands.service.ts';
import { createProfileService } from './protocols/apple/profile.service.ts';
import { createScepService } from './protocols/apple/scep.service.ts';
import { loadSecretKey, type SecretKey } from './pki/secret-key.ts';
import { systemResolver, type HostResolver } from './webhooks/address-policy.ts';
import { createApnsClient } from './push/apns-client.ts';
import { createPushSender } from './push/push-sender.ts';
import { createPushTargetsRepo } from './devices/commands/push-targets.repo.ts';
import { createWebhookSender } from './webhooks/webhook-sender.ts';
import { createWebhookTransport } from './webhooks/webhook-transport.ts';
import { createWebhooksService } from './webhooks/webhooks.service.ts';

export interface ContainerDeps {
  config: Config;
  database: Database;
  clock: Clock;
  /** Where messages go; by default SMTP_URL's server, else captured in the database. */
  mailer?: Mailer;
  log?: FastifyBaseLogger;
  /** The server key (src/pki/secret-key.ts); by default loaded when the CA is first used. */
  secretKey?: SecretKey;
  /** How webhook hosts are resolved; by default the system resolver. */
  resolveHost?: HostResolver;
  /** Extra trust for APNS_URL's server certificate (the tests' loopback APNs); by default the system's. */
  apnsCa?: string;
}

const silent = { warn: () => {}, error: () => {}, info: () => {} };

/** The one place where services are wired from the external systems they use. */
export function createContainer(deps: ContainerDeps) {
  const { database, clock, config } = deps;
  const mailer = deps.mailer ?? (config.smtpUrl ? createSmtpMailer(config.smtpUrl, config.mailFrom, config.mailConcurrency) : createCaptureMailer(database, config.mailFrom, () => clock.now()));
  // Token views embed policies from a cache that server processes keep while they hear policy changes.
  const policyCache = createPolicyCache({ database });
  // Which webhook endpoints want an organization's events, kept the same way (most have none).
  const webhookEndpoints = createEndpointCache({ database });
  const tokens = createTokenQueries({ database, clock, publicUrl: config.publicUrl, policyCache });
  // The sender is woken by the lifecycle after a commit that queued mail, and reports each
  // delivery back to it: both ends are wired here, so mail/ imports nothing of the module.
  const emailLimits = createEmailLimits({ resendCooldownSeconds: config.emailResendCooldownSeconds, dailyCapPerOrganization: config.emailDailyCapPerOrganization });
  const statistics = createStatisticsRefresher(database.db, deps.log ?? silent);
  const tokenLifecycle = createTokenLifecycle({
    database,
    clock,
    webhookEndpoints: webhookEndpoints.enabled,
    publicUrl: config.publicUrl,
    onEmailQueued: () => outbox.wake(),
    onUsersCreated: (count) => statistics.afterBulkInsert(mdmUsers, count),
    emailLimits,
    // A redeemed token's new assignments or profiles reach its device in the update's transaction.
    onAssignmentsChanged: (tx, organizationId, platform, change) => tokenAssignmentSync.tokenChanged(tx, organizationId, platform, change),
  });
  const outbox = createOutboxSender({
    database,
    clock,
    mailer,
    log: deps.log ?? silent,
    tokens: { read: tokens.forRecipient, prepareDelivery: tokenLifecycle.prepareDelivery },
    maxAttempts: config.mailMaxAttempts,
    retryBaseMs: config.mailRetryBaseMs,
    leaseMs: config.outboxLeaseMs,
    concurrency: config.mailConcurrency,
  });
  // Loaded on first use, once: commands that never touch a secret need no server key.
  let loadedKey = deps.secretKey;
  const secretKey = (): SecretKey => (loadedKey ??= loadSecretKey(config));
  const certificateAuthority = createCertificateAuthority({ database, clock, secretKey });
  const pushCertificates = createPushCertificateService({ database, clock, secretKey });
  // The command queue of every enrolled device: the one writer of device_commands.
  // A command a device answered is a webhook event, written with its completion (the endpoint cache as for tokens).
  const deviceCommands = createDeviceCommandsService({ database, clock, webhookEndpoints: webhookEndpoints.enabled });
  // The devices face the protocols call: they decode and encode, these own the rows and open the transactions.
  const windowsDeviceLifecycle = createWindowsLifecycle({ database, certificateAuthority, commands: deviceCommands });
  const appleDeviceLifecycle = createAppleLifecycle({ database, ca: certificateAuthority, secretKey, commands: deviceCommands });
  const appleProfileSync = createAppleProfileSync({ commands: deviceCommands });
  const tokenAssignmentSync = createTokenAssignmentSync({ commands: deviceCommands, appleProfiles: appleProfileSync });
  const appleDeviceEnrollment = createAppleEnrollment({ database, ca: certificateAuthority });
  const appleDeps = { clock, ca: certificateAuthority };
  const metrics = createMetrics({ database, clock });
  const resolve = deps.resolveHost ?? systemResolver;
  const webhookSender = createWebhookSender({
    database,
    clock,
    log: deps.log ?? silent,
    transport: createWebhookTransport({
      resolve,
      allowPrivate: config.webhookAllowPrivateNetworks,
      timeoutMs: config.webhookTimeoutMs,
      maxResponseBytes: config.webhookMaxResponseBytes,
    }),
    maxAttempts: config.webhookMaxAttempts,
    retryBaseMs: config.webhookRetryBaseMs,
    leaseMs: config.outboxLeaseMs,
    concurrency: config.webhookConcurrency,
    onAttempt: metrics.webhookAttempt,
  });
  // APNs: one pooled HTTP/2 session per organization's certificate; the sender reads devices and
  // certificates through what is handed in here, so push/ imports nothing of devices/ or modules/.
  const apns = createApnsClient({ url: config.apnsUrl, ...(deps.apnsCa ? { ca: deps.apnsCa } : {}) });
  const pushSender = createPushSender({
    database,
    clock,
    log: deps.log ?? silent,
    apns,
    credentials: pushCertificates.clientCredentials,
    targets: {
      find: (organizationId, deviceId) => createPushTargetsRepo(database.db).find(organizationId, deviceId),
    },
    maxAttempts: config.apnsMaxAttempts,
    retryBaseMs: config.apnsRetryBaseMs,
    leaseMs: config.outboxLeaseMs,
    concurrency: config.apnsConcurrency,
    onAttempt: metrics.pushAttempt,
  });
  // Minted keys and session cookies carry a check made with the server key, verified before any lookup.
  const credentialCheck = createCredentialCheck(secretKey);
  const auth = createAuthenticator({ database, clock, check: credentialCheck });
  const apiKeys = createApiKeysService({ database, clock, check: credentialCheck, onRevoked: auth.forget });
  return {
    config: deps.config,
    database,
    clock,
    /** Background ANALYZEs after bulk loads: awaited before the database closes. */
    statistics,
    credentialCheck,
    auth,
    apiKeys,
    consoleSessions: createConsoleSessionsService({ database, clock, auth, check: credentialCheck, callerKey: apiKeys.callerKey }),
    organizations: createOrganizationsService({ database, clock, check: credentialCheck }),
    mdmUsers: createMdmUsersService({ database, clock }),
    policies: createPoliciesService({
      database,
      clock,
      // A policy's new profiles (Apple) or settings (Windows) reach the devices of its tokens in
      // the update's transaction.
      onItemsChanged: async (tx, organizationId, platform, policyId) => {
        if (platform === 'apple') await appleProfileSync.policyChanged(tx, organizationId, policyId);
      },
      onWinSettingsChanged: (tx, org, policyId, changed, now) => deviceCommands.queuePolicyChange(tx, org, policyId, changed, stateLiteral('windows', 'enrolled'), now),
    }),
    policyCache,
    webhookEndpoints,
    vppLocations: createVppLocationsService({ database, clock }),
    segments: createSegmentsService({ database, clock }),
    dashboard: createDashboardService({ database, clock }),
    enterprises: createEnterprisesService({ database }),
    mailer,
    outbox,
    enrollPages: createEnrollPageService({
      readToken: tokens.forRecipient,
      publicUrl: config.publicUrl,
      applePushTopic: pushCertificates.topicOf,
      windowsUsername: async (linkSecret) => (await findTokenForDeviceByLinkSecret(database.db, linkSecret, clock.now()))?.email,
    }),
    tokens,
    tokenLifecycle,
    certificateAuthority,
    windowsEnrollment: createWindowsEnrollmentService({ devices: windowsDeviceLifecycle, clock, certificateAuthority, publicUrl: config.publicUrl }),
    windowsManagement: createWindowsManagementService({
      devices: windowsDeviceLifecycle,
      clock,
      certificateAuthority,
      publicUrl: config.publicUrl,
      allowUnverified: config.mdmAllowUnverifiedSessions,
      commands: deviceCommands,
    }),
    windowsDevices: createDevicesService('windows', { database, clock, certificateAuthority, commands: deviceCommands }),
    deviceCommands,
    pushCertificates,
    appleDevices: createDevicesService('apple', { database, clock, certificateAuthority, commands: deviceCommands }),
    appleProfiles: createProfileService({ ...appleDeps, enrollment: appleDeviceEnrollment, publicUrl: config.publicUrl, pushCertificates }),
    appleScep: createScepService({ ...appleDeps, enrollment: appleDeviceEnrollment }),
    appleCheckIn: createCheckInService({ ...appleDeps, devices: appleDeviceLifecycle, pushCertificates }),
    appleMdm: createMdmChannelService({ ...appleDeps, devices: appleDeviceLifecycle, commands: deviceCommands }),
    webhooks: createWebhooksService({ database, clock, resolve, allowPrivateNetworks: config.webhookAllowPrivateNetworks, onQueued: webhookSender.wake }),
    webhookSender,
    apns,
    pushSender,
    metrics,
    /** Rate-limit counters: in the database on PostgreSQL, so every process shares one limit. */
    rateLimits: createCounterStore(database),
  };
}

export type Container = ReturnType<typeof createContainer>;
