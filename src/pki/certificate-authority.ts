import { createHash, createPrivateKey, createPublicKey, randomBytes, webcrypto, type KeyObject } from 'node:crypto';
import type { Database, Executor } from '../db/client.ts';
import type { Clock } from '../lib/clock.ts';
import { createCertificatesRepo, type CaRow, type IssuedCertificateRow } from './certificates.repo.ts';
import { x509 } from './x509.ts';
import { decryptSecret, encryptSecret, type SecretKey } from './secret-key.ts';

const SIGNING = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CA_KEY_BITS = 2048;
const CA_YEARS = 10;
const CLIENT_DAYS = 365;
/** Issued certificates start a little in the past, so a device whose clock lags accepts them. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export interface CaCertificate {
  certificatePem: string;
  certificateDer: Buffer;
  /** SHA-1 of the DER, upper-case hex (how Windows names certificates). */
  thumbprint: string;
}

export interface CaSigner extends CaCertificate {
  certificate: x509.X509Certificate;
  privateKey: KeyObject;
  /** The same key for WebCrypto users (PKI.js CMS): RSASSA-PKCS1-v1_5 / SHA-256, extractable. */
  cryptoKey: webcrypto.CryptoKey;
}

export interface ClientCertificateRequest {
  /** The device's public key (SubjectPublicKeyInfo, DER), from its CSR. */
  publicKeySpkiDer: Buffer;
  subjectCommonName: string;
  platform: 'windows' | 'apple';
  deviceId: string;
  tokenId: string;
}

export interface IssuedCertificate {
  certificateDer: Buffer;
  certificatePem: string;
  /** Lower-case hex. */
  serialNumber: string;
  thumbprint: string;
  notBefore: Date;
  notAfter: Date;
}

/** A request the CA will not sign (a weak or unsupported key); protocols turn it into their refusal. */
export class CertificateRequestRejected extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CertificateRequestRejected';
  }
}

export interface CertificateAuthorityDeps {
  database: Database;
  clock: Clock;
  /** The server key, or a loader called on first use (commands that never touch the CA need none). */
  secretKey: SecretKey | (() => SecretKey);
}

export function thumbprintOf(der: Buffer): string {
  return createHash('sha1').update(der).digest('hex').toUpperCase();
}

/** 128 random bits, positive and without a leading zero byte (RFC 5280 4.1.2.2). */
function newSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function caAad(organizationId: string): string {
  return `openroll:ca-private-key:${organizationId}`;
}

/**
 * One certificate authority per organization, made on first use: it signs the device
 * certificates Windows and Apple enrollment hand out, and the Apple profiles. Rows are the truth;
 * each process keeps the decrypted CA in memory once it has read it (it never changes).
 */
