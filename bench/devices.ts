/**
 * The device scenarios (issue 24 item 6, issue 25 item 7): enrolled fleets (device-fleet.ts)
 * driven through the real device routes with real messages.
 *
 * - Windows: each PC runs one OMA-DM session from the captured Windows 10 PC's first message
 *   (Fleet's dump, its DeviceID and SessionID replaced), gets its 5 queued commands, answers a
 *   Status 200 for each, and goes on until the server's answer carries no command. Its
 *   certificate comes as a TLS-terminating proxy on loopback forwards it (MDM_CLIENT_CERT_HEADER),
 *   as production runs.
 * - The fan-out: one PUT of the Windows policy that changes one setting, which queues it for
 *   every enrolled PC in one statement; timed.
 * - Apple: the policy's PUT that adds a profile (queued for every device, with a push each),
 *   the pushes to a loopback APNs (HTTP/2, TLS, client certificate required), then each device
 *   Idle -> command -> Acknowledged until the empty answer, for its 3 commands; every report
 *   signed (Mdm-Signature) by the device's own identity, signed before the clock starts: the
 *   device's signing is the device's CPU, not the server's.
 */
import { webcrypto } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { build as buildPlist } from 'plist';
import { startLoopbackApns, type LoopbackApns } from '../test/helpers/apns-server.ts';
import { fleetCapturedRequest, FLEET_DEVICE_ID } from '../test/helpers/fleet-windows-dump.ts';
import { makePushCertificate, TestAppleDevice } from '../test/protocols/apple/apple-device.ts';
import type { AppleFleetDevice, Fleet, WindowsFleetDevice } from './device-fleet.ts';
import { WINDOWS_SETTINGS } from './device-fleet.ts';
import { runDevices, type DeviceLoadResult } from './device-load.ts';
import type { BenchServer } from './server-process.ts';

export interface DeviceCounts {
  windows: number;
  apple: number;
}

/**
 * Issue 24 and 25: 10,000 devices on PostgreSQL, 1,000 on PGlite. A quick run (CI) stays within
 * a few seconds per scenario: an Apple device makes 4 signed reports, a Windows PC 2 messages.
 */
export function deviceCounts(kind: 'postgres' | 'pglite', quick: boolean): DeviceCounts {
  if (quick) return { windows: 60, apple: 20 };
  return kind === 'postgres' ? { windows: 10_000, apple: 10_000 } : { windows: 1_000, apple: 1_000 };
}

export interface DevicesResult {
  windowsSessions: DeviceLoadResult & { ratio: number; seedSeconds: number; memoryPeakMb: number; commandsPerSession: number };
  windowsFanOut: { devices: number; ms: number; status: number; queuedOnSample: boolean };
  appleFanOut: { devices: number; ms: number; status: number };
  applePushes: { pushes: number; seconds: number; pushesPerSecond: number; sessions: number; topicOk: boolean };
  appleLoop: DeviceLoadResult & { ratio: number; seedSeconds: number; memoryPeakMb: number; signingSeconds: number };
}

const FIXTURES = new URL('../test/fixtures/apple/', import.meta.url);
const capture = (name: string) => readFileSync(new URL(name, FIXTURES), 'utf8');
/** Apple Configurator's layout (test/fixtures/apple/README.md, `profiles/`). */
export const WIFI = { name: 'office Wi-Fi', mobileconfig: capture('profiles/wifi.mobileconfig'), payloadIdentifier: 'Admins-MacBook-Pro.E4A3B1C2-6D7E-4F80-9A1B-2C3D4E5F6071' };
const RESTRICTIONS = { name: 'restrictions', mobileconfig: capture('profiles/restrictions.mobileconfig') };
const IDLE = capture('idle.plist');
const MDM_TYPE = 'application/x-apple-aspen-mdm';
const SYNCML = { 'content-type': 'application/vnd.syncml.dm+xml' };
export const CERT_HEADER = 'x-ssl-client-cert';

