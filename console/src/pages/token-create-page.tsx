/** Create one token: pick a user (or type a new one's email), then the token's options. */
import { useEffect, useId, useState } from 'preact/hooks';
import { api, unwrap, type Failure } from '../api.ts';
import { t } from '../i18n.ts';
import { Link } from '../link.tsx';
import { perm, TOKENS, type Platform } from '../platform.ts';
import { navigate } from '../router.ts';
import { useCan, useSession } from '../session.ts';
import { Empty, ErrorBanner, TextField } from '../ui.tsx';
import { DEFAULT_OPTIONS, optionFieldNames, optionsBody, TokenOptionsFields } from './token-options.tsx';

const USERS = '/v1/organizations/{organizationId}/mdm/users';

export function TokenCreatePage({ platform }: { platform: Platform }) {
  const organizationId = useSession().organization.id;
  const can = useCan();
  const [email, setEmail] = useState('');
  const [suggestions, setSuggestions] = useState<Array<{ id: string; email: string; name: string }>>([]);
  const [options, setOptions] = useState(DEFAULT_OPTIONS);
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  const listId = useId();

  useEffect(() => {
    const search = email.trim();
    if (search.length < 2) return setSuggestions([]);
    const timer = setTimeout(async () => {
      const found = await unwrap(api.GET(USERS, { params: { path: { organizationId }, query: { search, limit: 10 } } }));
      setSuggestions(found.data?.items ?? []);
    }, 250);
    return () => clearTimeout(timer);
  }, [email]);

  /** The typed email's user, created when it is new and the key may create users. */
  const resolveUser = async (): Promise<{ id?: string; failure?: Failure }> => {
    const wanted = email.trim().toLowerCase();
    const known = suggestions.find((u) => u.email === wanted);
    if (known) return { id: known.id };
    const found = await unwrap(api.GET(USERS, { params: { path: { organizationId }, query: { email: wanted, limit: 1 } } }));
    if (found.failure) return { failure: { ...found.failure, fields: { mdmUserId: found.failure.fields.email ?? t('create.userInvalid') } } };
    if (found.data?.items[0]) return { id: found.data.items[0].id };
    if (!can('mdm.global.mdmUser.create')) return { failure: { status: 404, code: 3001, message: '', fields: { mdmUserId: t('create.userUnknown') } } };
    const created = await unwrap(api.POST(USERS, { params: { path: { organizationId } }, body: { email: wanted } }));
    if (created.failure) return { failure: { ...created.failure, fields: { mdmUserId: created.failure.fields.email ?? messageFor(created.failure) } } };
    return { id: created.data!.id };
  };

  if (!can(perm(platform, 'create'))) return <Empty title={t('error.forbidden')} />;
  const shown = ['mdmUserId', ...optionFieldNames(platform, options)];
  return (
    <>
      <p class="crumbs">
        <Link href={`/tokens/${platform}`}>{t(platform === 'windows' ? 'tokens.titleWindows' : 'tokens.titleApple')}</Link>
      </p>
      <h1>{t(platform === 'windows' ? 'create.titleWindows' : 'create.titleApple')}</h1>
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setFailure(undefined);
          const user = await resolveUser();
          if (!user.id) {
            setBusy(false);
            return setFailure(user.failure);
          }
          const body = { mdmUserId: user.id, ...optionsBody(platform, options) };
          // The body is built for either platform's schema; the server validates every field.
          const created = await unwrap(api.POST(TOKENS[platform], { params: { path: { organizationId } }, body: body as never }));
          setBusy(false);
          if (created.failure) return setFailure(created.failure);
          navigate(`/tokens/${platform}/${(created.data as { id: string }).id}`);
        }}
      >
        <ErrorBanner failure={failure} shownFields={shown} />
        <TextField
          label={t('create.user')}
          name="email"
          type="email"
          required
          autoComplete="off"
          list={listId}
          placeholder="jane@example.com"
          value={email}
          hint={t('create.userHint')}
          error={failure?.fields.mdmUserId}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
        />
        <datalist id={listId}>
          {suggestions.map((u) => (
            <option key={u.id} value={u.email}>
              {u.name}
            </option>
          ))}
        </datalist>
        <TokenOptionsFields platform={platform} value={options} onChange={setOptions} failure={failure} />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? t('common.working') : t('create.submit')}
          </button>
          <Link class="button secondary" href={`/tokens/${platform}`}>
            {t('common.cancel')}
          </Link>
        </div>
      </form>
    </>
  );
}

function messageFor(failure: Failure): string {
  return failure.code === 5048 ? t('error.userExists') : failure.message;
}
