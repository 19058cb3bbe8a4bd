import { X509Certificate } from 'node:crypto';
import { TLSSocket } from 'node:tls';
import proxyAddr from '@fastify/proxy-addr';
import type { FastifyRequest } from 'fastify';
import { isBase64, stripWhitespace } from '../../lib/base64.ts';

/**
 * The client certificate a session presents: its DER, none, or something that is not a
 * certificate. Who it belongs to is the management service's question, not this one's.
 */
export type PresentedCertificate = { der: Buffer } | 'none' | 'unreadable';

const PEM_BEGIN = '-----BEGIN CERTIFICATE-----';
const PEM_END = '-----END CERTIFICATE-----';

/**
 * The client certificate a TLS-terminating proxy forwards in a header: URL-encoded PEM (nginx
 * `$ssl_client_escaped_cert`), PEM with its newlines folded into spaces (Apache, HAProxy), or
 * plain base64 DER. Returns its DER, or null when the value is not a certificate.
 */
export function forwardedCertificateDer(raw: string | string[] | undefined): Buffer | null {
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
  if (begin !== -1 && end === -1) return null;
  const base64 = stripWhitespace(begin === -1 ? value : value.slice(begin + PEM_BEGIN.length, end));
  if (!isBase64(base64)) return null;
  const der = Buffer.from(base64, 'base64');
  try {
    new X509Certificate(der);
  } catch {
    return null;
  }
  return der;
}

export interface CertificateSourceOptions {
  /** MDM_CLIENT_CERT_HEADER, lower-cased; undefined: no proxy forwards certificates. */
  header: string | undefined;
  /** TRUST_PROXY: the header is believed only on connections from these addresses. */
  trustProxy: string[];
}

/**
 * Where a management session's certificate comes from: the TLS handshake of Openroll's own
 * HTTPS (asked of every client, refused by none: the service checks it), else the proxy's
 * header, but only when the connection itself comes from a TRUST_PROXY address. From any other
 * address the header is ignored, as if absent: a client cannot name a certificate it does not hold.
 */
export function createCertificateSource(options: CertificateSourceOptions): (request: FastifyRequest) => PresentedCertificate {
  const trusted = options.trustProxy.length > 0 ? proxyAddr.compile(options.trustProxy) : () => false;
  return (request) => {
    const socket = request.raw.socket;
    if (socket instanceof TLSSocket) {
      const peer = socket.getPeerCertificate(false) as { raw?: Buffer } | null;
      if (peer?.raw && peer.raw.length > 0) return { der: Buffer.from(peer.raw) };
    }
    const address = socket.remoteAddress;
    if (!options.header || !address || !trusted(address, 0)) return 'none';
    const value = request.headers[options.header];
    // nginx sends the variable empty when the client gave no certificate.
    if (value === undefined || value === '') return 'none';
    const der = forwardedCertificateDer(value);
    return der ? { der } : 'unreadable';
  };
}
