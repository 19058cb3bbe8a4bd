import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildServer, serverBuildState } from '../scripts/server-build.mjs';

const SOURCE = fileURLToPath(new URL('./bench-server.ts', import.meta.url));
const COMPILED = fileURLToPath(new URL('../dist/bench/bench-server.js', import.meta.url));

/**
 * The server runs as `npm start` runs it: compiled (dist/, `npm run build`), built first when
 * dist/ does not match the sources, so every run measures the same thing. Through tsx only
 * when TypeScript is not there to build with.
 */
export function serverCommand(log: (line: string) => void): string[] {
  if (!serverBuildState().current) {
    log('  building the server (dist/ does not match the sources)');
    const built = buildServer();
    if (!built.ok) {
      log(`  ${built.reason}; the server runs its sources through tsx`);
      return ['--import', 'tsx', SOURCE];
    }
  }
  return [COMPILED];
}

export interface BenchServer {
  url: string;
  pid: number;
  /** Resident memory now, in MB, read from /proc. */
  rssMb(): number;
  /** The process's peak resident memory so far (VmHWM), in MB. */
  peakMb(): number;
  stop(): Promise<void>;
}

function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts the server (bench-server.ts) as its own process, so the load generator never shares its CPU time. */
export function startBenchServer(command: string[], env: Record<string, string>): Promise<BenchServer> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, command, {
      // `env` carries the target's server key (OPENROLL_SECRET_KEY): the loader minted the keys with it.
      env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+) \(/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      const pid = child.pid!;
      resolve({
        url: match[1]!,
        pid,
        rssMb: () => procStatus(pid, 'VmRSS'),
        peakMb: () => procStatus(pid, 'VmHWM'),
        stop: () =>
          new Promise<void>((done) => {
            child.once('close', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('close', (code) => reject(new Error(`server exited with ${code}:\n${output}`)));
  });
}
