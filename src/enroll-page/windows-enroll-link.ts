import type { Lang } from '../mail/i18n.ts';
import { WINDOWS_PATHS } from '../platforms/windows-urls.ts';

/**
 * The link that opens Windows' "Set up a work or school account" with the user name and this
 * server filled in (Settings > Accounts > Access work or school > Enroll only in device management).
 */
export function windowsEnrollmentDeepLink(publicUrl: string, email: string): string {
  const discovery = `${publicUrl}${WINDOWS_PATHS.discovery}`;
  return `ms-device-enrollment:?mode=mdm&username=${encodeURIComponent(email)}&servername=${encodeURIComponent(discovery)}`;
}

/** What a Windows user types where Windows asks for a password: the enrollment code. */
export const WINDOWS_PASSWORD_HINT: Record<Lang, (email: string) => string> = {
  en: (email) => `On Windows, sign in as ${email} and type this code as the password.`,
  es: (email) => `En Windows, inicia sesión como ${email} y escribe este código como contraseña.`,
  fr: (email) => `Sous Windows, connectez-vous en tant que ${email} et saisissez ce code comme mot de passe.`,
  de: (email) => `Melden Sie sich unter Windows als ${email} an und geben Sie diesen Code als Kennwort ein.`,
  it: (email) => `Su Windows, accedi come ${email} e digita questo codice come password.`,
  pt: (email) => `No Windows, inicie sessão como ${email} e digite este código como palavra-passe.`,
};
