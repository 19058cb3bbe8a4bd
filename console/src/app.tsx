/** The console's frame: sign-in or the signed-in layout, the navigation, and the page routes. */
import { useEffect, useState } from 'preact/hooks';
import { loadSession, signOut, whenSignedOut, type Session } from './api.ts';
import { currentLang, LANGUAGES, setLang, t, type Lang } from './i18n.ts';
import { ApiKeysPage } from './pages/api-keys-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { DevicePage } from './pages/device-page.tsx';
import { DevicesPage } from './pages/devices-page.tsx';
import { PoliciesPage } from './pages/policies-page.tsx';
import { PolicyEditPage } from './pages/policy-edit-page.tsx';
import { SegmentsPage } from './pages/segments-page.tsx';
import { SignInPage } from './pages/sign-in-page.tsx';
import { TokenBulkPage } from './pages/token-bulk-page.tsx';
import { TokenCreatePage } from './pages/token-create-page.tsx';
import { TokenEditPage } from './pages/token-edit-page.tsx';
import { TokenPage } from './pages/token-page.tsx';
import { TokensPage } from './pages/tokens-page.tsx';
import { UserEditPage } from './pages/user-edit-page.tsx';
import { UsersPage } from './pages/users-page.tsx';
import { VppLocationsPage } from './pages/vpp-locations-page.tsx';
import { isPlatform } from './platform.ts';
import { BASE, navigate, useLocation } from './router.ts';
import { SessionContext } from './session.ts';
import { Empty, Loading } from './ui.tsx';

function NavLink({ href, children, current }: { href: string; children: string; current: string }) {
  const active = current === href || current.startsWith(`${href}/`);
  return (
    <a
      href={BASE + href}
      aria-current={active ? 'page' : undefined}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(href);
      }}
    >
      {children}
    </a>
  );
}

function LanguagePicker({ onChange }: { onChange: (lang: Lang) => void }) {
  return (
    <label class="lang">
      <span class="visually-hidden">{t('nav.language')}</span>
      <select value={currentLang()} onChange={(e) => onChange((e.target as HTMLSelectElement).value as Lang)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code} lang={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

function Routes({ path }: { path: string }) {
  const parts = path.split('/').filter(Boolean);
  const [section, a, b, c] = parts;
  if (section === 'tokens' && isPlatform(a) && b && c === 'edit') return <TokenEditPage platform={a} id={b} />;
  if (section === 'policies' && isPlatform(a) && b && !c) return <PolicyEditPage platform={a} id={b} />;
  if (section === 'users' && a && !b) return <UserEditPage id={a} />;
  if (section === 'tokens' && isPlatform(a)) {
    if (b === 'new') return <TokenCreatePage platform={a} />;
    if (b === 'bulk') return <TokenBulkPage platform={a} />;
    if (b) return <TokenPage platform={a} id={b} />;
    return <TokensPage platform={a} />;
  }
  if (section === 'dashboard' && !a) return <DashboardPage />;
  if (section === 'devices' && isPlatform(a)) return b ? <DevicePage platform={a} id={b} /> : <DevicesPage platform={a} />;
  if (section === 'users' && !a) return <UsersPage />;
  if (section === 'policies' && isPlatform(a) && !b) return <PoliciesPage platform={a} />;
  if (section === 'segments' && !a) return <SegmentsPage />;
  if (section === 'vpp-locations' && !a) return <VppLocationsPage />;
  if (section === 'api-keys' && !a) return <ApiKeysPage />;
  return <Empty title={t('common.notFoundPage')} />;
}

export function App() {
  const [session, setSession] = useState<Session | undefined | null>(null);
  const [, setLangTick] = useState(currentLang());
  const [menuOpen, setMenuOpen] = useState(false);
  const [ended, setEnded] = useState(false);
  const loc = useLocation();

  useEffect(() => {
    whenSignedOut(() => {
      setSession(undefined);
      setEnded(true);
    });
    void loadSession().then(setSession);
  }, []);
  useEffect(() => {
    if (session && (loc.path === '/' || loc.path === '/sign-in')) navigate('/dashboard', { replace: true });
    setMenuOpen(false);
  }, [session, loc.path]);

  const changeLang = (lang: Lang) => {
    setLang(lang);
    setLangTick(lang);
  };

  if (session === null) return <Loading />;
  if (!session) {
    return (
      <SignInPage
        ended={ended}
        languagePicker={<LanguagePicker onChange={changeLang} />}
        onSignedIn={(s) => {
          setEnded(false);
          setSession(s);
        }}
      />
    );
  }

  const p = loc.path;
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        {t('nav.skip')}
      </a>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          <span>Openroll</span>
          <span class="org" title={session.organization.slug}>
            {session.organization.name}
          </span>
        </div>
        <button type="button" class="menu-toggle secondary" aria-expanded={menuOpen} aria-controls="main-nav" onClick={() => setMenuOpen(!menuOpen)}>
          {t('nav.menu')}
        </button>
        <nav id="main-nav" class={menuOpen ? 'open' : ''} aria-label={t('nav.label')}>
          <NavLink href="/dashboard" current={p}>{t('nav.dashboard')}</NavLink>
          <NavLink href="/tokens/windows" current={p}>{t('nav.windowsTokens')}</NavLink>
          <NavLink href="/tokens/apple" current={p}>{t('nav.appleTokens')}</NavLink>
          {session.permissions.includes('mdm.windows.device.list') && <NavLink href="/devices/windows" current={p}>{t('nav.windowsDevices')}</NavLink>}
          {session.permissions.includes('mdm.apple.device.list') && <NavLink href="/devices/apple" current={p}>{t('nav.appleDevices')}</NavLink>}
          <NavLink href="/users" current={p}>{t('nav.users')}</NavLink>
          <NavLink href="/policies/windows" current={p}>{t('nav.windowsPolicies')}</NavLink>
          <NavLink href="/policies/apple" current={p}>{t('nav.applePolicies')}</NavLink>
          <NavLink href="/segments" current={p}>{t('nav.segments')}</NavLink>
          <NavLink href="/vpp-locations" current={p}>{t('nav.vpp')}</NavLink>
          {session.permissions.includes('base.organization.apiKey.list') && <NavLink href="/api-keys" current={p}>{t('nav.apiKeys')}</NavLink>}
        </nav>
        <div class="account">
          <LanguagePicker onChange={changeLang} />
          <span class="key-name" title={session.key.prefix}>
            {session.key.name}
          </span>
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              await signOut();
              setSession(undefined);
              navigate('/sign-in', { replace: true });
            }}
          >
            {t('nav.signOut')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Routes path={p} />
      </main>
    </SessionContext.Provider>
  );
}
