/**
 * Tokens for many people: emails pasted or read from a CSV file, sent in chunks (each with its
 * own Idempotency-Key, so a retried chunk creates nothing twice) with progress, and a result per
 * row that can be downloaded as CSV.
 */
import { useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { download, emailsFrom, toCsv } from '../csv.ts';
import { t, tn } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, TOKENS, type Platform } from '../platform.ts';
import { useCan, useSession } from '../session.ts';
import { Empty, ErrorBanner, TextAreaField } from '../ui.tsx';
import { DEFAULT_OPTIONS, optionFieldNames, optionsBody, TokenOptionsFields } from './token-options.tsx';

const CHUNK = 100;

interface Row {
  email: string;
  tokenId?: string;
  error?: { code: number; message: string };
}

export function TokenBulkPage({ platform }: { platform: Platform }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const [text, setText] = useState('');
  const [fileName, setFileName] = useState('');
  const [options, setOptions] = useState(DEFAULT_OPTIONS);
  const [failure, setFailure] = useState<Failure>();
  const [progress, setProgress] = useState<{ done: number; total: number }>();
  const [rows, setRows] = useState<Row[]>();
  const emails = emailsFrom(text);
  const running = progress !== undefined && progress.done < progress.total && !failure;

  const run = async () => {
    setFailure(undefined);
    setRows([]);
    const runId = crypto.randomUUID();
    const results: Row[] = [];
    setProgress({ done: 0, total: emails.length });
    for (let i = 0; i < emails.length; i += CHUNK) {
      const chunk = emails.slice(i, i + CHUNK);
      const body = { userEmails: chunk, ...optionsBody(platform, options) };
      const res = await unwrap(
        api.POST(`${TOKENS[platform]}/bulk`, { params: { path: { organizationId } }, headers: { 'Idempotency-Key': `${runId}-${i / CHUNK}` }, body: body as never }),
      );
      if (res.failure) {
        setFailure(res.failure);
        setRows([...results]);
        return;
      }
      results.push(...(res.data as { results: Row[] }).results);
      setRows([...results]);
      setProgress({ done: Math.min(i + CHUNK, emails.length), total: emails.length });
    }
  };

  if (!can(perm(platform, 'create'))) return <Empty title={t('error.forbidden')} />;
  const ok = rows?.filter((r) => r.tokenId).length ?? 0;
  const failed = rows?.filter((r) => r.error).length ?? 0;
  return (
    <>
      <p class="crumbs">
        <Link href={`/tokens/${platform}`}>{t(platform === 'windows' ? 'tokens.titleWindows' : 'tokens.titleApple')}</Link>
      </p>
      <h1>{t(platform === 'windows' ? 'bulk.titleWindows' : 'bulk.titleApple')}</h1>
      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <ErrorBanner failure={failure} shownFields={optionFieldNames(platform, options)} />
        <TextAreaField
          label={t('bulk.emails')}
          name="emails"
          rows={6}
          value={text}
          placeholder={'ana@example.com\nluis@example.com'}
          hint={tn('bulk.emailsHint', emails.length)}
          error={failure?.fields.userEmails}
          onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
        />
        <div class="field">
          <label for="bulk-file">{t('bulk.file')}</label>
          <input
            id="bulk-file"
            type="file"
            accept=".csv,text/csv,text/plain"
            onChange={async (e) => {
              const file = (e.target as HTMLInputElement).files?.[0];
              if (!file) return;
              setFileName(file.name);
              setText(await file.text());
            }}
          />
          {fileName && <p class="hint">{tn('bulk.fileRead', emails.length, { name: fileName })}</p>}
        </div>
        <TokenOptionsFields platform={platform} value={options} onChange={setOptions} failure={failure} />
        <div class="actions">
          <button type="submit" disabled={running || emails.length === 0}>
            {tn('bulk.submit', emails.length)}
          </button>
        </div>
      </form>
      {progress && (
        <section class="card" aria-labelledby="bulk-results">
          <h2 id="bulk-results">{t('bulk.results')}</h2>
          <label class="progress">
            <span>{t('bulk.progress', { done: progress.done, total: progress.total })}</span>
            <progress max={progress.total} value={progress.done} />
          </label>
          <p role="status">{t('bulk.summary', { ok, failed })}</p>
          {rows && rows.length > 0 && (
            <>
              <button
                type="button"
                class="secondary"
                onClick={() =>
                  download(
                    `openroll-${platform}-bulk.csv`,
                    toCsv(
                      ['email', 'tokenId', 'errorCode', 'error'],
                      rows.map((r) => [r.email, r.tokenId ?? '', r.error ? String(r.error.code) : '', r.error?.message ?? '']),
                    ),
                  )
                }
              >
                {t('bulk.download')}
              </button>
              <table class="list">
                <thead>
                  <tr>
                    <th scope="col">{t('bulk.email')}</th>
                    <th scope="col">{t('bulk.result')}</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={i}>
                      <td data-label={t('bulk.email')}>{r.email}</td>
                      <td data-label={t('bulk.result')}>
                        {r.tokenId ? <Link href={`/tokens/${platform}/${r.tokenId}`}>{t('bulk.created')}</Link> : <span class="field-error">{r.error?.message}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
          {rows && rows.length === 0 && !running && <Empty title={t('bulk.none')} />}
        </section>
      )}
    </>
  );
}
