import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/openroll.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the operator command line as a user would: a separate process. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // The command line mints keys with the deployment's server key, as the servers check them.
    const key = env.DATABASE_URL ? { OPENROLL_SECRET_KEY: TEST_SECRET_KEY } : {};
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'silent', ...key, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * A server key for servers on PostgreSQL, which refuse to start without one (OPENROLL_SECRET_KEY);
 * the same for every test process, as it would be for every server of one deployment.
 */
export const TEST_SECRET_KEY = Buffer.alloc(32, 7).toString('base64');

/** Starts `openroll serve` on a free port and waits until it prints where it listens. */
export function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  return new Promise((resolve, reject) => {
    const key = env.DATABASE_URL ? { OPENROLL_SECRET_KEY: TEST_SECRET_KEY } : {};
    const child = spawn(process.execPath, [BIN, 'serve'], { env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...key, ...env } });
    let out = '';
    const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
    // Opening a new embedded database runs initdb in WebAssembly: slow on a busy 2-core machine.
    // A server that did not start in time is stopped, or it would keep the test file alive.
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start:\n${out}`));
    }, 240_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/[^\s]+) \(/.exec(out);
      if (match && /API reference/.test(out)) {
        clearTimeout(timer);
        // Let the demo bootstrap lines arrive too.
        setTimeout(() => resolve({ child, url: match[1]!, output: () => out, exited }), 1500);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}
