import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

/** One request as the loopback APNs received it. */
export interface ApnsRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** SHA-256 fingerprint of the TLS client certificate presented (the organization's push certificate). */
  clientCertificate: string | null;
}

export interface ApnsAnswer {
  status: number;
  reason?: string;
}

/** A CA and a server certificate for 127.0.0.1, made by OpenSSL for this run. */
function makeServerCertificate(): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'apns-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Openroll test APNs CA', '-days', '2',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
    execFileSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n" > ext.cnf'], { cwd: dir });
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
    const read = (name: string) => readFileSync(join(dir, name), 'utf8');
    return { ca: read('ca.pem'), cert: read('server.pem'), key: read('server.key') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * An HTTP/2 TLS server on loopback that answers like APNs (Apple, "Sending notification requests
 * to APNs": 200 with an apns-id, errors as `{"reason": ...}`), requires a client certificate,
 * and records every request and every session. Answers come from `answers` in order, then 200.
 */
export async function startLoopbackApns() {
  const tls = makeServerCertificate();
  const requests: ApnsRequest[] = [];
  const answers: ApnsAnswer[] = [];
  let sessions = 0;
  let served = 0;
  const server: Http2SecureServer = createSecureServer({ key: tls.key, cert: tls.cert, requestCert: true, rejectUnauthorized: false, allowHTTP1: false });
  const live = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (session) => {
    sessions++;
    live.add(session);
    session.on('close', () => live.delete(session));
  });
  server.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate(false);
      const clientCertificate = peer?.raw ? new X509Certificate(peer.raw).fingerprint256 : null;
      requests.push({ path: String(headers[':path']), headers, body: Buffer.concat(chunks).toString('utf8'), clientCertificate });
      const answer = answers.shift() ?? { status: 200 };
      served++;
      const apnsId = `00000000-0000-4000-8000-${String(served).padStart(12, '0')}`;
      if (answer.status === 200) {
        stream.respond({ ':status': 200, 'apns-id': apnsId });
        stream.end();
      } else {
        stream.respond({ ':status': answer.status, 'apns-id': apnsId, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ reason: answer.reason ?? 'InternalServerError' }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: tls.ca,
    requests,
    answers,
    sessions: () => sessions,
    /** Closes every session from the server's side, as APNs does on a GOAWAY. */
    dropSessions(): void {
      for (const s of live) s.close();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export type LoopbackApns = Awaited<ReturnType<typeof startLoopbackApns>>;
