import { X509Certificate } from 'node:crypto';
import { thumbprintOf } from '../../pki/certificate-authority.ts';

/**
 * The client certificate a TLS-terminating proxy forwards in a header: URL-encoded PEM (nginx
 * `$ssl_client_escaped_cert`), PEM with its newlines folded into spaces (Apache, HAProxy), or
 * plain base64 DER. Returns its SHA-1 thumbprint, or null when the value is not a certificate.
 */
export function forwardedCertificateThumbprint(raw: string | string[] | undefined): string | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 16_384) return null;
  let value = raw.trim();
  if (value.includes('%')) {
    try {
      value = decodeURIComponent(value);
    } catch {
      return null;
    }
  }
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(value);
  const base64 = (pem ? pem[1]! : value).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) return null;
  const der = Buffer.from(base64, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    return null;
  }
  return thumbprintOf(der);
}