/** What the server process needs for the device scenarios: the proxy's certificate header, the loopback APNs. */
export async function deviceServerSetup(): Promise<{ env: Record<string, string>; apns: LoopbackApns; push: Awaited<ReturnType<typeof makePushCertificate>>; close: () => Promise<void> }> {
  const apns = await startLoopbackApns();
  const caFile = join(os.tmpdir(), `openroll-bench-apns-ca-${process.pid}.pem`);
  writeFileSync(caFile, apns.ca);
  const push = await makePushCertificate();
  return {
    env: { MDM_CLIENT_CERT_HEADER: CERT_HEADER, TRUST_PROXY: '127.0.0.1', APNS_URL: apns.url, NODE_EXTRA_CA_CERTS: caFile },
    apns,
    push,
    close: () => apns.close(),
  };
}

// ---- Windows ----

const CAPTURED_FIRST = fleetCapturedRequest('/ManagementServer/MDM.svc').body;
export const COMMAND = /<(Replace|Add|Delete|Exec|Get)><CmdID>(\d+)<\/CmdID>/g;

/** The captured PC's first message of a session, as this PC (its DeviceID) in session `sessionId`. */
export function firstMessage(identifier: string, sessionId: string): string {
  return CAPTURED_FIRST.replaceAll(FLEET_DEVICE_ID, identifier).replace('<SessionID>1</SessionID>', `<SessionID>${sessionId}</SessionID>`);
}

/** The PC's next message (MS-MDM section 4, package 3): a Status for the header and 200 for each command. */
export function statusMessage(identifier: string, sessionId: string, msgId: number, msgRef: string, commands: { verb: string; cmdId: string }[]): string {
  let cmdId = 0;
  const status = (cmdRef: string, cmd: string) => `<Status><CmdID>${++cmdId}</CmdID><MsgRef>${msgRef}</MsgRef><CmdRef>${cmdRef}</CmdRef><Cmd>${cmd}</Cmd><Data>200</Data></Status>`;
  return (
    `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sessionId}</SessionID><MsgID>${msgId}</MsgID>` +
    `<Target><LocURI>https://mdm.example.test/ManagementServer/MDM.svc</LocURI></Target><Source><LocURI>${identifier}</LocURI></Source></SyncHdr>` +
    `<SyncBody>${[status('0', 'SyncHdr'), ...commands.map((c) => status(c.cmdId, c.verb))].join('')}<Final/></SyncBody></SyncML>`
  );
}

async function windowsSessions(server: BenchServer, fleet: Fleet<WindowsFleetDevice>, concurrency: number) {
  const path = `/ManagementServer/MDM.svc/${fleet.org.id}`;
  const expected = WINDOWS_SETTINGS.length;
  return runDevices(server.url, fleet.devices, concurrency, async (device, send) => {
    const headers = { ...SYNCML, [CERT_HEADER]: encodeURIComponent(device.certificatePem) };
    const sessionId = '1';
    let res = await send(path, firstMessage(device.identifier, sessionId), headers);
    let received = 0;
    for (let msgId = 2; ; msgId++) {
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      const commands = [...res.body.matchAll(COMMAND)].map((m) => ({ verb: m[1]!, cmdId: m[2]! }));
      if (commands.length === 0) break;
      received += commands.length;
      if (msgId > 10) throw new Error('the session does not end');
      const msgRef = /<MsgID>([^<]+)<\/MsgID>/.exec(res.body)![1]!;
      res = await send(path, statusMessage(device.identifier, sessionId, msgId, msgRef, commands), headers);
    }
    if (received !== expected) throw new Error(`${received} commands in the session, expected ${expected}`);
  });
}

// ---- Apple ----

const COMMAND_UUID = /<key>CommandUUID<\/key>\s*<string>([^<]+)<\/string>/;
const QUERY_RESPONSES = { DeviceName: 'Fleet iPhone', Model: 'MLPF3', OSVersion: '17.5', SerialNumber: 'F2LXK0Q1N7' };

export interface SignedReport {
  body: Buffer;
  signature: string;
  /** The CommandUUID the server must answer this report with; null: the empty answer. */
  expect: string | null;
}

