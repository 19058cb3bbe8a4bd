import { randomUUID, webcrypto } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Container } from '../src/container.ts';
import type { Database } from '../src/db/client.ts';
import { policies } from '../src/db/schema.ts';
import { newId } from '../src/lib/ids.ts';
import { POLICY_DETAIL_DEFAULTS } from '../src/modules/policies/policies.views.ts';
import { policyDetails } from '../src/modules/policies/policies.service.ts';
import { ENROLLMENT_QUERIES } from '../src/devices/commands/policy-plan.ts';
import type { LoadedOrg } from './dataset.ts';

/**
 * Enrolled device fleets for the device scenarios (bench/devices.ts), written set-based: the
 * rows an enrollment leaves (the token DONE and bound to its device, the device row, the
 * certificate the organization's CA issued it) and the commands its redemption queued.
 * Enrolling 10,000 devices through SOAP or SCEP would take longer than the benchmark itself;
 * what is measured afterwards goes through the real routes only.
 *
 * Every device has its own certificate, signed by the organization's CA through the product's
 * own `issueClientCertificate` (the register a session's certificate is looked up in); they
 * share one key pair, which nothing checks and which saves 10,000 key generations.
 */

/** The five settings each Windows device has queued: Policy CSP nodes as admins set them. */
export const WINDOWS_SETTINGS = [
  { locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', data: '0' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/Bluetooth/AllowDiscoverableMode', format: 'int', data: '0' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/Education/PrinterNames', format: 'chr', data: 'Hall <1> & 2' },
  { locUri: './Device/Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength', format: 'int', data: '8' },
  { locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'int', data: '1' },
];

export interface WindowsFleetDevice {
  id: string;
  /** The DeviceID the PC sends in every SyncHdr Source. */
  identifier: string;
  certificatePem: string;
}

export interface AppleFleetDevice {
  id: string;
  udid: string;
  certificateDer: Buffer;
  /** The queued commands' ids, in queue order (each report names one). */
  commandIds: string[];
}

export interface Fleet<D> {
  org: LoadedOrg;
  policyId: string;
  devices: D[];
  seconds: number;
}

type Row = Record<string, unknown>;

/** One key for every device certificate (the CA signs each device's certificate separately). */
async function sharedDeviceKey(): Promise<{ spki: Buffer; privateKey: webcrypto.CryptoKey }> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  return { spki: Buffer.from(await webcrypto.subtle.exportKey('spki', keys.publicKey)), privateKey: keys.privateKey };
}

async function insertPolicy(database: Database, org: LoadedOrg, platform: 'windows' | 'apple', name: string, details: Row): Promise<string> {
  const id = newId();
  const now = new Date();
  await database.db.insert(policies).values({ organizationId: org.id, id, platform, name, config: {}, details: { ...POLICY_DETAIL_DEFAULTS[platform], ...details }, version: 0, createdAt: now, updatedAt: now });
  return id;
}

/** DONE tokens, each bound to its device and assigned `policyId`, with the organization's users in turn. */
async function insertTokens(database: Database, org: LoadedOrg, platform: 'windows' | 'apple', policyId: string, pairs: { tokenId: string; deviceId: string }[]) {
  for (let i = 0; i < pairs.length; i += 2_000) {
    const chunk = JSON.stringify(pairs.slice(i, i + 2_000).map((p, k) => ({ ...p, n: (i + k) % org.users })));
    await database.db.execute(
      sql.raw(`insert into enrollment_tokens (id, organization_id, platform, enterprise_id, device_id, mdm_user_id, display_name, tags,
          state, config, type, sub_type, language, send_email, email_text, segment_id, link_secret, enroll_code, policy_assignments,
          policy_ids, vpp_location_id, configuration, profiles, applications, expire_at, done_at, created_at, updated_at)
        select r."tokenId", '${org.id}', '${platform}', (select id from enterprises e where e.organization_id = '${org.id}' and e.platform = '${platform}'),
          r."deviceId", substr(md5('${org.id}' || 'u' || (r.n + 1)), 1, 24), 'Fleet device ' || r.n, array['fleet'], 'DONE', '{}',
          case when '${platform}' = 'windows' then 'enrollment' else 'user' end, 'standard', 'en', false, '', null,
          substr(md5('fs' || r."tokenId") || md5('ft' || r."tokenId"), 1, 43), 'F' || substr(md5('fc' || r."tokenId"), 1, 12),
          jsonb_build_array(jsonb_build_object('policyId', '${policyId}', 'priority', 0)), array['${policyId}'], null, null, '[]', '[]',
          now() + interval '30 days', now(), now(), now()
        from jsonb_to_recordset('${chunk}'::jsonb) as r("tokenId" text, "deviceId" text, n int)`),
    );
  }
}

