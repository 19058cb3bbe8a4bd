/**
 * The fields a single token and a bulk share: policies with priority, duration, language, email.
 * The part an existing token's update (PUT) may change too (name, policies, segment, VPP
 * location, tags) is TokenTargetFields, which the edit page uses alone.
 */
import { api, unwrap, type Failure } from '../api.ts';
import { t, tn } from '../i18n.ts';
import { POLICIES, type Platform } from '../platform.ts';
import { useSession } from '../session.ts';
import { CheckboxField, SelectField, TextAreaField, TextField, useLoad } from '../ui.tsx';

export const TOKEN_LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt'] as const;
const UNITS = { minutes: 60, hours: 3600, days: 86_400 } as const;
type Unit = keyof typeof UNITS;

/** What a create sets and an update (PUT) may change. */
export interface TokenTarget {
  displayName: string;
  assignments: Array<{ policyId: string; priority: string }>;
  segmentId: string;
  vppLocationId: string;
  tags: string;
}

export interface TokenOptions extends TokenTarget {
  durationValue: string;
  durationUnit: Unit;
  language: string;
  sendEmail: boolean;
  emailText: string;
}

export const DEFAULT_OPTIONS: TokenOptions = {
  displayName: '',
  assignments: [],
  durationValue: '1',
  durationUnit: 'days',
  language: '',
  segmentId: '',
  vppLocationId: '',
  tags: '',
  // The same for one token and for a bulk: the email is how the people get their link.
  sendEmail: true,
  emailText: '',
};

const ASSIGNMENTS = { windows: 'winPolicyAssignments', apple: 'admPolicyAssignments' } as const;
const POLICY_ID = { windows: 'winPolicyId', apple: 'admPolicyId' } as const;