/** Each device's reports in order (Idle, then an Acknowledged per command), signed with its identity. */
export async function signReports(devices: AppleFleetDevice[], key: webcrypto.CryptoKey): Promise<SignedReport[][]> {
  const signer = await TestAppleDevice.create();
  const out: SignedReport[][] = [];
  for (const d of devices) {
    const certificate = new pkijs.Certificate({ schema: asn1js.fromBER(new Uint8Array(d.certificateDer).buffer).result });
    const bodies = [
      Buffer.from(IDLE.replaceAll('{{UDID}}', d.udid)),
      ...d.commandIds.map((id, i) => Buffer.from(buildPlist({ CommandUUID: id, Status: 'Acknowledged', UDID: d.udid, ...(i === 0 ? { QueryResponses: QUERY_RESPONSES } : {}) } as never))),
    ];
    const reports: SignedReport[] = [];
    for (const [i, body] of bodies.entries()) reports.push({ body, signature: await signer.mdmSignature(body, { certificate, key }), expect: d.commandIds[i] ?? null });
    out.push(reports);
  }
  return out;
}

/** The ids of every device's commands in queue order, read through the API (the server holds the database). */
async function commandIdsOf(server: BenchServer, fleet: Fleet<AppleFleetDevice>, key: string): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < fleet.devices.length; i = next++) {
        const d = fleet.devices[i]!;
        const res = await fetch(`${server.url}/v1/organizations/${fleet.org.id}/mdm/apple/devices/${d.id}/commands?limit=10&sort=createdAt:asc`, { headers: { authorization: `Bearer ${key}` } });
        const items = ((await res.json()) as { data: { items: { id: string; status: string }[] } }).data.items;
        d.commandIds = items.filter((c) => c.status === 'queued').map((c) => c.id);
      }
    }),
  );
}

