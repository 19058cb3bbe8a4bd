import { createServer, type AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A free TCP port on loopback: listen on 0, read the port, close. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A real SMTP server in the test process that parses what it receives. */
export interface TestSmtpServer {
  port: number;
  url: string;
  received: ParsedMail[];
  /**
   * For each of `received`, at the same index: when its session's MAIL FROM came and when the
   * server accepted the message (Date.now() in the test process).
   */
  timings: Array<{ startedAt: number; acceptedAt: number }>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestSmtpOptions {
  /**
   * Time the server takes over each message (a slow relay), spent checking its recipient, before
   * the message is sent: a client that dies meanwhile has sent nothing the server keeps.
   */
  delayMs?: number;
}

export async function createTestSmtpServer(port?: number, options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const chosen = port ?? (await freePort());
  const received: ParsedMail[] = [];
  const timings: TestSmtpServer['timings'] = [];
  const startedAt = new Map<string, number>();
  let server: SMTPServer | undefined;
  return {
    port: chosen,
    url: `smtp://127.0.0.1:${chosen}`,
    received,
    timings,
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onMailFrom(_address, session, callback) {
          startedAt.set(session.id, Date.now());
          callback();
        },
        onRcptTo(_address, _session, callback) {
          if (options.delayMs) setTimeout(() => callback(), options.delayMs);
          else callback();
        },
        onData(stream, session, callback) {
          simpleParser(stream)
            .then((mail) => {
              received.push(mail);
              timings.push({ startedAt: startedAt.get(session.id) ?? 0, acceptedAt: Date.now() });
              startedAt.delete(session.id);
              callback();
            })
            .catch(callback);
        },
      });
      // A client killed mid-session resets its connection: not the server's failure.
      server.on('error', () => {});
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(chosen, '127.0.0.1', () => resolve());
      });
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}
