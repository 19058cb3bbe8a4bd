import { X509Certificate } from 'node:crypto';
import { isBase64, stripWhitespace } from '../../lib/base64.ts';
import { thumbprintOf } from '../../pki/certificate-authority.ts';

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';

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
  // indexOf, not a lazy pattern: an unanchored `[\s\S]+?` rescans the rest of the header from
  // every BEGIN line it finds.
  const begin = value.indexOf(PEM_BEGIN);
  const end = begin === -1 ? -1 : value.indexOf(PEM_END, begin + PEM_BEGIN.length);
  const base64 = stripWhitespace(end === -1 ? value : value.slice(begin + PEM_BEGIN.length, end));
  if (!isBase64(base64)) return null;
  const der = Buffer.from(base64, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    return null;
  }
  return thumbprintOf(der);
}
