import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { certificateAuthorities, issuedCertificates } from '../../src/db/schema.ts';
import { newId } from '../../src/lib/ids.ts';
import { CertificateRequestRejected, createCertificateAuthority, type CertificateAuthority } from '../../src/pki/certificate-authority.ts';
import { SecretDecryptionError } from '../../src/pki/secret-key.ts';
import { x509 } from '../../src/pki/x509.ts';
import { createOrg, type TestOrg } from '../helpers/factories.ts';
import { buildTestApp, type TestContext } from '../helpers/test-app.ts';

let ctx: TestContext;
let ca: CertificateAuthority;
let orgA: TestOrg;
let orgB: TestOrg;

before(async () => {
  ctx = await buildTestApp();
  ca = ctx.container.certificateAuthority;
  orgA = await createOrg(ctx);
  orgB = await createOrg(ctx);
});
after(() => ctx.close());

const deviceKey = (bits = 2048) => generateKeyPairSync('rsa', { modulusLength: bits });
const spki = (key: ReturnType<typeof deviceKey>) => key.publicKey.export({ type: 'spki', format: 'der' });

async function issue(organizationId: string, deviceId = newId(), key = deviceKey()) {
  const db = ctx.container.database.db;
  const issued = await db.transaction((tx) =>
    ca.issueClientCertificate(tx, organizationId, { publicKeySpkiDer: spki(key), subjectCommonName: 'DESKTOP-1234', platform: 'windows', deviceId, tokenId: newId() }),
  );
  return { issued, key, deviceId };
}

