/**
 * A Windows policy's `settings` (CONTRACT.md section 6) as an editable table: one row per
 * OMA-URI setting, rows added and removed, each cell showing the API's error for it
 * (`settings.<row>.<field>`). Read-only keys get the same table as text.
 */
import { useId } from 'preact/hooks';
import { t, type MessageKey } from '../i18n.ts';

export const FORMATS = ['int', 'chr', 'bool', 'b64', 'xml', 'float'] as const;
export const VERBS = ['Replace', 'Add'] as const;

export interface SettingRow {
  locUri: string;
  format: (typeof FORMATS)[number];
  data: string;
  verb: (typeof VERBS)[number];
}

type Field = keyof SettingRow;
const COLUMNS: Array<{ field: Field; header: MessageKey; label: MessageKey }> = [
  { field: 'locUri', header: 'policy.colLocUri', label: 'policy.locUri' },
  { field: 'format', header: 'policy.colFormat', label: 'policy.format' },
  { field: 'data', header: 'policy.colData', label: 'policy.data' },
  { field: 'verb', header: 'policy.colVerb', label: 'policy.verb' },
];

/** Body field names whose errors the table shows in a cell. */
export function settingFieldNames(rows: SettingRow[]): string[] {
  return ['settings', ...rows.flatMap((_, i) => [`settings.${i}`, ...COLUMNS.map((c) => `settings.${i}.${c.field}`)])];
}

/** One cell's control: a visually hidden label naming the row, and the API's error under it. */
function Cell({ row, field, label, value, error, onChange }: { row: number; field: Field; label: string; value: string; error: string | undefined; onChange: (v: string) => void }) {
  const id = useId();
  const common = { id, 'aria-invalid': error ? ('true' as const) : undefined, 'aria-describedby': error ? `${id}-error` : undefined };
  const choices = field === 'format' ? FORMATS : field === 'verb' ? VERBS : undefined;
  return (
    <div class={`cell${error ? ' has-error' : ''}`}>
      <label class="visually-hidden" for={id}>
        {label}
      </label>
      {choices ? (
        <select {...common} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
          {choices.map((c) => (
            <option key={c} value={c} selected={c === value}>
              {c}
            </option>
          ))}
        </select>
      ) : (
        <input
          {...common}
          name={`settings.${row}.${field}`}
          value={value}
          spellcheck={false}
          autoComplete="off"
          placeholder={field === 'locUri' ? './Device/Vendor/MSFT/Policy/Config/…' : undefined}
          onInput={(e) => onChange((e.target as HTMLInputElement).value)}
        />
      )}
      {error && (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      )}
    </div>
  );
}

export function WinSettingsTable({ rows, onChange, fields, editable }: { rows: SettingRow[]; onChange: (rows: SettingRow[]) => void; fields: Record<string, string>; editable: boolean }) {
  const update = (i: number, field: Field, v: string) => onChange(rows.map((r, j) => (j === i ? { ...r, [field]: v } : r)));
  return (
    <fieldset class="settings">
      <legend>{t('policy.settings')}</legend>
      <p class="hint">{t('policy.settingsHint')}</p>
      {fields.settings && <p class="field-error">{fields.settings}</p>}
      {rows.length === 0 ? (
        <p class="hint">{t('policy.noSettings')}</p>
      ) : (
        <table class="list settings-table">
          <caption class="visually-hidden">{t('policy.settings')}</caption>
          <thead>
            <tr>
              {COLUMNS.map((c) => (
                <th scope="col" key={c.field}>
                  {t(c.header)}
                </th>
              ))}
              {editable && (
                <th scope="col">
                  <span class="visually-hidden">{t('common.actions')}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>
                {COLUMNS.map((c) => (
                  <td key={c.field} data-label={t(c.header)}>
                    {editable ? (
                      <Cell row={i} field={c.field} label={t(c.label, { n: i + 1 })} value={row[c.field]} error={fields[`settings.${i}.${c.field}`]} onChange={(v) => update(i, c.field, v)} />
                    ) : (
                      <code>{row[c.field]}</code>
                    )}
                  </td>
                ))}
                {editable && (
                  <td class="row-actions">
                    {fields[`settings.${i}`] && <p class="field-error">{fields[`settings.${i}`]}</p>}
                    <button type="button" class="secondary small" aria-label={t('policy.removeSetting', { n: i + 1 })} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
                      {t('common.remove')}
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {editable && (
        <button type="button" class="secondary small" onClick={() => onChange([...rows, { locUri: '', format: 'int', data: '', verb: 'Replace' }])}>
          {t('policy.addSetting')}
        </button>
      )}
    </fieldset>
  );
}
