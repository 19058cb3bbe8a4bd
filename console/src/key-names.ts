import { api, unwrap } from './api.ts';
import { t } from './i18n.ts';
import { useCan, useSession } from './session.ts';
import { useLoad } from './ui.tsx';

/**
 * Names the key behind an audit event. The session's own key is always known; the others only
 * when the key may list API keys (admins), since their names are not for every reader: a key
 * that may not list them sees the acting key's short id instead.
 */
export function useKeyNamer(): (keyId: string) => string {
  const session = useSession();
  const can = useCan();
  const mayList = can('base.organization.apiKey.list');
  const keys = useLoad(
    () => (mayList ? unwrap(api.GET('/v1/organizations/{organizationId}/api-keys', { params: { path: { organizationId: session.organization.id }, query: { limit: 500 } } })) : Promise.resolve({})),
    [mayList],
  );
  const names = new Map<string, string>([[session.key.id, session.key.name]]);
  for (const k of (keys.data as { items?: Array<{ id: string; name: string }> } | undefined)?.items ?? []) names.set(k.id, k.name);
  return (keyId) => {
    const name = names.get(keyId);
    return name ? t('event.by', { key: name }) : t('event.byKeyId', { prefix: keyId.slice(0, 6) });
  };
}
