import type { LoadResult } from './load.ts';

export interface ScenarioResult extends LoadResult {
  name: string;
  ratio?: number;
}

export interface DatabaseResult {
  database: string;
  kind: 'postgres' | 'pglite';
  load: { rows: number; tokens: number; seconds: number; rowsPerSecond: number };
  ceiling: ScenarioResult;
  scenarios: ScenarioResult[];
  bulk10k: { ms: number; created: number };
  memory: { listPeakMb: number; processPeakMb: number };
}

export interface Results {
  date: string;
  mode: 'quick' | 'full';
  machine: { cpus: number; cpu: string; memoryGb: number; node: string; os: string };
  load: { connections: number; warmupSeconds: number; seconds: number; generator: string };
  databases: DatabaseResult[];
  durationSeconds?: number;
}

/** The targets, for PostgreSQL: a figure and whether it is met. */
const TARGETS: Record<string, { minRatio?: number; maxP99?: number; minRps?: number }> = {
  'list page 1': { minRatio: 0.5, maxP99: 50 },
  'list filtered by mdm-user': { minRatio: 0.4 },
  'list by win-policy, show-deleted': { minRatio: 0.4 },
  'list sorted displayName:asc': { minRatio: 0.4 },
  'deep page 10,000 (limit 25)': { maxP99: 100 },
  'get by id': { minRatio: 0.6 },
  'create one token': { minRps: 1500 },
};

function targetText(s: ScenarioResult): string {
  const t = TARGETS[s.name];
  if (!t) return '';
  const parts: string[] = [];
  if (t.minRatio !== undefined) parts.push(`${s.ratio! >= t.minRatio ? 'met' : 'MISSED'}: ratio ≥ ${t.minRatio}`);
  if (t.maxP99 !== undefined) parts.push(`${s.p99 <= t.maxP99 ? 'met' : 'MISSED'}: p99 ≤ ${t.maxP99} ms`);
  if (t.minRps !== undefined) parts.push(`${s.rps >= t.minRps ? 'met' : 'MISSED'}: ≥ ${t.minRps} req/s`);
  return parts.join('; ');
}

export function renderReport(r: Results): string {
  const lines = [
    `# Benchmark results (${r.mode} run)`,
    '',
    `${r.date.slice(0, 10)} · ${r.machine.cpus} × ${r.machine.cpu}, ${r.machine.memoryGb} GB · Node ${r.machine.node} · ${r.machine.os}`,
    `Load: ${r.load.generator}, ${r.load.connections} connections, ${r.load.seconds} s per scenario after a ${r.load.warmupSeconds} s warm-up, on the same machine as the server.`,
    'Ratios are to the ceiling measured in the same run: a route on the same server that answers a pre-built list page of the same size through the same serializer, with no authentication and no database.',
    '',
  ];
  for (const db of r.databases) {
    lines.push(`## ${db.database}`, '');
    lines.push(`Dataset: ${db.load.tokens.toLocaleString('en')} tokens (${db.load.rows.toLocaleString('en')} rows with users and policies) across 100 organizations, loaded in ${db.load.seconds} s (${db.load.rowsPerSecond.toLocaleString('en')} rows/s).`, '');
    lines.push('| scenario | req/s | p50 ms | p99 ms | ratio to ceiling | target (PostgreSQL) |', '|---|---:|---:|---:|---:|---|');
    lines.push(`| ceiling (pre-built page) | ${db.ceiling.rps} | ${db.ceiling.p50} | ${db.ceiling.p99} | 1.00 | |`);
    for (const s of db.scenarios) {
      const faults = s.non2xx || s.errors ? ` (${s.non2xx} non-2xx, ${s.errors} errors)` : '';
      lines.push(`| ${s.name}${faults} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.ratio?.toFixed(2)} | ${db.kind === 'postgres' ? targetText(s) : ''} |`);
    }
    const bulkTarget = db.kind === 'postgres' ? ` (${db.bulk10k.ms <= 2000 ? 'met' : 'MISSED'}: ≤ 2,000 ms)` : '';
    const memTarget = db.kind === 'postgres' ? ` (${db.memory.listPeakMb <= 300 ? 'met' : 'MISSED'}: ≤ 300 MB)` : '';
    lines.push('', `Bulk create of 10,000 emails (users, tokens, audit events and outbox rows, one transaction): ${db.bulk10k.ms.toLocaleString('en')} ms${bulkTarget}.`);
    lines.push(`Server memory: peak ${db.memory.listPeakMb} MB resident during the list scenarios${memTarget}; ${db.memory.processPeakMb} MB peak over the whole run.`, '');
  }
  return `${lines.join('\n')}\n`;
}
