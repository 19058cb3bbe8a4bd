/**
 * An Apple policy's `profiles`: the items it has, and `.mobileconfig` files read in the browser
 * (File.text(), nothing uploaded elsewhere) into new items' `mobileconfig` field. The server
 * checks each profile; its error for a row (`profiles.<row>.mobileconfig`) is shown in that row.
 */
import { useId, useState } from 'preact/hooks';
import { t } from '../i18n.ts';

export type ProfileItem = Record<string, unknown>;

/**
 * The identifier and name a profile's top-level plist dictionary declares, as far as it reads.
 * A scan of the tags rather than DOMParser: a broken file would make Chromium draw a parser
 * error with inline styles, which the console's Content-Security-Policy refuses (and reports).
 */
function profileFacts(item: ProfileItem): { identifier: string; displayName: string } {
  const xml = typeof item.mobileconfig === 'string' ? item.mobileconfig : '';
  const facts = { identifier: '', displayName: typeof item.name === 'string' ? item.name : '' };
  let depth = 0;
  let key: string | undefined;
  for (const [whole, close, tag, text] of xml.matchAll(/<(\/?)(dict|array|key|string)\b[^>]*>(?:([^<]*)<\/\2>)?/g)) {
    const empty = whole.endsWith('/>');
    if ((tag === 'dict' || tag === 'array') && empty) key = undefined;
    else if (tag === 'dict' || tag === 'array') {
      depth += close ? -1 : 1;
      key = undefined;
    } else if (depth === 1 && tag === 'key') key = text;
    else if (depth === 1 && tag === 'string') {
      if (key === 'PayloadIdentifier') facts.identifier = decode(text ?? '');
      if (key === 'PayloadDisplayName') facts.displayName = decode(text ?? '');
      key = undefined;
    }
  }
  return facts;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function decode(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|apos);/g, (_, name: string) => ENTITIES[name]!);
}

export function profileFieldNames(items: ProfileItem[]): string[] {
  return ['profiles', ...items.flatMap((_, i) => [`profiles.${i}`, `profiles.${i}.mobileconfig`])];
}

export function AppleProfilesTable({ items, onChange, fields, editable }: { items: ProfileItem[]; onChange: (items: ProfileItem[]) => void; fields: Record<string, string>; editable: boolean }) {
  const inputId = useId();
  const [unreadable, setUnreadable] = useState<string[]>([]);
  return (
    <fieldset class="profiles">
      <legend>{t('policy.profiles')}</legend>
      <p class="hint">{t('policy.profilesHint')}</p>
      {fields.profiles && <p class="field-error">{fields.profiles}</p>}
      {items.length === 0 ? (
        <p class="hint">{t('policy.noProfiles')}</p>
      ) : (
        <table class="list profiles-table">
          <caption class="visually-hidden">{t('policy.profiles')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('policy.profileName')}</th>
              <th scope="col">{t('policy.profileIdentifier')}</th>
              {editable && (
                <th scope="col">
                  <span class="visually-hidden">{t('common.actions')}</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {items.map((item, i) => {
              const facts = profileFacts(item);
              const error = fields[`profiles.${i}.mobileconfig`] ?? fields[`profiles.${i}`];
              return (
                <tr key={i}>
                  <td data-label={t('policy.profileName')}>
                    {facts.displayName || '—'}
                    {error && <p class="field-error">{error}</p>}
                  </td>
                  <td data-label={t('policy.profileIdentifier')}>{typeof item.mobileconfig === 'string' ? <code>{facts.identifier || '—'}</code> : <span class="muted">{t('policy.other')}</span>}</td>
                  {editable && (
                    <td class="row-actions">
                      <button type="button" class="secondary small" aria-label={t('policy.removeProfile', { n: i + 1 })} onClick={() => onChange(items.filter((_, j) => j !== i))}>
                        {t('common.remove')}
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {editable && (
        <div class="field">
          <label for={inputId}>{t('policy.upload')}</label>
          <input
            id={inputId}
            type="file"
            multiple
            accept=".mobileconfig,application/x-apple-aspen-config,application/xml,text/xml"
            onChange={async (e) => {
              const input = e.target as HTMLInputElement;
              const files = Array.from(input.files ?? []);
              const added: ProfileItem[] = [];
              const failed: string[] = [];
              for (const file of files) {
                try {
                  added.push({ name: file.name, mobileconfig: await file.text() });
                } catch {
                  failed.push(file.name);
                }
              }
              setUnreadable(failed);
              onChange([...items, ...added]);
              input.value = '';
            }}
          />
          {unreadable.map((name) => (
            <p class="field-error" key={name}>
              {t('policy.unreadable', { name })}
            </p>
          ))}
        </div>
      )}
    </fieldset>
  );
}
