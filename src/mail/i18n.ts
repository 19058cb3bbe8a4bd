import type { Platform } from '../platforms/platforms.ts';

/**
 * The words of the enrollment email and the enrollment page, in every language a token can
 * carry. One table for both so that the steps an employee reads in the email are exactly the
 * ones the page repeats. Strings are plain text: renderers escape them, so nothing here may
 * rely on being HTML.
 */

import { LANGUAGES, type Language } from '../lib/languages.ts';

export { LANGUAGES };
export type Lang = Language;

/** `Record<Lang, Messages>` makes a missing or misspelled key in any language a type error. */
export interface Messages {
  /** BCP 47 tag for `<html lang>`: `pt-PT` because the text is European Portuguese. */
  htmlLang: string;
  subject: (organizationName: string) => string;
  title: string;
  greeting: string;
  intro: (organizationName: string) => string;
  displayNameLabel: string;
  /** French puts a no-break space before the colon. */
  colon: string;
  linkIntro: string;
  startButton: string;
  codeLabel: string;
  /** Per platform: Windows asks for the code; an Apple profile install never does. */
  codeHint: Record<Platform, string>;
  expires: (formattedDate: string) => string;
  stepsHeading: string;
  steps: Record<Platform, readonly string[]>;
  /** Per platform: an Apple profile downloads again until a device has enrolled with it. */
  singleUse: Record<Platform, string>;
  sentTo: (recipient: string, organizationName: string) => string;
  expired: string;
  used: string;
  revoked: string;
  askNewLink: string;
}

const NBSP = '\u00a0';

