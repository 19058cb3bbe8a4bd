import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { signIn, type Failure, type Session } from '../api.ts';
import { t } from '../i18n.ts';
import { messageOf, TextField } from '../ui.tsx';

/**
 * The key goes to the server once, in the sign-in request, and comes back as an HttpOnly cookie;
 * the field is cleared and the key is kept nowhere in the page or the browser's storage.
 */
export function SignInPage({ onSignedIn, ended, languagePicker }: { onSignedIn: (s: Session) => void; ended: boolean; languagePicker: ComponentChildren }) {
  const [key, setKey] = useState('');
  const [failure, setFailure] = useState<Failure>();
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="sign-in">
      <div class="sign-in-card">
        <div class="sign-in-head">
          <h1>
            <span class="logo" aria-hidden="true" /> {t('signIn.title')}
          </h1>
          {languagePicker}
        </div>
        <p>{t('signIn.intro')}</p>
        {ended && (
          <p class="banner info" role="status">
            {t('signIn.ended')}
          </p>
        )}
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            const result = await signIn(key.trim());
            setBusy(false);
            if (result.session) {
              setKey('');
              onSignedIn(result.session);
            } else setFailure(result.failure);
          }}
        >
          <TextField
            label={t('signIn.key')}
            name="key"
            type="password"
            autoComplete="off"
            spellcheck={false}
            required
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
            hint={t('signIn.keyHint')}
            error={failure ? (failure.code === 4004 ? t('signIn.invalid') : failure.code === 4005 ? t('signIn.expired') : messageOf(failure)) : undefined}
          />
          <button type="submit" disabled={busy || key.trim() === ''}>
            {t('signIn.submit')}
          </button>
        </form>
      </div>
    </main>
  );
}
