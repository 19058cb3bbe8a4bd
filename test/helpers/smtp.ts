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
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestSmtpOptions {
  /**
   * Time the server takes over each message before it answers (a slow relay). A message counts
   * as received when the server accepts it (its 250): one whose client went away before that
   * was never accepted, as the client never learnt it was.
   */
  delayMs?: number;
}

export async function createTestSmtpServer(port?: number, options: TestSmtpOptions = {}): Promise<TestSmtpServer> {
  const chosen = port ?? (await freePort());
  const received: ParsedMail[] = [];
  let server: SMTPServer | undefined;
  const closed = new Set<string>();
  return {
    port: chosen,
    url: `smtp://127.0.0.1:${chosen}`,
    received,
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onClose(session) {
          closed.add(session.id);
        },
        onData(stream, session, callback) {
          simpleParser(stream)
            .then(async (mail) => {
              if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
              if (closed.has(session.id)) return callback(new Error('the client went away'));
              received.push(mail);
              callback();
            })
            .catch(callback);
        },
      });
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