async function appleLoop(server: BenchServer, fleet: Fleet<AppleFleetDevice>, signed: SignedReport[][], concurrency: number) {
  const path = `/mdm/apple/${fleet.org.id}/server`;
  const indexed = signed.map((reports, i) => ({ reports, i }));
  return runDevices(server.url, indexed, concurrency, async ({ reports }, send) => {
    for (const r of reports) {
      const res = await send(path, r.body, { 'content-type': MDM_TYPE, 'mdm-signature': r.signature });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 300)}`);
      const uuid = res.body === '' ? null : (COMMAND_UUID.exec(res.body)?.[1] ?? 'unreadable');
      if (uuid !== r.expect) throw new Error(`answered ${uuid}, expected ${r.expect}`);
    }
  });
}

/** Peak resident memory of the server while `work` runs. */
async function withMemory<T>(server: BenchServer, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = server.rssMb();
  const sampler = setInterval(() => (peak = Math.max(peak, server.rssMb())), 100);
  try {
    return { result: await work(), peakMb: Math.round(peak) };
  } finally {
    clearInterval(sampler);
  }
}

export async function runDeviceScenarios(args: {
  server: BenchServer;
  windows: Fleet<WindowsFleetDevice>;
  apple: Fleet<AppleFleetDevice> & { signingKey: webcrypto.CryptoKey };
  setup: Awaited<ReturnType<typeof deviceServerSetup>>;
  ceilingRps: number;
  concurrency: number;
  log: (line: string) => void;
}): Promise<DevicesResult> {
  const { server, windows, apple, setup, log } = args;
  const ratio = (rps: number) => Number((rps / args.ceilingRps).toFixed(2));

  // Windows sessions.
  const win = await withMemory(server, () => windowsSessions(server, windows, args.concurrency));
  const w = win.result;
  log(`  windows sessions: ${w.devices} PCs in ${w.seconds} s: ${w.devicesPerSecond} sessions/s, ${w.messagesPerSecond} messages/s (ratio ${ratio(w.messagesPerSecond)}), p99 ${w.p99} ms, RSS peak ${win.peakMb} MB${w.failures ? `, ${w.failures} FAILED: ${w.firstFailure}` : ''}`);

  // The Windows fan-out: one setting changed.
  const winKey = windows.org.key;
  const winPolicyPath = `/v1/organizations/${windows.org.id}/mdm/windows/enterprise/policies/${windows.policyId}`;
  const changed = WINDOWS_SETTINGS.map((s) => (s.locUri.endsWith('MinDevicePasswordLength') ? { ...s, data: '12' } : s));
  const t0 = performance.now();
  const winPut = await fetch(`${server.url}${winPolicyPath}`, { method: 'PUT', headers: { authorization: `Bearer ${winKey}`, 'content-type': 'application/json' }, body: JSON.stringify({ settings: changed }) });
  await winPut.arrayBuffer();
  const winFanMs = Math.round(performance.now() - t0);
  const sample = windows.devices[windows.devices.length - 1]!;
  const sampleQueue = await (await fetch(`${server.url}/v1/organizations/${windows.org.id}/mdm/windows/devices/${sample.id}/commands?limit=10`, { headers: { authorization: `Bearer ${winKey}` } })).json() as { data: { items: { status: string; target: string }[] } };
  const queuedOnSample = sampleQueue.data.items.some((c) => c.status === 'queued' && c.target.endsWith('MinDevicePasswordLength'));
  log(`  windows policy change for ${windows.devices.length} PCs: PUT ${winPut.status} in ${winFanMs} ms (queued on the last PC: ${queuedOnSample})`);

  // Apple: the push certificate, then the policy change that queues a profile and a push for every device.
  const appleKey = apple.org.key;
  const cert = await fetch(`${server.url}/v1/organizations/${apple.org.id}/mdm/apple/enterprise/push-certificate`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${appleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ certificate: setup.push.certificate, privateKey: setup.push.privateKey }),
  });
  if (cert.status !== 200) throw new Error(`push certificate: HTTP ${cert.status} ${await cert.text()}`);
  const before = setup.apns.requests.length;
  const t1 = performance.now();
  const applePut = await fetch(`${server.url}/v1/organizations/${apple.org.id}/mdm/apple/enterprise/policies/${apple.policyId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${appleKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ profiles: [{ name: WIFI.name, mobileconfig: WIFI.mobileconfig }, RESTRICTIONS] }),
  });
  await applePut.arrayBuffer();
  const appleFanMs = Math.round(performance.now() - t1);
  log(`  apple policy change for ${apple.devices.length} devices: PUT ${applePut.status} in ${appleFanMs} ms`);
  // The pushes: from the first to the last the loopback APNs receives.
  const wanted = before + apple.devices.length;
  let first = 0;
  const deadline = performance.now() + 600_000;
  while (setup.apns.requests.length < wanted && performance.now() < deadline) {
    if (first === 0 && setup.apns.requests.length > before) first = performance.now();
    await new Promise((r) => setTimeout(r, 10));
  }
  const last = performance.now();
  const pushes = setup.apns.requests.length - before;
  const pushSeconds = (last - (first || last)) / 1000;
  const topicOk = setup.apns.requests.slice(before).every((r) => r.headers['apns-topic'] === setup.push.topic && r.headers['apns-push-type'] === 'mdm');
  const applePushes = { pushes, seconds: Number(pushSeconds.toFixed(2)), pushesPerSecond: pushSeconds > 0 ? Math.round(pushes / pushSeconds) : pushes, sessions: setup.apns.sessions(), topicOk };
  log(`  pushes: ${pushes} to the loopback APNs in ${applePushes.seconds} s (${applePushes.pushesPerSecond}/s, ${applePushes.sessions} HTTP/2 session(s), topic and push type ${topicOk ? 'right' : 'WRONG'})`);

  // The check-in loop, its reports signed beforehand.
  await commandIdsOf(server, apple, appleKey);
  const s0 = performance.now();
  const signed = await signReports(apple.devices, apple.signingKey);
  const signingSeconds = Number(((performance.now() - s0) / 1000).toFixed(1));
  const loop = await withMemory(server, () => appleLoop(server, apple, signed, args.concurrency));
  const a = loop.result;
  log(`  apple command loop: ${a.devices} devices in ${a.seconds} s: ${a.messagesPerSecond} reports/s (ratio ${ratio(a.messagesPerSecond)}), p99 ${a.p99} ms, RSS peak ${loop.peakMb} MB${a.failures ? `, ${a.failures} FAILED: ${a.firstFailure}` : ''} (signing beforehand: ${signingSeconds} s)`);

  return {
    windowsSessions: { ...w, ratio: ratio(w.messagesPerSecond), seedSeconds: Number(windows.seconds.toFixed(1)), memoryPeakMb: win.peakMb, commandsPerSession: WINDOWS_SETTINGS.length },
    windowsFanOut: { devices: windows.devices.length, ms: winFanMs, status: winPut.status, queuedOnSample },
    appleFanOut: { devices: apple.devices.length, ms: appleFanMs, status: applePut.status },
    applePushes,
    appleLoop: { ...a, ratio: ratio(a.messagesPerSecond), seedSeconds: Number(apple.seconds.toFixed(1)), memoryPeakMb: loop.peakMb, signingSeconds },
  };
}
