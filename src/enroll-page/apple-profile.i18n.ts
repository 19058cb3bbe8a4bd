import type { Lang } from '../mail/i18n.ts';

/**
 * The Apple-only words of the enrollment page (issue 13): the profile download, and the plain
 * notice shown while the organization has no APNs push certificate, without which an Apple
 * device cannot be managed. Kept beside the page rather than in the mail table the email shares.
 */
export interface AppleProfileMessages {
  download: string;
  downloadHint: string;
  noPushCertificate: (organizationName: string) => string;
}

export const APPLE_PROFILE_MESSAGES: Record<Lang, AppleProfileMessages> = {
  en: {
    download: 'Download the enrollment profile',
    downloadHint: 'Open this page in Safari on the device you want to enroll, then install the downloaded profile.',
    noPushCertificate: (org) => `Apple devices cannot be enrolled with ${org} yet: the organization’s administrator must first upload the Apple push certificate (APNs) to Openroll. Please contact your IT administrator.`,
  },
  es: {
    download: 'Descargar el perfil de inscripción',
    downloadHint: 'Abre esta página en Safari en el dispositivo que quieras inscribir y, después, instala el perfil descargado.',
    noPushCertificate: (org) => `Todavía no se pueden inscribir dispositivos Apple en ${org}: el administrador de la organización debe subir primero el certificado push de Apple (APNs) a Openroll. Ponte en contacto con tu administrador de TI.`,
  },
  fr: {
    download: 'Télécharger le profil d’inscription',
    downloadHint: 'Ouvrez cette page dans Safari sur l’appareil à inscrire, puis installez le profil téléchargé.',
    noPushCertificate: (org) => `Les appareils Apple ne peuvent pas encore être inscrits auprès de ${org} : l’administrateur de l’organisation doit d’abord téléverser le certificat push d’Apple (APNs) dans Openroll. Veuillez contacter votre administrateur informatique.`,
  },
  de: {
    download: 'Registrierungsprofil herunterladen',
    downloadHint: 'Öffnen Sie diese Seite in Safari auf dem Gerät, das Sie registrieren möchten, und installieren Sie dann das heruntergeladene Profil.',
    noPushCertificate: (org) => `Apple-Geräte können noch nicht bei ${org} registriert werden: Die Administration der Organisation muss zuerst das Apple-Push-Zertifikat (APNs) in Openroll hochladen. Bitte wenden Sie sich an Ihre IT-Administration.`,
  },
  it: {
    download: 'Scarica il profilo di registrazione',
    downloadHint: 'Apri questa pagina in Safari sul dispositivo da registrare, poi installa il profilo scaricato.',
    noPushCertificate: (org) => `Non è ancora possibile registrare dispositivi Apple con ${org}: l’amministratore dell’organizzazione deve prima caricare in Openroll il certificato push di Apple (APNs). Contatta il tuo amministratore IT.`,
  },
  pt: {
    download: 'Transferir o perfil de inscrição',
    downloadHint: 'Abra esta página no Safari no dispositivo que pretende inscrever e, depois, instale o perfil transferido.',
    noPushCertificate: (org) => `Ainda não é possível inscrever dispositivos Apple em ${org}: o administrador da organização tem primeiro de carregar o certificado push da Apple (APNs) no Openroll. Contacte o seu administrador de TI.`,
  },
};

/** The profile's URL: under the enrollment link, so it carries the same secret. */
export function appleProfileUrl(enrollmentLink: string): string {
  return `${enrollmentLink}/profile.mobileconfig`;
}
