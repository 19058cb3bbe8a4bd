/**
 * A test Apple device, built on PKI.js the way a device builds its messages: it makes a key
 * and a self-signed certificate, sends an RFC 8894 PKCSReq (PKCS#10 with the profile's
 * challenge, enveloped to the CA, signed with its own key), opens the CertRep, and signs its
 * check-ins with the identity it got (`Mdm-Signature`). It shares no code with the server's
 * CMS modules, so the two check each other.
 */
import { constants, verify as cryptoVerify, createPrivateKey, createPublicKey, createCipheriv, createDecipheriv, createHash, privateDecrypt, publicEncrypt, randomBytes, randomUUID, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { x509 } from '../../../src/pki/x509.ts';

type CryptoKeyPair = webcrypto.CryptoKeyPair;
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const;
const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  challengePassword: '1.2.840.113549.1.9.7',
  messageType: '2.16.840.1.113733.1.9.2',
  pkiStatus: '2.16.840.1.113733.1.9.3',
  failInfo: '2.16.840.1.113733.1.9.4',
  senderNonce: '2.16.840.1.113733.1.9.5',
  recipientNonce: '2.16.840.1.113733.1.9.6',
  transactionID: '2.16.840.1.113733.1.9.7',
  aes128cbc: '2.16.840.1.101.3.4.1.2',
  rsaEncryption: '1.2.840.113549.1.1.1',
};

const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const der = (b: Uint8Array) => asn1js.fromBER(ab(b)).result;
const attr = (type: string, value: asn1js.AsnType) => new pkijs.Attribute({ type, values: [value] });

export async function generateRsaKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
}

