import { constants, createCipheriv, createDecipheriv, createHmac, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { CmsError, contentInfoDer, fromSchema, octets, OID, parseContentInfo, toArrayBuffer } from '../../pki/cms.ts';

/**
 * The EnvelopedData layer of SCEP (RFC 8894 section 3.2.2): one key-transport recipient
 * (RSA PKCS#1 v1.5, what Apple devices send, or RSA-OAEP) and a CBC content cipher. PKI.js
 * parses and builds the structures; the RSA and the ciphers are node:crypto's, because PKI.js
 * decrypts only with RSA-OAEP and devices use PKCS#1 v1.5.
 */
const RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
const RSA_OAEP = '1.2.840.113549.1.1.7';
const CIPHERS: Record<string, { name: string; keyLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', keyLength: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24 },
};
const OAEP_HASHES: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

/** How a message was enveloped, so the answer can be enveloped the way the requester reads. */
export interface EnvelopeAlgorithms {
  keyTransport: pkijs.AlgorithmIdentifier;
  contentCipher: string;
}

export interface OpenedEnvelope {
  content: Buffer;
  algorithms: EnvelopeAlgorithms;
}

/** Decrypts a ContentInfo(EnvelopedData) addressed to `recipientKey`. */
export function openEnvelope(bytes: Uint8Array, recipientKey: KeyObject): OpenedEnvelope {
  const info = parseContentInfo(bytes, 'pkcsPKIEnvelope', OID.envelopedData);
  const enveloped = fromSchema('EnvelopedData', () => new pkijs.EnvelopedData({ schema: info.content }));
  const recipients = enveloped.recipientInfos.filter((r) => r.variant === 1).map((r) => r.value as pkijs.KeyTransRecipientInfo);
  if (recipients.length === 0) throw new CmsError('the envelope has no key-transport recipient');
  const contentInfo = enveloped.encryptedContentInfo;
  const cipher = CIPHERS[contentInfo.contentEncryptionAlgorithm.algorithmId];
  if (!cipher) throw new CmsError(`the content cipher ${contentInfo.contentEncryptionAlgorithm.algorithmId} is not supported`);
  const iv = octets(contentInfo.contentEncryptionAlgorithm.algorithmParams, 'the content cipher IV');
  const encrypted = contentInfo.encryptedContent ? Buffer.from(fromSchema('the encrypted content', () => contentInfo.getEncryptedContent())) : Buffer.alloc(0);
  // The CA is the only recipient a device addresses; try each recipient in case of extra ones.
  for (const recipient of recipients) {
    const key = unwrapKey(recipient, recipientKey, cipher.keyLength);
    if (!key) continue;
    try {
      const decipher = createDecipheriv(cipher.name, key, iv);
      const content = Buffer.concat([decipher.update(encrypted), decipher.final()]);
      return { content, algorithms: { keyTransport: recipient.keyEncryptionAlgorithm, contentCipher: contentInfo.contentEncryptionAlgorithm.algorithmId } };
    } catch {
      continue;
    }
  }
  throw new CmsError('the envelope cannot be decrypted with the CA key');
}

function unwrapKey(recipient: pkijs.KeyTransRecipientInfo, recipientKey: KeyObject, keyLength: number): Buffer | undefined {
  const encryptedKey = Buffer.from(recipient.encryptedKey.valueBlock.valueHexView);
  try {
    switch (recipient.keyEncryptionAlgorithm.algorithmId) {
      case RSA_ENCRYPTION:
        return pkcs1v15Unwrap(encryptedKey, recipientKey, keyLength);
      case RSA_OAEP: {
        const params = recipient.keyEncryptionAlgorithm.algorithmParams ? new pkijs.RSAESOAEPParams({ schema: recipient.keyEncryptionAlgorithm.algorithmParams }) : new pkijs.RSAESOAEPParams();
        const oaepHash = OAEP_HASHES[params.hashAlgorithm.algorithmId];
        if (!oaepHash) return undefined;
        const key = privateDecrypt({ key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, encryptedKey);
        return key.length === keyLength ? key : undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}

/**
 * RSAES-PKCS1-v1_5 key unwrapping (RFC 8017 7.2.2) over raw RSA, since Node refuses the padded
 * mode (CVE-2023-46809). A bad padding or length yields a key derived from the ciphertext
 * instead of an error ("implicit rejection"), so the outcome differs only after the content
 * cipher runs, and every failure leaves by the same path: no padding oracle.
 */
function pkcs1v15Unwrap(encryptedKey: Buffer, recipientKey: KeyObject, keyLength: number): Buffer {
  const em = privateDecrypt({ key: recipientKey, padding: constants.RSA_NO_PADDING }, encryptedKey);
  let separator = 0;
  let ok = em[0] === 0 && em[1] === 2 ? 1 : 0;
  for (let i = 2; i < em.length; i++) {
    const found = separator === 0 && em[i] === 0;
    separator = found ? i : separator;
  }
  ok &= separator >= 10 ? 1 : 0;
  ok &= em.length - separator - 1 === keyLength ? 1 : 0;
  const fallback = createHmac('sha256', recipientKey.export({ format: 'der', type: 'pkcs1' })).update(encryptedKey).digest().subarray(0, keyLength);
  return ok ? em.subarray(em.length - keyLength) : fallback;
}

/**
 * Envelopes `content` (ContentInfo(EnvelopedData)) to the holder of `recipient`'s key, with
 * the key transport and content cipher the requester used.
 */
export function sealEnvelope(content: Uint8Array, recipient: pkijs.Certificate, recipientKey: KeyObject, algorithms: EnvelopeAlgorithms): Buffer {
  const cipher = CIPHERS[algorithms.contentCipher];
  if (!cipher) throw new CmsError(`the content cipher ${algorithms.contentCipher} is not supported`);
  const key = randomBytes(cipher.keyLength);
  const iv = randomBytes(cipher.name.startsWith('aes') ? 16 : 8);
  const encipher = createCipheriv(cipher.name, key, iv);
  const encrypted = Buffer.concat([encipher.update(content), encipher.final()]);
  let encryptedKey: Buffer;
  if (algorithms.keyTransport.algorithmId === RSA_OAEP) {
    const params = algorithms.keyTransport.algorithmParams ? new pkijs.RSAESOAEPParams({ schema: algorithms.keyTransport.algorithmParams }) : new pkijs.RSAESOAEPParams();
    encryptedKey = publicEncrypt({ key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: OAEP_HASHES[params.hashAlgorithm.algorithmId] ?? 'sha1' }, key);
  } else {
    encryptedKey = publicEncrypt({ key: recipientKey, padding: constants.RSA_PKCS1_PADDING }, key);
  }
  const keyTransport = algorithms.keyTransport.algorithmId === RSA_OAEP ? algorithms.keyTransport : new pkijs.AlgorithmIdentifier({ algorithmId: RSA_ENCRYPTION, algorithmParams: new asn1js.Null() });
  const enveloped = new pkijs.EnvelopedData({
    version: 0,
    recipientInfos: [
      new pkijs.RecipientInfo({
        variant: 1,
        value: new pkijs.KeyTransRecipientInfo({
          version: 0,
          rid: new pkijs.IssuerAndSerialNumber({ issuer: recipient.issuer, serialNumber: recipient.serialNumber }),
          keyEncryptionAlgorithm: keyTransport,
          encryptedKey: new asn1js.OctetString({ valueHex: toArrayBuffer(encryptedKey) }),
        }),
      }),
    ],
    encryptedContentInfo: new pkijs.EncryptedContentInfo({
      contentType: OID.data,
      contentEncryptionAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: algorithms.contentCipher, algorithmParams: new asn1js.OctetString({ valueHex: toArrayBuffer(iv) }) }),
      encryptedContent: new asn1js.OctetString({ valueHex: toArrayBuffer(encrypted) }),
      disableSplit: true,
    }),
  });
  return contentInfoDer(OID.envelopedData, enveloped.toSchema());
}
