import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPrivateKey, webcrypto, type KeyObject } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../../src/app.ts';
import { ConfigError } from '../../../src/config.ts';
import { x509 } from '../../../src/pki/x509.ts';
import { loadTls } from '../../../src/server.ts';
import { createOrg, type TestOrg } from '../../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../../helpers/test-app.ts';
import { enrollWindowsDevice, faultSubcode, syncmlBody, type EnrolledWindowsDevice } from '../../helpers/windows-device.ts';

/**
 * Openroll's own HTTPS (TLS_CERT_FILE, TLS_KEY_FILE) on 127.0.0.1 with a throwaway certificate:
 * every client is asked for a certificate and none is refused at the handshake; the management
 * path checks the one presented in code. One server, a few connections over node:https.
 */
let ctx: TestContext;
let tenant: TestOrg;
let device: EnrolledWindowsDevice;
let server: FastifyInstance;
let serverPem = '';
let port = 0;
let dir = '';

async function throwawayServerCertificate(): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=127.0.0.1',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { cert: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)!.join('\n')}\n-----END PRIVATE KEY-----\n` };
}

before(async () => {
  ctx = await buildTestApp();
  tenant = await createOrg(ctx);
  device = await enrollWindowsDevice(ctx, tenant, 'D1000000-0000-4000-8000-0000000000d1');
  const pair = await throwawayServerCertificate();
  serverPem = pair.cert;
  // Through the files, as the server reads them at start.
  dir = mkdtempSync(join(tmpdir(), 'openroll-tls-'));
  writeFileSync(join(dir, 'cert.pem'), pair.cert);
  writeFileSync(join(dir, 'key.pem'), pair.key);
  const tls = loadTls({ tls: { certFile: join(dir, 'cert.pem'), keyFile: join(dir, 'key.pem') } });
  assert.ok(tls);
  server = await buildApp({ container: ctx.container, tls });
  await server.listen({ port: 0, host: '127.0.0.1' });
  port = (server.server.address() as { port: number }).port;
});
after(async () => {
  await server?.close();
  await ctx.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One request on a connection of its own (no agent: no TLS session is reused between cases). */
function send(path: string, body: string | undefined, client?: { cert: string; key: KeyObject }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: body === undefined ? 'GET' : 'POST', ca: serverPem, agent: false, headers: { 'content-type': 'application/vnd.syncml.dm+xml' }, ...(client ? { cert: client.cert, key: client.key.export({ type: 'pkcs8', format: 'pem' }) } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const management = () => `/ManagementServer/MDM.svc/${tenant.org.id}`;

test('the device’s certificate over TLS opens its session; without one the session is refused, other paths are not', async () => {
  const own = await send(management(), syncmlBody('syncml-first-session.xml', device.deviceId), { cert: device.pem, key: device.privateKey });
  assert.equal(own.status, 200, own.body);
  assert.match(own.body, /<Final\/>/);

  const none = await send(management(), syncmlBody('syncml-first-session.xml', device.deviceId));
  assert.equal(none.status, 401);
  assert.equal(faultSubcode(none.body), 's:InvalidSecurity');
  assert.equal((await send('/healthz', undefined)).status, 200, 'no certificate is needed elsewhere');
});

test('a certificate this organization did not issue is refused by the code, not the handshake', async () => {
  const stranger = await throwawayServerCertificate();
  const res = await send(management(), syncmlBody('syncml-first-session.xml', device.deviceId), { cert: stranger.cert, key: createPrivateKey(stranger.key) });
  assert.equal(res.status, 401);
  assert.equal(faultSubcode(res.body), 's:InvalidSecurity');
});

test('unreadable TLS files stop the start naming the variable', () => {
  assert.throws(() => loadTls({ tls: { certFile: join(dir, 'missing.pem'), keyFile: join(dir, 'key.pem') } }), (e: unknown) => e instanceof ConfigError && e.message.includes('TLS_CERT_FILE'));
  writeFileSync(join(dir, 'garbage.pem'), 'not a certificate');
  assert.throws(() => loadTls({ tls: { certFile: join(dir, 'garbage.pem'), keyFile: join(dir, 'key.pem') } }), (e: unknown) => e instanceof ConfigError && e.message.includes('TLS_CERT_FILE'));
});