function tagList(tags: string): string[] {
  return tags
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function assignmentsBody(platform: Platform, o: TokenTarget): Array<Record<string, unknown>> {
  return o.assignments.map((a) => ({ [POLICY_ID[platform]]: a.policyId, priority: a.priority === '' ? Number.NaN : Number(a.priority) }));
}

/** The body fields of the options, as the create and bulk APIs name them per platform. */
export function optionsBody(platform: Platform, o: TokenOptions): Record<string, unknown> {
  const body: Record<string, unknown> = {
    sendEmail: o.sendEmail,
    displayName: o.displayName,
    duration: Math.round(Number(o.durationValue) * UNITS[o.durationUnit]),
    tags: tagList(o.tags),
    [ASSIGNMENTS[platform]]: assignmentsBody(platform, o),
  };
  if (o.sendEmail) body.emailText = o.emailText;
  if (o.language) body.language = o.language;
  if (o.segmentId) body.segmentId = Number(o.segmentId);
  if (platform === 'apple' && o.vppLocationId) body.admVppLocationId = o.vppLocationId;
  return body;
}

/** The update (PUT) body: every field it may change, an empty choice clearing the reference. */
export function updateBody(platform: Platform, o: TokenTarget): Record<string, unknown> {
  return {
    displayName: o.displayName,
    tags: tagList(o.tags),
    segmentId: o.segmentId ? Number(o.segmentId) : null,
    [ASSIGNMENTS[platform]]: assignmentsBody(platform, o),
    ...(platform === 'apple' ? { admVppLocationId: o.vppLocationId || null } : {}),
  };
}

/** Body field names whose errors this form shows next to a field. */
export function optionFieldNames(platform: Platform, o: TokenTarget): string[] {
  return ['duration', 'language', 'sendEmail', 'emailText', ...targetFieldNames(platform, o)];
}

/** Body field names whose errors TokenTargetFields shows next to a field. */
export function targetFieldNames(platform: Platform, o: TokenTarget): string[] {
  const a = ASSIGNMENTS[platform];
  return ['displayName', 'segmentId', 'admVppLocationId', 'tags', a, ...o.assignments.flatMap((_, i) => [`${a}.${i}`, `${a}.${i}.priority`, `${a}.${i}.${POLICY_ID[platform]}`])];
}

export function TokenOptionsFields({ platform, value, onChange, failure }: { platform: Platform; value: TokenOptions; onChange: (o: TokenOptions) => void; failure?: Failure | undefined }) {
  const err = (name: string) => failure?.fields[name];
  const set = <K extends keyof TokenOptions>(key: K, v: TokenOptions[K]) => onChange({ ...value, [key]: v });
  const input = (e: Event) => (e.target as HTMLInputElement).value;
  const plural = unitPlural(value.durationValue);

  return (
    <>
      <TokenTargetFields platform={platform} value={value} onChange={(target) => onChange({ ...value, ...target })} failure={failure} />
      <div class="field-row">
        <TextField
          label={t('create.duration')}
          name="durationValue"
          type="number"
          inputMode="numeric"
          min={1}
          value={value.durationValue}
          error={err('duration')}
          hint={t('create.durationHint')}
          onInput={(e) => set('durationValue', input(e))}
        />
        <SelectField
          label={t('create.unit')}
          name="durationUnit"
          value={value.durationUnit}
          options={(Object.keys(UNITS) as Unit[]).map((u) => ({ value: u, label: plural(u) }))}
          onChange={(e) => set('durationUnit', (e.target as HTMLSelectElement).value as Unit)}
        />
      </div>
      <SelectField
        label={t('create.language')}
        name="language"
        value={value.language}
        error={err('language')}
        options={[{ value: '', label: t('create.languageDefault') }, ...TOKEN_LANGUAGES.map((l) => ({ value: l, label: t(`lang.${l}`) }))]}
        onChange={(e) => set('language', (e.target as HTMLSelectElement).value)}
      />
      <CheckboxField label={t('create.sendEmail')} name="sendEmail" checked={value.sendEmail} error={err('sendEmail')} onChange={(e) => set('sendEmail', (e.target as HTMLInputElement).checked)} />
      {value.sendEmail && (
        <TextAreaField label={t('create.emailText')} name="emailText" rows={3} value={value.emailText} hint={t('create.emailTextHint')} error={err('emailText')} onInput={(e) => set('emailText', (e.target as HTMLTextAreaElement).value)} />
      )}
    </>
  );
}

/** The unit's name in the number's plural form: “1 day”, “2 days” (Intl.PluralRules via tn). */
function unitPlural(count: string): (u: Unit) => string {
  const n = Number(count);
  return (u) => tn(`unit.${u}`, Number.isFinite(n) ? n : 2);
}

/** Name, policies with priorities, segment, VPP location (Apple) and tags: a create's and an update's. */
export function TokenTargetFields<T extends TokenTarget>({ platform, value, onChange, failure }: { platform: Platform; value: T; onChange: (o: T) => void; failure?: Failure | undefined }) {
  const organizationId = useSession().organization.id;
  const err = (name: string) => failure?.fields[name];
  const set = <K extends keyof TokenTarget>(key: K, v: TokenTarget[K]) => onChange({ ...value, [key]: v });
  const policies = useLoad(() => unwrap(api.GET(POLICIES[platform], { params: { path: { organizationId }, query: { limit: 500, sort: 'name:asc' } } })), [platform]);
  const segments = useLoad(() => unwrap(api.GET('/v1/organizations/{organizationId}/segments', { params: { path: { organizationId }, query: { limit: 500 } } })), []);
  const vpp = useLoad(
    () => (platform === 'apple' ? unwrap(api.GET('/v1/organizations/{organizationId}/mdm/apple/enterprise/vpp/locations', { params: { path: { organizationId }, query: { limit: 500 } } })) : Promise.resolve({})),
    [platform],
  );
  const a = ASSIGNMENTS[platform];
  const policyOptions = (policies.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }));
  const input = (e: Event) => (e.target as HTMLInputElement).value;

  return (
    <>
      <TextField label={t('create.displayName')} name="displayName" maxLength={128} value={value.displayName} error={err('displayName')} onInput={(e) => set('displayName', input(e))} />
      <fieldset class="policies">
        <legend>{t('create.policies')}</legend>
        {err(a) && <p class="field-error">{err(a)}</p>}
        {value.assignments.length === 0 && <p class="hint">{policyOptions.length ? t('create.noPolicy') : t('create.noPoliciesYet')}</p>}
        {value.assignments.map((row, i) => {
          const update = (patch: Partial<(typeof value.assignments)[number]>) => set('assignments', value.assignments.map((r, j) => (j === i ? { ...r, ...patch } : r)));
          return (
            <div class="policy-row" key={i}>
              <SelectField
                label={t('create.policyN', { n: i + 1 })}
                value={row.policyId}
                options={policyOptions}
                error={err(`${a}.${i}.${POLICY_ID[platform]}`) ?? err(`${a}.${i}`)}
                onChange={(e) => update({ policyId: (e.target as HTMLSelectElement).value })}
              />
              <TextField
                label={t('create.priority')}
                type="number"
                inputMode="numeric"
                min={0}
                max={10000}
                value={row.priority}
                error={err(`${a}.${i}.priority`)}
                onInput={(e) => update({ priority: input(e) })}
              />
              <button type="button" class="secondary small" aria-label={t('create.removePolicy', { n: i + 1 })} onClick={() => set('assignments', value.assignments.filter((_, j) => j !== i))}>
                {t('common.remove')}
              </button>
            </div>
          );
        })}
        {policyOptions.length > 0 && (
          <button
            type="button"
            class="secondary small"
            onClick={() => set('assignments', [...value.assignments, { policyId: policyOptions[0]!.value, priority: String(value.assignments.length * 10) }])}
          >
            {t('create.addPolicy')}
          </button>
        )}
        <p class="hint">{t('create.priorityHint')}</p>
      </fieldset>
      <SelectField
        label={t('create.segment')}
        name="segmentId"
        value={value.segmentId}
        error={err('segmentId')}
        options={[{ value: '', label: t('create.none') }, ...(segments.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))]}
        onChange={(e) => set('segmentId', (e.target as HTMLSelectElement).value)}
      />
      {platform === 'apple' && (
        <SelectField
          label={t('create.vpp')}
          name="admVppLocationId"
          value={value.vppLocationId}
          error={err('admVppLocationId')}
          options={[{ value: '', label: t('create.none') }, ...((vpp.data as { items?: Array<{ id: string; name: string }> } | undefined)?.items ?? []).map((v) => ({ value: v.id, label: v.name }))]}
          onChange={(e) => set('vppLocationId', (e.target as HTMLSelectElement).value)}
        />
      )}
      <TextField label={t('create.tags')} name="tags" value={value.tags} hint={t('create.tagsHint')} error={err('tags')} onInput={(e) => set('tags', input(e))} />
    </>
  );
}