describe('the organization CA', () => {
  test('is made on first use: RSA 2048+, SHA-256, a CA certificate, the same on every later call', async () => {
    const first = await ca.getCa(orgA.org.id);
    const cert = new X509Certificate(first.certificateDer);
    assert.equal(cert.ca, true);
    assert.equal(cert.checkIssued(cert), true);
    assert.ok(cert.verify(cert.publicKey));
    assert.ok((cert.publicKey.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048);
    assert.equal(new x509.X509Certificate(first.certificateDer).signatureAlgorithm.hash.name, 'SHA-256');
    assert.match(first.certificatePem, /^-----BEGIN CERTIFICATE-----/);
    assert.equal(first.thumbprint, cert.fingerprint.replace(/:/g, ''));
    assert.match(cert.subject, new RegExp(`OU=${orgA.org.id}`));
    assert.deepEqual(await ca.getCa(orgA.org.id), first);
    assert.notEqual((await ca.getCa(orgB.org.id)).thumbprint, first.thumbprint);
  });

  test('concurrent first use by several processes ends with one CA', async () => {
    const org = await createOrg(ctx);
    // Separate instances share nothing in memory, like separate server processes.
    const instances = [0, 1, 2].map(() => createCertificateAuthority({ database: ctx.container.database, clock: ctx.clock, secretKey: ctx.config.secretKey! }));
    const results = await Promise.all(instances.flatMap((i) => [i.getCa(org.org.id), i.getCa(org.org.id)]));
    assert.equal(new Set(results.map((r) => r.thumbprint)).size, 1);
    const rows = await ctx.container.database.db.select().from(certificateAuthorities).where(eq(certificateAuthorities.organizationId, org.org.id));
    assert.equal(rows.length, 1);
  });

  test('inside a transaction it is read (or made) through that transaction', async () => {
    const org = await createOrg(ctx);
    const fresh = createCertificateAuthority({ database: ctx.container.database, clock: ctx.clock, secretKey: ctx.config.secretKey! });
    const inside = await ctx.container.database.db.transaction(async (tx) => (await fresh.getCaSigner(org.org.id, tx)).thumbprint);
    assert.equal((await fresh.getCa(org.org.id)).thumbprint, inside);
    assert.equal((await ca.getCa(org.org.id)).thumbprint, inside);
  });

  test('its private key is encrypted at rest and useless with another server key', async () => {
    const signer = await ca.getCaSigner(orgA.org.id);
    const [row] = await ctx.container.database.db.select().from(certificateAuthorities).where(eq(certificateAuthorities.organizationId, orgA.org.id));
    const pkcs8 = signer.privateKey.export({ type: 'pkcs8', format: 'der' });
    assert.equal(row!.privateKeyEncrypted.includes(pkcs8.subarray(-64)), false);
    assert.equal(createPublicKey(signer.privateKey).export({ type: 'spki', format: 'der' }).equals(Buffer.from(signer.certificate.publicKey.rawData)), true);
    const other = createCertificateAuthority({ database: ctx.container.database, clock: ctx.clock, secretKey: randomBytes(32) });
    await assert.rejects(other.getCa(orgA.org.id), SecretDecryptionError);
  });
});

describe('client certificates', () => {
  test('carry the request key, clientAuth, signature and key encipherment, one year, and chain to the CA', async () => {
    const { issued, key } = await issue(orgA.org.id);
    const caCert = new X509Certificate((await ca.getCa(orgA.org.id)).certificateDer);
    const leaf = new X509Certificate(issued.certificateDer);
    assert.equal(leaf.checkIssued(caCert), true);
    assert.ok(leaf.verify(caCert.publicKey));
    assert.equal(leaf.ca, false);
    assert.deepEqual(leaf.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.ok(leaf.publicKey.equals(key.publicKey));
    assert.equal(leaf.subject, 'CN=DESKTOP-1234');
    const parsed = new x509.X509Certificate(issued.certificateDer);
    const usages = parsed.getExtension(x509.KeyUsagesExtension)!.usages;
    assert.equal(usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment);
    const now = ctx.clock.now().getTime();
    assert.ok(issued.notBefore.getTime() <= now && issued.notAfter.getTime() - now >= 364 * 86_400_000 && issued.notAfter.getTime() - now <= 366 * 86_400_000);
    assert.equal(issued.thumbprint, leaf.fingerprint.replace(/:/g, ''));
    assert.match(issued.thumbprint, /^[0-9A-F]{40}$/);
    assert.equal(issued.serialNumber, leaf.serialNumber.toLowerCase());
  });

  test('are recorded, found by thumbprint or serial (scoped or not), and revoked with their device', async () => {
    const { issued, deviceId } = await issue(orgA.org.id);
    const byThumb = await ca.findIssuedCertificate(orgA.org.id, { thumbprint: issued.thumbprint.toLowerCase() });
    assert.equal(byThumb?.deviceId, deviceId);
    assert.equal(byThumb?.platform, 'windows');
    assert.equal((await ca.findIssuedCertificate(null, { serialNumber: issued.serialNumber.toUpperCase() }))?.organizationId, orgA.org.id);
    assert.equal(await ca.findIssuedCertificate(orgB.org.id, { thumbprint: issued.thumbprint }), null);
    assert.equal(await ca.findIssuedCertificate(null, { thumbprint: 'F'.repeat(40) }), null);

    const db = ctx.container.database.db;
    assert.equal(await db.transaction((tx) => ca.revokeDeviceCertificates(tx, orgB.org.id, deviceId)), 0, 'another organization revokes nothing');
    assert.equal(await db.transaction((tx) => ca.revokeDeviceCertificates(tx, orgA.org.id, deviceId)), 1);
    assert.equal(await db.transaction((tx) => ca.revokeDeviceCertificates(tx, orgA.org.id, deviceId)), 0);
    const [row] = await db.select().from(issuedCertificates).where(eq(issuedCertificates.serialNumber, issued.serialNumber));
    assert.deepEqual(row!.revokedAt, ctx.clock.now());
  });

  test('a CA first made inside a rolled-back transaction is not remembered', async () => {
    const org = await createOrg(ctx);
    const db = ctx.container.database.db;
    let thumbprint = '';
    await assert.rejects(
      db.transaction(async (tx) => {
        const issued = await ca.issueClientCertificate(tx, org.org.id, { publicKeySpkiDer: spki(deviceKey()), subjectCommonName: 'x', platform: 'apple', deviceId: newId(), tokenId: newId() });
        thumbprint = new X509Certificate(issued.certificateDer).issuer;
        throw new Error('roll back');
      }),
      /roll back/,
    );
    assert.ok(thumbprint);
    const { issued } = await issue(org.org.id);
    const caCert = new X509Certificate((await ca.getCa(org.org.id)).certificateDer);
    assert.equal(new X509Certificate(issued.certificateDer).checkIssued(caCert), true);
  });

  test('weak or unreadable keys are refused', async () => {
    const db = ctx.container.database.db;
    for (const bad of [spki(deviceKey(1024)), Buffer.from('not a key')]) {
      await assert.rejects(
        db.transaction((tx) => ca.issueClientCertificate(tx, orgA.org.id, { publicKeySpkiDer: bad, subjectCommonName: 'x', platform: 'windows', deviceId: newId(), tokenId: newId() })),
        CertificateRequestRejected,
      );
    }
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
    const issued = await db.transaction((tx) => ca.issueClientCertificate(tx, orgA.org.id, { publicKeySpkiDer: ec, subjectCommonName: 'ec', platform: 'apple', deviceId: newId(), tokenId: newId() }));
    assert.equal(new X509Certificate(issued.certificateDer).publicKey.asymmetricKeyType, 'ec');
  });
});