export function createCertificateAuthority(deps: CertificateAuthorityDeps) {
  const { database, clock } = deps;
  let key: SecretKey | undefined = typeof deps.secretKey === 'function' ? undefined : deps.secretKey;
  const secretKey = (): SecretKey => (key ??= (deps.secretKey as () => SecretKey)());
  const loaded = new Map<string, Promise<CaSigner>>();

  async function signerFromRow(row: CaRow): Promise<CaSigner> {
    const pkcs8 = decryptSecret(secretKey(), row.privateKeyEncrypted, caAad(row.organizationId));
    const certificate = new x509.X509Certificate(row.certificateDer);
    return {
      certificate,
      certificateDer: Buffer.from(row.certificateDer),
      certificatePem: certificate.toString('pem'),
      thumbprint: row.thumbprint,
      privateKey: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }),
      cryptoKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, SIGNING, true, ['sign']),
    };
  }

  async function newCaRow(db: Executor, organizationId: string): Promise<Omit<CaRow, 'organizationId'>> {
    const now = clock.now();
    const keys = (await webcrypto.subtle.generateKey(
      { ...SIGNING, modulusLength: CA_KEY_BITS, publicExponent: new Uint8Array([1, 0, 1]) },
      true,
      ['sign', 'verify'],
    )) as webcrypto.CryptoKeyPair;
    const organizationName = (await createCertificatesRepo(db).organizationName(organizationId)) ?? organizationId;
    const notAfter = new Date(now.getTime());
    notAfter.setUTCFullYear(notAfter.getUTCFullYear() + CA_YEARS);
    const certificate = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerialNumber(),
      name: [{ CN: ['Openroll Device CA'] }, { O: [organizationName.slice(0, 64) || organizationId] }, { OU: [organizationId] }],
      notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter,
      keys,
      signingAlgorithm: SIGNING,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
    const der = Buffer.from(certificate.rawData);
    return {
      certificateDer: der,
      privateKeyEncrypted: encryptSecret(secretKey(), pkcs8, caAad(organizationId)),
      thumbprint: thumbprintOf(der),
      notBefore: certificate.notBefore,
      notAfter: certificate.notAfter,
      createdAt: now,
    };
  }

  /**
   * Reads the organization's CA, making it when missing. Concurrent first uses (any process)
   * each may generate a key, but the insert keeps the first and everyone re-reads that one.
   * Returns whether the row was already committed, i.e. safe to keep in memory.
   */
  async function readOrCreate(db: Executor, organizationId: string): Promise<{ row: CaRow; fresh: boolean }> {
    const repo = createCertificatesRepo(db);
    const existing = await repo.getCa(organizationId);
    if (existing) return { row: existing, fresh: false };
    await repo.insertCaIfMissing(organizationId, await newCaRow(db, organizationId));
    const row = await repo.getCa(organizationId);
    if (!row) throw new Error('certificate authority row vanished after insert');
    return { row, fresh: true };
  }

  function getCaSigner(organizationId: string): Promise<CaSigner> {
    let pending = loaded.get(organizationId);
    if (!pending) {
      pending = readOrCreate(database.db, organizationId).then(({ row }) => signerFromRow(row));
      loaded.set(organizationId, pending);
      pending.catch(() => loaded.delete(organizationId));
    }
    return pending;
  }

  /** Inside a transaction: on PGlite a query outside it would wait for it to end. */
  async function signerIn(tx: Executor, organizationId: string): Promise<CaSigner> {
    const cached = loaded.get(organizationId);
    if (cached) return cached;
    const { row, fresh } = await readOrCreate(tx, organizationId);
    const signer = signerFromRow(row);
    // A CA made inside this transaction is kept in memory only once committed (read again later).
    if (!fresh) loaded.set(organizationId, signer);
    return signer;
  }

  /** `tx`: inside an open transaction (on PGlite a query outside it would wait for it to end). */
  const signer = (organizationId: string, tx?: Executor) => (tx ? signerIn(tx, organizationId) : getCaSigner(organizationId));

  return {
    async getCa(organizationId: string, tx?: Executor): Promise<CaCertificate> {
      const { certificatePem, certificateDer, thumbprint } = await signer(organizationId, tx);
      return { certificatePem, certificateDer, thumbprint };
    },

    /** The CA's certificate and key, for signing CMS (Apple profiles, SCEP CertRep). */
    getCaSigner: (organizationId: string, tx?: Executor): Promise<CaSigner> => signer(organizationId, tx),

    /**
     * Signs a device's public key: clientAuth, digital signature and key encipherment, one
     * year, recorded with the device and token it was issued for, in the caller's transaction.
     */
    async issueClientCertificate(tx: Executor, organizationId: string, request: ClientCertificateRequest): Promise<IssuedCertificate> {
      checkDeviceKey(request.publicKeySpkiDer);
      const ca = await signerIn(tx, organizationId);
      const now = clock.now();
      const serialNumber = newSerialNumber();
      const certificate = await x509.X509CertificateGenerator.create({
        serialNumber,
        subject: [{ CN: [request.subjectCommonName] }],
        issuer: ca.certificate.subjectName,
        notBefore: new Date(now.getTime() - BACKDATE_MS),
        notAfter: new Date(now.getTime() + CLIENT_DAYS * DAY_MS),
        publicKey: request.publicKeySpkiDer,
        signingKey: ca.cryptoKey,
        signingAlgorithm: SIGNING,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
          await x509.SubjectKeyIdentifierExtension.create(request.publicKeySpkiDer),
          await x509.AuthorityKeyIdentifierExtension.create(ca.certificate.publicKey),
        ],
      });
      const der = Buffer.from(certificate.rawData);
      const issued: IssuedCertificate = {
        certificateDer: der,
        certificatePem: certificate.toString('pem'),
        serialNumber: certificate.serialNumber.toLowerCase(),
        thumbprint: thumbprintOf(der),
        notBefore: certificate.notBefore,
        notAfter: certificate.notAfter,
      };
      await createCertificatesRepo(tx).insertIssued(organizationId, {
        serialNumber: issued.serialNumber,
        thumbprint: issued.thumbprint,
        platform: request.platform,
        deviceId: request.deviceId,
        tokenId: request.tokenId,
        subjectCommonName: request.subjectCommonName,
        certificateDer: der,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        revokedAt: null,
        createdAt: now,
      });
      return issued;
    },

    /** Who a certificate was issued to; `null` organization searches all (the row names it). */
    findIssuedCertificate(organizationId: string | null, by: { thumbprint: string } | { serialNumber: string }): Promise<IssuedCertificateRow | null> {
      const normalized = 'thumbprint' in by ? { thumbprint: by.thumbprint.toUpperCase() } : { serialNumber: by.serialNumber.toLowerCase() };
      return createCertificatesRepo(database.db).findIssued(organizationId, normalized);
    },

    /** Marks every unrevoked certificate of the device revoked; returns how many. */
    revokeDeviceCertificates(tx: Executor, organizationId: string, deviceId: string): Promise<number> {
      return createCertificatesRepo(tx).revokeForDevice(organizationId, deviceId, clock.now());
    },
  };
}

export type CertificateAuthority = ReturnType<typeof createCertificateAuthority>;

/** RSA of 2048 bits or more, or EC P-256/P-384: what the enrollment policies ask devices for. */
export function checkDeviceKey(spki: Buffer): void {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
  } catch {
    throw new CertificateRequestRejected('the public key cannot be read');
  }
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    if ((details.modulusLength ?? 0) < 2048) throw new CertificateRequestRejected('RSA keys must have at least 2048 bits');
    return;
  }
  if (key.asymmetricKeyType === 'ec' && (details.namedCurve === 'prime256v1' || details.namedCurve === 'secp384r1')) return;
  throw new CertificateRequestRejected(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}`);
}