/** A push certificate of the shape Apple issues: subject UID com.apple.mgmt.External.<uuid>. */
export async function makePushCertificate(options: { uid?: string; notAfter?: Date } = {}) {
  const uuid = randomUUID();
  const uid = options.uid ?? `com.apple.mgmt.External.${uuid}`;
  const keys = await generateRsaKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: [{ '0.9.2342.19200300.100.1.1': [uid] }, { CN: [`APSP:${uuid}`] }, { C: ['US'] }],
    notBefore: new Date('2026-01-01T00:00:00Z'),
    notAfter: options.notAfter ?? new Date('2027-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: RSA,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }) as string;
  return { certificate: cert.toString('pem'), privateKey, topic: uid };
}

async function signedData(options: { content?: Uint8Array; detached?: Uint8Array; certificate: pkijs.Certificate; key: webcrypto.CryptoKey; attributes?: pkijs.Attribute[] }): Promise<Buffer> {
  const signed = options.content ?? options.detached!;
  const digest = await webcrypto.subtle.digest('SHA-256', signed);
  const sd = new pkijs.SignedData({
    version: 1,
    encapContentInfo: new pkijs.EncapsulatedContentInfo({ eContentType: OID.data, ...(options.content ? { eContent: new asn1js.OctetString({ valueHex: ab(options.content) }) } : {}) }),
    signerInfos: [
      new pkijs.SignerInfo({
        version: 1,
        sid: new pkijs.IssuerAndSerialNumber({ issuer: options.certificate.issuer, serialNumber: options.certificate.serialNumber }),
        signedAttrs: new pkijs.SignedAndUnsignedAttributes({
          type: 0,
          attributes: [attr(OID.contentType, new asn1js.ObjectIdentifier({ value: OID.data })), attr(OID.messageDigest, new asn1js.OctetString({ valueHex: digest })), ...(options.attributes ?? [])],
        }),
      }),
    ],
    certificates: [options.certificate],
  });
  await sd.sign(options.key, 0, 'SHA-256', options.detached);
  return Buffer.from(new pkijs.ContentInfo({ contentType: OID.signedData, content: sd.toSchema(true) }).toSchema().toBER());
}

export type KeyTransport = 'rsa-oaep' | 'rsa-pkcs1';

export interface CertRep {
  pkiStatus: string;
  failInfo: string | undefined;
  transactionId: string;
  recipientNonce: Buffer;
  senderNonce: Buffer;
  /** The certificate that signed the CertRep (must be the CA). */
  signerDer: Buffer;
  issued: pkijs.Certificate | undefined;
}

export class TestAppleDevice {
  readonly udid = randomUUID().toUpperCase();
  readonly serialNumber = `C02${randomBytes(4).toString('hex').toUpperCase()}`;
  keys!: CryptoKeyPair;
  selfSigned!: pkijs.Certificate;
  identity: pkijs.Certificate | undefined;
  /** The key of the identity: the device's own, certified by the CA. */
  get identityDer(): Buffer {
    return Buffer.from(this.identity!.toSchema().toBER());
  }

  static async create(): Promise<TestAppleDevice> {
    const device = new TestAppleDevice();
    device.keys = await generateRsaKeys();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: `CN=${device.udid}`,
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2027-01-01T00:00:00Z'),
      keys: device.keys,
      signingAlgorithm: RSA,
    });
    device.selfSigned = new pkijs.Certificate({ schema: der(new Uint8Array(cert.rawData)) });
    return device;
  }

  /** A PKCS#10 request with the challenge, signed by the device key. */
  async csr(challenge: string | null, commonName = 'Openroll Apple device'): Promise<Buffer> {
    const csr = new pkijs.CertificationRequest();
    csr.version = 0;
    csr.subject.typesAndValues.push(new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: commonName }) }));
    await csr.subjectPublicKeyInfo.importKey(this.keys.publicKey);
    csr.attributes = challenge === null ? [] : [attr(OID.challengePassword, new asn1js.PrintableString({ value: challenge }))];
    await csr.sign(this.keys.privateKey, 'SHA-256');
    return Buffer.from(csr.toSchema().toBER());
  }

  /** RFC 8894 PKCSReq to the CA: the request enveloped to the CA certificate, signed with the device key. */
  async pkcsReq(caDer: Buffer, challenge: string | null, options: { keyTransport?: KeyTransport; transactionId?: string; csr?: Buffer } = {}) {
    const ca = new pkijs.Certificate({ schema: der(caDer) });
    const request = options.csr ?? (await this.csr(challenge));
    const envelope = options.keyTransport === 'rsa-oaep' ? await envelopeOaep(request, ca) : envelopePkcs1(request, ca);
    const senderNonce = randomBytes(16);
    const transactionId = options.transactionId ?? createHash('sha256').update(randomBytes(32)).digest('hex');
    const message = await signedData({
      content: envelope,
      certificate: this.selfSigned,
      key: this.keys.privateKey,
      attributes: [
        attr(OID.messageType, new asn1js.PrintableString({ value: '19' })),
        attr(OID.transactionID, new asn1js.PrintableString({ value: transactionId })),
        attr(OID.senderNonce, new asn1js.OctetString({ valueHex: ab(senderNonce) })),
      ],
    });
    return { message, senderNonce, transactionId };
  }

  /** Verifies a CertRep's signature and opens its certificate, as the device does. */
  async readCertRep(bytes: Buffer): Promise<CertRep> {
    const info = new pkijs.ContentInfo({ schema: der(bytes) });
    if (info.contentType !== OID.signedData) throw new Error('CertRep is not SignedData');
    const sd = new pkijs.SignedData({ schema: info.content });
    const verified = sd.encapContentInfo.eContent === undefined ? verifyWithoutContent(sd) : await sd.verify({ signer: 0, checkChain: false, extendedMode: true });
    if (!verified.signatureVerified || !verified.signerCertificate) throw new Error('CertRep signature does not verify');
    const attrs = sd.signerInfos[0]!.signedAttrs!.attributes;
    const value = (type: string) => attrs.find((a) => a.type === type)?.values[0];
    const printable = (type: string) => (value(type) as asn1js.PrintableString | undefined)?.valueBlock.value;
    const octets = (type: string) => Buffer.from((value(type) as asn1js.OctetString).valueBlock.valueHexView);
    const pkiStatus = printable(OID.pkiStatus)!;
    let issued: pkijs.Certificate | undefined;
    if (pkiStatus === '0') {
      const envelope = Buffer.from((sd.encapContentInfo.eContent as asn1js.OctetString).getValue());
      const certsOnly = await this.openEnvelope(envelope);
      const inner = new pkijs.SignedData({ schema: new pkijs.ContentInfo({ schema: der(certsOnly) }).content });
      issued = inner.certificates?.[0] as pkijs.Certificate;
      this.identity = issued;
    }
    if (printable(OID.messageType) !== '3') throw new Error('not a CertRep');
    return {
      pkiStatus,
      failInfo: printable(OID.failInfo),
      transactionId: printable(OID.transactionID)!,
      recipientNonce: octets(OID.recipientNonce),
      senderNonce: octets(OID.senderNonce),
      signerDer: Buffer.from(verified.signerCertificate.toSchema().toBER()),
      issued,
    };
  }

  private async openEnvelope(bytes: Buffer): Promise<Buffer> {
    const env = new pkijs.EnvelopedData({ schema: new pkijs.ContentInfo({ schema: der(bytes) }).content });
    const recipient = env.recipientInfos[0]!.value as pkijs.KeyTransRecipientInfo;
    const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', this.keys.privateKey);
    if (recipient.keyEncryptionAlgorithm.algorithmId !== OID.rsaEncryption) {
      return Buffer.from(await env.decrypt(0, { recipientCertificate: this.selfSigned, recipientPrivateKey: pkcs8 }));
    }
    // PKCS#1 v1.5 by hand (Node refuses the padded mode for decryption): 00 02 PS 00 key.
    const em = privateDecrypt({ key: createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), padding: constants.RSA_NO_PADDING }, Buffer.from(recipient.encryptedKey.valueBlock.valueHexView));
    const key = em.subarray(em.indexOf(0, 2) + 1);
    const alg = env.encryptedContentInfo.contentEncryptionAlgorithm;
    const iv = Buffer.from((alg.algorithmParams as asn1js.OctetString).valueBlock.valueHexView);
    const name = { '2.16.840.1.101.3.4.1.2': 'aes-128-cbc', '2.16.840.1.101.3.4.1.42': 'aes-256-cbc' }[alg.algorithmId]!;
    const decipher = createDecipheriv(name, key, iv);
    const encrypted = Buffer.from(env.encryptedContentInfo.getEncryptedContent());
    return Buffer.concat([decipher.update(encrypted), decipher.final()]);
  }

  /** The base64 detached CMS signature Apple puts in `Mdm-Signature`. */
  async mdmSignature(body: Buffer, signer: { certificate: pkijs.Certificate; key: webcrypto.CryptoKey } = { certificate: this.identity!, key: this.keys.privateKey }): Promise<string> {
    return (await signedData({ detached: body, certificate: signer.certificate, key: signer.key })).toString('base64');
  }
}