/** Certificates through the organization's CA, a few hundred per transaction. */
async function issueCertificates(container: Container, org: LoadedOrg, platform: 'windows' | 'apple', spki: Buffer, devices: { deviceId: string; tokenId: string; cn: string }[]) {
  const issued: { serialNumber: string; thumbprint: string; certificateDer: Buffer; certificatePem: string }[] = [];
  for (let i = 0; i < devices.length; i += 250) {
    await container.database.db.transaction(async (tx) => {
      for (const d of devices.slice(i, i + 250)) {
        issued.push(await container.certificateAuthority.issueClientCertificate(tx, org.id, { publicKeySpkiDer: spki, subjectCommonName: d.cn, platform, deviceId: d.deviceId, tokenId: d.tokenId }));
      }
    });
  }
  return issued;
}

/** 32 hex digits, upper case, as the captured PC's DeviceID is. */
const windowsIdentifier = (n: number) => `BENC${n.toString(16).toUpperCase().padStart(8, '0')}${randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase()}`;

/**
 * `count` enrolled Windows PCs in `org`, their tokens assigned one policy with WINDOWS_SETTINGS,
 * and those five settings queued for each (what the redemption queues), in one statement.
 */
export async function seedWindowsFleet(container: Container, org: LoadedOrg, count: number): Promise<Fleet<WindowsFleetDevice>> {
  const started = performance.now();
  const database = container.database;
  const policyId = await insertPolicy(database, org, 'windows', 'Fleet baseline', { settings: policyDetails('windows', { settings: WINDOWS_SETTINGS } as never).settings });
  const rows = Array.from({ length: count }, (_, n) => ({ deviceId: newId(), tokenId: newId(), identifier: windowsIdentifier(n) }));
  await insertTokens(database, org, 'windows', policyId, rows);
  const { spki } = await sharedDeviceKey();
  const issued = await issueCertificates(container, org, 'windows', spki, rows.map((r) => ({ ...r, cn: r.identifier })));
  for (let i = 0; i < rows.length; i += 2_000) {
    const chunk = JSON.stringify(rows.slice(i, i + 2_000).map((r, k) => ({ ...r, serial: issued[i + k]!.serialNumber, thumbprint: issued[i + k]!.thumbprint })));
    await database.db.execute(
      sql.raw(`insert into windows_devices (organization_id, id, token_id, user_email, enroll_code_hash, device_identifier, hw_dev_id, device_name, os_version,
          enrollment_context, certificate_serial, certificate_thumbprint, dev_info, state, enrolled_at, created_at, updated_at)
        select '${org.id}', r."deviceId", r."tokenId", 'fleet-' || r."deviceId" || '@${org.slug}.example', decode(md5(r."tokenId"), 'hex'), r.identifier, null,
          'DESKTOP-' || substr(r.identifier, 5, 8), '10.0.19043.1052', '{}', r.serial, r.thumbprint, '{}', 'enrolled', now(), now(), now()
        from jsonb_to_recordset('${chunk}'::jsonb) as r("deviceId" text, "tokenId" text, identifier text, serial text, thumbprint text)`),
    );
  }
  await queueSeededCommands(database, org, 'windows', policyId, WINDOWS_SETTINGS.map((s) => ({ type: 'Replace', target: s.locUri, payload: { format: s.format, data: s.data } })));
  return {
    org,
    policyId,
    devices: rows.map((r, i) => ({ id: r.deviceId, identifier: r.identifier, certificatePem: issued[i]!.certificatePem })),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The same commands for every enrolled device of `org` on `platform`, in one statement, in the
 * order given (seq follows the insert's order); ids in the ObjectId layout newId() makes.
 */
async function queueSeededCommands(database: Database, org: LoadedOrg, platform: 'windows' | 'apple', policyId: string, commands: { type: string; target: string | null; payload: Row }[]) {
  const table = platform === 'windows' ? 'windows_devices' : 'apple_devices';
  const list = JSON.stringify(commands.map((c, ord) => ({ ...c, ord }))).replaceAll("'", "''");
  await database.db.execute(
    sql.raw(`insert into device_commands (organization_id, id, device_id, platform, type, target, payload, source_token_id, source_policy_id, status, created_at, updated_at)
      select d.organization_id, lpad(to_hex(extract(epoch from now())::bigint), 8, '0') || substr(replace(gen_random_uuid()::text, '-', ''), 1, 16),
        d.id, '${platform}', c.type, c.target, c.payload, d.token_id, '${policyId}', 'queued', now(), now()
      from ${table} d cross join jsonb_to_recordset('${list}'::jsonb) as c(type text, target text, payload jsonb, ord int)
      where d.organization_id = '${org.id}'
      order by d.id, c.ord`),
  );
}

/**
 * `count` enrolled Apple devices in `org` (push token, PushMagic, the topic of the push
 * certificate the scenario installs), their tokens assigned one policy with `profile`, and what
 * a TokenUpdate queues for them: DeviceInformation, then InstallProfile of that profile.
 */
export async function seedAppleFleet(
  container: Container,
  org: LoadedOrg,
  count: number,
  args: { topic: string; profile: { name: string; mobileconfig: string; payloadIdentifier: string } },
): Promise<Fleet<AppleFleetDevice> & { signingKey: webcrypto.CryptoKey }> {
  const started = performance.now();
  const database = container.database;
  const policyId = await insertPolicy(database, org, 'apple', 'Fleet profiles', policyDetails('apple', { profiles: [{ name: args.profile.name, mobileconfig: args.profile.mobileconfig }] } as never));
  const rows = Array.from({ length: count }, () => ({ deviceId: newId(), tokenId: newId(), udid: randomUUID().toUpperCase() }));
  await insertTokens(database, org, 'apple', policyId, rows);
  const { spki, privateKey } = await sharedDeviceKey();
  const issued = await issueCertificates(container, org, 'apple', spki, rows.map((r) => ({ ...r, cn: 'Openroll Apple device' })));
  for (let i = 0; i < rows.length; i += 2_000) {
    const chunk = JSON.stringify(rows.slice(i, i + 2_000).map((r, k) => ({ ...r, thumbprint: issued[i + k]!.thumbprint })));
    await database.db.execute(
      sql.raw(`insert into apple_devices (organization_id, id, token_id, state, udid, serial_number, model, model_name, product_name, os_version, build_version, device_name,
          topic, certificate_thumbprint, push_token, push_magic, authenticated_at, enrolled_at, last_seen_at, created_at, updated_at)
        select '${org.id}', r."deviceId", r."tokenId", 'ENROLLED', r.udid, null, null, 'iPhone', 'iPhone14,2', '17.5', '21F79', null,
          '${args.topic}', r.thumbprint, decode(md5('p' || r.udid) || md5('q' || r.udid), 'hex'), upper(md5('m' || r.udid)), now(), now(), now(), now(), now()
        from jsonb_to_recordset('${chunk}'::jsonb) as r("deviceId" text, "tokenId" text, udid text, thumbprint text)`),
    );
  }
  await queueSeededCommands(database, org, 'apple', policyId, [
    { type: 'DeviceInformation', target: null, payload: { Queries: [...ENROLLMENT_QUERIES] } },
    { type: 'InstallProfile', target: args.profile.payloadIdentifier, payload: { mobileconfig: args.profile.mobileconfig } },
  ]);
  const queued = (await database.db.execute(sql.raw(`select device_id, id from device_commands where organization_id = '${org.id}' and platform = 'apple' order by seq`))) as unknown as {
    rows: { device_id: string; id: string }[];
  };
  const byDevice = new Map<string, string[]>();
  for (const r of queued.rows) byDevice.set(r.device_id, [...(byDevice.get(r.device_id) ?? []), r.id]);
  return {
    org,
    policyId,
    devices: rows.map((r, i) => ({ id: r.deviceId, udid: r.udid, certificateDer: issued[i]!.certificateDer, commandIds: byDevice.get(r.deviceId) ?? [] })),
    signingKey: privateKey,
    seconds: (performance.now() - started) / 1000,
  };
}
