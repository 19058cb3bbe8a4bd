import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { committed, REFRESH_COMMAND, schemaSnapshot, SQL_DIR, statementSnapshots } from '../helpers/sql-snapshots.ts';
import { createTestDatabase, TEST_DB_KIND, type TestDatabase } from '../helpers/test-db.ts';

/**
 * The committed SQL (db/schema.sql, db/statements/*.sql) is what the code makes, on each
 * database: a migration or a query that changes shows in review, and a change that forgets to
 * refresh the files fails here with the difference and the command that refreshes them.
 */

/** The lines that differ, with two lines of context: a unified diff without line numbers. */
function lineDiff(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  // Longest common subsequence, by dynamic programming over the two files (hundreds of lines).
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const ops: Array<[' ' | '-' | '+', string]> = [];
  let [i, j] = [0, 0];
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push([' ', a[i++]!]);
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) ops.push(['-', a[i++]!]);
    else ops.push(['+', b[j++]!]);
  }
  const near = (k: number) => ops.slice(Math.max(0, k - 2), k + 3).some(([op]) => op !== ' ');
  const shown = ops.map((op, k) => (near(k) ? `${op[0]} ${op[1]}` : undefined));
  return shown
    .filter((line, k) => line !== undefined || shown[k - 1] !== undefined)
    .map((line) => line ?? '  ...')
    .slice(0, 200)
    .join('\n');
}

function assertSame(path: string, actual: string): void {
  const expected = committed(path);
  if (expected === actual) return;
  const why = expected === undefined ? 'is missing' : `differs from what the code makes on ${TEST_DB_KIND} (- committed, + made):\n${lineDiff(expected, actual)}`;
  assert.fail(`db/${path} ${why}\n\nRefresh it with \`${REFRESH_COMMAND}\` and review the difference.`);
}

describe('the committed SQL', () => {
  // One fresh database: the schema is read from it, then the statements' app runs on it and drops it.
  let db: TestDatabase;
  let dropped = false;
  before(async () => {
    db = await createTestDatabase();
  });
  after(async () => {
    if (!dropped) await db.drop();
  });

  test('db/schema.sql is the fully migrated database', async () => {
    assertSame('schema.sql', await schemaSnapshot(db.database));
  });

  test('db/statements/ hold what the token list, the bulk create and an Apple policy’s profile change send', async () => {
    dropped = true;
    const made = await statementSnapshots(db);
    for (const [name, text] of made) assertSame(`statements/${name}`, text);
    const stale = readdirSync(join(SQL_DIR, 'statements')).filter((name) => !made.has(name));
    assert.deepEqual(stale, [], `no code makes these: delete them, or refresh with \`${REFRESH_COMMAND}\``);
  });

  test('a drift is shown line by line', () => {
    assert.equal(lineDiff('a\nb\nc', 'a\nB\nc'), '  a\n- b\n+ B\n  c');
  });
});