/**
 * A FAILURE CertRep has no content (its messageDigest is the empty string's), which PKI.js's
 * verify refuses as "missed detached data": check the digest and the signature by hand.
 */
function verifyWithoutContent(sd: pkijs.SignedData): { signatureVerified: boolean; signerCertificate: pkijs.Certificate } {
  const signerInfo = sd.signerInfos[0]!;
  const sid = signerInfo.sid as pkijs.IssuerAndSerialNumber;
  const signer = (sd.certificates as pkijs.Certificate[]).find((c) => c.serialNumber.isEqual(sid.serialNumber))!;
  const digest = signerInfo.signedAttrs!.attributes.find((a) => a.type === OID.messageDigest)!.values[0] as asn1js.OctetString;
  const emptyDigest = createHash('sha256').digest();
  const attrs = Buffer.from(signerInfo.signedAttrs!.encodedValue);
  attrs[0] = 0x31; // signed as a SET OF, sent as [0] IMPLICIT
  const key = createPublicKey({ key: Buffer.from(signer.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
  const ok = Buffer.from(digest.valueBlock.valueHexView).equals(emptyDigest) && cryptoVerify('sha256', attrs, key, Buffer.from(signerInfo.signature.valueBlock.valueHexView));
  return { signatureVerified: ok, signerCertificate: signer };
}

async function envelopeOaep(content: Buffer, ca: pkijs.Certificate): Promise<Buffer> {
  const env = new pkijs.EnvelopedData();
  env.addRecipientByCertificate(ca, { oaepHashAlgorithm: 'SHA-256' }, 1);
  await env.encrypt({ name: 'AES-CBC', length: 256 } as AesKeyAlgorithm, ab(content));
  return Buffer.from(new pkijs.ContentInfo({ contentType: OID.envelopedData, content: env.toSchema() }).toSchema().toBER());
}

type AesKeyAlgorithm = { name: string; length: number };

/** What iOS sends: RSAES-PKCS1-v1_5 key transport, AES-128-CBC content. */
function envelopePkcs1(content: Buffer, ca: pkijs.Certificate): Buffer {
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(content), cipher.final()]);
  const caKey = createPublicKey({ key: Buffer.from(ca.subjectPublicKeyInfo.toSchema().toBER()), format: 'der', type: 'spki' });
  const encryptedKey = publicEncrypt({ key: caKey, padding: constants.RSA_PKCS1_PADDING }, key);
  const env = new pkijs.EnvelopedData({
    version: 0,
    recipientInfos: [
      new pkijs.RecipientInfo({
        variant: 1,
        value: new pkijs.KeyTransRecipientInfo({
          version: 0,
          rid: new pkijs.IssuerAndSerialNumber({ issuer: ca.issuer, serialNumber: ca.serialNumber }),
          keyEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.rsaEncryption, algorithmParams: new asn1js.Null() }),
          encryptedKey: new asn1js.OctetString({ valueHex: ab(encryptedKey) }),
        }),
      }),
    ],
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID.aes128cbc, algorithmParams: new asn1js.OctetString({ valueHex: ab(iv) }) }),
      encryptedContent: new asn1js.OctetString({ valueHex: ab(encrypted) }),
    }),
  });
  return Buffer.from(new pkijs.ContentInfo({ contentType: OID.envelopedData, content: env.toSchema() }).toSchema().toBER());
}

/** Verifies the profile's SignedData (content attached) and returns the signer and the plist. */
export async function openSignedProfile(bytes: Buffer): Promise<{ signerDer: Buffer; xml: string }> {
  const info = new pkijs.ContentInfo({ schema: der(bytes) });
  const sd = new pkijs.SignedData({ schema: info.content });
  const verified = await sd.verify({ signer: 0, checkChain: false, extendedMode: true });
  if (!verified.signatureVerified || !verified.signerCertificate) throw new Error('profile signature does not verify');
  const content = Buffer.from((sd.encapContentInfo.eContent as asn1js.OctetString).getValue());
  return { signerDer: Buffer.from(verified.signerCertificate.toSchema().toBER()), xml: content.toString('utf8') };
}