export const MESSAGES: Record<Lang, Messages> = {
  en: {
    htmlLang: 'en',
    subject: (org) => `Enroll your device with ${org}`,
    title: 'Enroll your device',
    greeting: 'Hello,',
    intro: (org) => `${org} has invited you to enroll your device so that it can securely receive your work apps, email and settings.`,
    displayNameLabel: 'Enrollment name',
    colon: ': ',
    linkIntro: 'Open this link on the device you want to enroll:',
    startButton: 'Start enrollment',
    codeLabel: 'Enrollment code',
    codeHint: {
      windows: 'Keep this code at hand: you may be asked for it during enrollment.',
      apple: 'No need to type it: installing the profile is enough.',
    },
    expires: (date) => `This link expires on ${date}.`,
    stepsHeading: 'How to enroll',
    steps: {
      windows: [
        'On the Windows PC you want to enroll, open the enrollment link, or go to Settings > Accounts > Access work or school.',
        'Select “Enroll only in device management” (or Connect, depending on your version of Windows).',
        'When asked, enter the enrollment code.',
        'Follow the instructions until Windows confirms that the device is connected.',
      ],
      apple: [
        'On the iPhone, iPad or Mac you want to enroll, open the enrollment link in Safari.',
        'Allow the enrollment profile to be downloaded.',
        'Install it: on iPhone and iPad, in Settings > General > VPN & Device Management; on a Mac, in System Settings > Privacy & Security > Profiles.',
        'Once the profile is installed, the device is enrolled: your work apps and settings arrive on their own.',
      ],
    },
    singleUse: {
      windows: 'This link can only be used once. If it has expired, ask your IT administrator for a new one.',
      apple: 'You can download the profile again from this link until a device has enrolled with it. If the link has expired, ask your IT administrator for a new one.',
    },
    sentTo: (recipient, org) =>
      `This email was sent to ${recipient} on behalf of ${org}. If you weren’t expecting it, check with your IT administrator before opening the link.`,
    expired: 'This enrollment link has expired',
    used: 'This enrollment link has already been used to enroll a device',
    revoked: 'This enrollment link was revoked by your IT administrator',
    askNewLink: 'Ask your IT administrator for a new enrollment link.',
  },

  es: {
    htmlLang: 'es',
    subject: (org) => `Inscribe tu dispositivo en ${org}`,
    title: 'Inscribe tu dispositivo',
    greeting: 'Hola:',
    intro: (org) => `${org} te invita a inscribir tu dispositivo para que reciba de forma segura tus aplicaciones, tu correo y tu configuración de trabajo.`,
    displayNameLabel: 'Nombre de la inscripción',
    colon: ': ',
    linkIntro: 'Abre este enlace en el dispositivo que quieras inscribir:',
    startButton: 'Iniciar la inscripción',
    codeLabel: 'Código de inscripción',
    codeHint: {
      windows: 'Tenlo a mano: es posible que te lo pidan durante la inscripción.',
      apple: 'No hace falta escribirlo: basta con instalar el perfil.',
    },
    expires: (date) => `Este enlace caduca el ${date}.`,
    stepsHeading: 'Cómo inscribir tu dispositivo',
    steps: {
      windows: [
        'En el PC con Windows que quieras inscribir, abre el enlace de inscripción o ve a Configuración > Cuentas > Obtener acceso a trabajo o escuela.',
        'Selecciona «Inscribirse solo en la administración de dispositivos» (o Conectar, según tu versión de Windows).',
        'Cuando te lo pidan, introduce el código de inscripción.',
        'Sigue las instrucciones hasta que Windows confirme que el dispositivo está conectado.',
      ],
      apple: [
        'En el iPhone, iPad o Mac que quieras inscribir, abre el enlace de inscripción en Safari.',
        'Permite la descarga del perfil de inscripción.',
        'Instálalo: en el iPhone y el iPad, en Ajustes > General > VPN y gestión de dispositivos; en el Mac, en Ajustes del Sistema > Privacidad y seguridad > Perfiles.',
        'Cuando el perfil esté instalado, el dispositivo quedará inscrito: tus aplicaciones y tu configuración de trabajo llegarán solas.',
      ],
    },
    singleUse: {
      windows: 'Este enlace solo se puede usar una vez. Si ha caducado, pide uno nuevo a tu administrador de TI.',
      apple: 'Puedes volver a descargar el perfil desde este enlace hasta que un dispositivo se inscriba con él. Si ha caducado, pide uno nuevo a tu administrador de TI.',
    },
    sentTo: (recipient, org) =>
      `Este correo se ha enviado a ${recipient} en nombre de ${org}. Si no lo esperabas, consulta con tu administrador de TI antes de abrir el enlace.`,
    expired: 'Este enlace de inscripción ha caducado',
    used: 'Este enlace de inscripción ya se ha usado para inscribir un dispositivo',
    revoked: 'Tu administrador de TI ha revocado este enlace de inscripción',
    askNewLink: 'Pide un nuevo enlace de inscripción a tu administrador de TI.',
  },

  fr: {
    htmlLang: 'fr',
    // "auprès de {org}" would need "d’" before a vowel, which a template cannot know.
    subject: (org) => `${org}${NBSP}: inscrivez votre appareil`,
    title: 'Inscrivez votre appareil',
    greeting: 'Bonjour,',
    intro: (org) =>
      `${org} vous invite à inscrire votre appareil afin qu’il reçoive en toute sécurité vos applications, votre messagerie et vos réglages professionnels.`,
    displayNameLabel: 'Nom de l’inscription',
    colon: `${NBSP}: `,
    linkIntro: `Ouvrez ce lien sur l’appareil à inscrire${NBSP}:`,
    startButton: 'Commencer l’inscription',
    codeLabel: 'Code d’inscription',
    codeHint: {
      windows: `Gardez-le à portée de main${NBSP}: il pourra vous être demandé pendant l’inscription.`,
      apple: `Inutile de le saisir${NBSP}: il suffit d’installer le profil.`,
    },
    expires: (date) => `Ce lien expire le ${date}.`,
    stepsHeading: 'Comment inscrire votre appareil',
    steps: {
      windows: [
        'Sur le PC Windows à inscrire, ouvrez le lien d’inscription, ou allez dans Paramètres > Comptes > Accès Professionnel ou Scolaire.',
        `Sélectionnez «${NBSP}S’inscrire uniquement à la gestion des appareils${NBSP}» (ou Se connecter, selon votre version de Windows).`,
        'Lorsque le code d’inscription vous est demandé, saisissez-le.',
        'Suivez les instructions jusqu’à ce que Windows confirme que l’appareil est connecté.',
      ],
      apple: [
        'Sur l’iPhone, l’iPad ou le Mac à inscrire, ouvrez le lien d’inscription dans Safari.',
        'Autorisez le téléchargement du profil d’inscription.',
        `Installez-le${NBSP}: sur iPhone et iPad, dans Réglages > Général > VPN et gestion de l’appareil${NBSP}; sur Mac, dans Réglages Système > Confidentialité et sécurité > Profils.`,
        `Une fois le profil installé, l’appareil est inscrit${NBSP}: vos applications et réglages professionnels arrivent d’eux-mêmes.`,
      ],
    },
    singleUse: {
      windows: 'Ce lien ne peut être utilisé qu’une seule fois. S’il a expiré, demandez-en un nouveau à votre administrateur informatique.',
      apple: 'Vous pouvez retélécharger le profil depuis ce lien tant qu’aucun appareil ne s’est inscrit avec. S’il a expiré, demandez-en un nouveau à votre administrateur informatique.',
    },
    sentTo: (recipient, org) =>
      `Cet e-mail a été envoyé à ${recipient} par ${org}. Si vous ne l’attendiez pas, contactez votre administrateur informatique avant d’ouvrir le lien.`,
    expired: 'Ce lien d’inscription a expiré',
    used: 'Ce lien d’inscription a déjà servi à inscrire un appareil',
    revoked: 'Ce lien d’inscription a été révoqué par votre administrateur informatique',
    askNewLink: 'Demandez un nouveau lien d’inscription à votre administrateur informatique.',
  },

  de: {
    htmlLang: 'de',
    subject: (org) => `Registrieren Sie Ihr Gerät bei ${org}`,
    title: 'Registrieren Sie Ihr Gerät',
    greeting: 'Guten Tag,',
    intro: (org) => `${org} lädt Sie ein, Ihr Gerät zu registrieren, damit es Ihre beruflichen Apps, E-Mails und Einstellungen sicher erhält.`,
    displayNameLabel: 'Name der Registrierung',
    colon: ': ',
    linkIntro: 'Öffnen Sie diesen Link auf dem Gerät, das Sie registrieren möchten:',
    startButton: 'Registrierung starten',
    codeLabel: 'Registrierungscode',
    codeHint: {
      windows: 'Halten Sie den Code bereit: Er kann während der Registrierung abgefragt werden.',
      apple: 'Sie müssen ihn nicht eingeben: Es genügt, das Profil zu installieren.',
    },
    expires: (date) => `Dieser Link läuft am ${date} ab.`,
    stepsHeading: 'So registrieren Sie Ihr Gerät',
    steps: {
      windows: [
        'Öffnen Sie auf dem Windows-PC, den Sie registrieren möchten, den Registrierungslink oder gehen Sie zu Einstellungen > Konten > Auf Arbeits- oder Schulkonto zugreifen.',
        'Wählen Sie „Nur für die Geräteverwaltung registrieren“ (oder Verbinden, je nach Windows-Version).',
        'Geben Sie den Registrierungscode ein, wenn Sie dazu aufgefordert werden.',
        'Folgen Sie den Anweisungen, bis Windows bestätigt, dass das Gerät verbunden ist.',
      ],
      apple: [
        'Öffnen Sie auf dem Gerät (iPhone, iPad oder Mac), das Sie registrieren möchten, den Registrierungslink in Safari.',
        'Erlauben Sie das Laden des Registrierungsprofils.',
        'Installieren Sie es: auf iPhone und iPad unter Einstellungen > Allgemein > VPN und Geräteverwaltung, auf dem Mac unter Systemeinstellungen > Datenschutz & Sicherheit > Profile.',
        'Sobald das Profil installiert ist, ist das Gerät registriert: Ihre Arbeits-Apps und Einstellungen kommen von selbst.',
      ],
    },
    singleUse: {
      windows: 'Der Link kann nur einmal verwendet werden. Falls er abgelaufen ist, bitten Sie Ihre IT-Administration um einen neuen.',
      apple: 'Sie können das Profil über diesen Link erneut herunterladen, bis sich ein Gerät damit registriert hat. Falls er abgelaufen ist, bitten Sie Ihre IT-Administration um einen neuen.',
    },
    sentTo: (recipient, org) =>
      `Diese E-Mail wurde im Auftrag von ${org} an ${recipient} gesendet. Falls Sie sie nicht erwartet haben, wenden Sie sich an Ihre IT-Administration, bevor Sie den Link öffnen.`,
    expired: 'Dieser Registrierungslink ist abgelaufen',
    used: 'Mit diesem Registrierungslink wurde bereits ein Gerät registriert',
    revoked: 'Dieser Registrierungslink wurde von Ihrer IT-Administration widerrufen',
    askNewLink: 'Bitten Sie Ihre IT-Administration um einen neuen Registrierungslink.',
  },

  it: {
    htmlLang: 'it',
    subject: (org) => `Registra il tuo dispositivo presso ${org}`,
    title: 'Registra il tuo dispositivo',
    greeting: 'Ciao,',
    intro: (org) => `${org} ti invita a registrare il tuo dispositivo, così potrà ricevere in modo sicuro app, email e impostazioni di lavoro.`,
    displayNameLabel: 'Nome della registrazione',
    colon: ': ',
    linkIntro: 'Apri questo link sul dispositivo che vuoi registrare:',
    startButton: 'Avvia la registrazione',
    codeLabel: 'Codice di registrazione',
    codeHint: {
      windows: 'Tienilo a portata di mano: potrebbe esserti richiesto durante la registrazione.',
      apple: 'Non serve digitarlo: basta installare il profilo.',
    },
    expires: (date) => `Questo link scade il ${date}.`,
    stepsHeading: 'Come registrare il dispositivo',
    steps: {
      windows: [
        'Sul PC Windows che vuoi registrare, apri il link di registrazione oppure vai in Impostazioni > Account > Accedi all’azienda o all’istituto di istruzione.',
        'Seleziona “Registra solo nella gestione dei dispositivi” (oppure Connetti, a seconda della versione di Windows).',
        'Quando richiesto, inserisci il codice di registrazione.',
        'Segui le istruzioni finché Windows non conferma che il dispositivo è connesso.',
      ],
      apple: [
        'Sull’iPhone, iPad o Mac che vuoi registrare, apri il link di registrazione in Safari.',
        'Consenti il download del profilo di registrazione.',
        'Installalo: su iPhone e iPad in Impostazioni > Generali > VPN e gestione dispositivi; sul Mac in Impostazioni di Sistema > Privacy e sicurezza > Profili.',
        'Una volta installato il profilo, il dispositivo è registrato: le app e le impostazioni di lavoro arrivano da sole.',
      ],
    },
    singleUse: {
      windows: 'Il link può essere usato una sola volta. Se è scaduto, chiedine uno nuovo al tuo amministratore IT.',
      apple: 'Puoi scaricare di nuovo il profilo da questo link finché un dispositivo non si è registrato con esso. Se è scaduto, chiedine uno nuovo al tuo amministratore IT.',
    },
    sentTo: (recipient, org) =>
      `Questa email è stata inviata a ${recipient} per conto di ${org}. Se non te l’aspettavi, contatta il tuo amministratore IT prima di aprire il link.`,
    expired: 'Questo link di registrazione è scaduto',
    used: 'Questo link di registrazione è già stato usato per registrare un dispositivo',
    revoked: 'Questo link di registrazione è stato revocato dal tuo amministratore IT',
    askNewLink: 'Chiedi un nuovo link di registrazione al tuo amministratore IT.',
  },

  pt: {
    htmlLang: 'pt-PT',
    // Company names take "a" or "o" in Portuguese; leading with the name avoids guessing which.
    subject: (org) => `${org}: inscreva o seu dispositivo`,
    title: 'Inscreva o seu dispositivo',
    greeting: 'Olá,',
    intro: (org) =>
      `${org} pede-lhe que inscreva o seu dispositivo para que possa receber em segurança as aplicações, o e-mail e as definições de trabalho.`,
    displayNameLabel: 'Nome da inscrição',
    colon: ': ',
    linkIntro: 'Abra esta ligação no dispositivo que pretende inscrever:',
    startButton: 'Iniciar a inscrição',
    codeLabel: 'Código de inscrição',
    codeHint: {
      windows: 'Tenha-o à mão: poderá ser-lhe pedido durante a inscrição.',
      apple: 'Não precisa de o introduzir: basta instalar o perfil.',
    },
    expires: (date) => `Esta ligação expira a ${date}.`,
    stepsHeading: 'Como inscrever o seu dispositivo',
    steps: {
      windows: [
        'No PC com Windows que pretende inscrever, abra a ligação de inscrição ou aceda a Definições > Contas > Aceder ao trabalho ou à escola.',
        'Selecione «Inscrever apenas na gestão de dispositivos» (ou Ligar, consoante a versão do Windows).',
        'Quando lhe for pedido, introduza o código de inscrição.',
        'Siga as instruções até o Windows confirmar que o dispositivo está ligado.',
      ],
      apple: [
        'No iPhone, iPad ou Mac que pretende inscrever, abra a ligação de inscrição no Safari.',
        'Permita a transferência do perfil de inscrição.',
        'Instale-o: no iPhone e no iPad, em Definições > Geral > VPN e gestão de dispositivos; no Mac, em Definições do Sistema > Privacidade e segurança > Perfis.',
        'Depois de instalado o perfil, o dispositivo fica inscrito: as suas aplicações e definições de trabalho chegam automaticamente.',
      ],
    },
    singleUse: {
      windows: 'Esta ligação só pode ser utilizada uma vez. Se tiver expirado, peça uma nova ao seu administrador de TI.',
      apple: 'Pode transferir novamente o perfil a partir desta ligação até que um dispositivo se inscreva com ele. Se tiver expirado, peça uma nova ao seu administrador de TI.',
    },
    sentTo: (recipient, org) =>
      `Este e-mail foi enviado para ${recipient} em nome de ${org}. Se não estava à espera dele, contacte o seu administrador de TI antes de abrir a ligação.`,
    expired: 'Esta ligação de inscrição expirou',
    used: 'Esta ligação de inscrição já foi utilizada para inscrever um dispositivo',
    revoked: 'Esta ligação de inscrição foi revogada pelo seu administrador de TI',
    askNewLink: 'Peça uma nova ligação de inscrição ao seu administrador de TI.',
  },
};

/** Locales for dates: en-GB writes "5 March 2025", which reads well to readers on both sides. */
export const DATE_LOCALES: Record<Lang, string> = {
  en: 'en-GB',
  es: 'es-ES',
  fr: 'fr-FR',
  de: 'de-DE',
  it: 'it-IT',
  pt: 'pt-PT',
};

/**
 * The expiry as the reader's language writes it. Always UTC and said so: the server does not
 * know the employee's time zone, and a wrong local time is worse than an explicit UTC one.
 */
export function formatExpiry(expireAt: Date, language: Lang): string {
  const formatted = new Intl.DateTimeFormat(DATE_LOCALES[language], { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(expireAt);
  return `${formatted} UTC`;
}
