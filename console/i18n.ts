/**
 * Every string the admin console shows, in English and Spanish. The browser bundle imports this file;
 * nothing else in `console/` may hold user-visible text, so a translation is one edit here.
 *
 * Spanish wording follows the help page the console replaces (the seed): "Iniciar sesión con X",
 * "Escuchar menciones", "Seguir automáticamente a los usuarios…", with our own sentences.
 */
import type { RealtimeOffCode } from '../core/channel';

/** Languages the console speaks. */
export type Lang = 'en' | 'es';
export const LANGS: readonly Lang[] = ['en', 'es'];

/** Channel statuses as the admin API returns them (DESIGN.md "Admin API"). */
export type StatusKey = 'pending_auth' | 'active' | 'paused' | 'needs_reauth' | 'degraded';

/** Why real time is off, as the admin API names it (`realtime.reasonCode`): the core's codes (a type only, erased from the bundle). */
export type RealtimeReason = RealtimeOffCode;

/** Alert kinds as `GET /alerts` names them (core/alerts/conditions.ts). */
export type AlertKindKey =
  | 'credits_depleted'
  | 'budget_warning'
  | 'budget_exhausted'
  | 'needs_reauth'
  | 'realtime_lost'
  | 'webhook_invalid'
  | 'inbound_silent'
  | 'dlq_not_empty';
/** An alert's machine-readable facts. */
export type AlertFacts = Record<string, string | number | boolean | null | undefined>;

/** Plain-words explanation of an error code: what happened, and what the admin can do. */
export interface Advice {
  what: string;
  todo: string;
}

/** The full message catalogue; both languages implement every key (the compiler checks it). */
export interface Messages {
  langName: string;
  appTitle: string;
  skipToContent: string;
  statusColumn: string;
  language: string;
  signOut: string;
  signedOutTitle: string;
  signedOutLocal: string;
  signedOutCognito: string;
  signIn: string;
  sessionExpired: string;
  /** Why a local one-time sign-in link did not sign in. */
  signInLink: Record<'used' | 'expired' | 'unknown' | 'failed', string>;
  /**
   * Why the sign-in service sent the browser back without a code (`?error=`). Fixed texts: the
   * address's `error_description` is never shown (anyone can write it into a link).
   */
  signInAnswer: {
    cancelled: string;
    /** `code` is the `error` value, only when it looks like an OAuth error code (`^[a-z_]{1,40}$`). */
    failed: (code: string | null) => string;
  };
  loading: string;
  loadFailed: string;
  channels: string;
  noChannels: string;
  newChannel: string;
  /** Channels deleted while X could not revoke their grant (issue 19 item 2). */
  pendingRevocations: string;
  pendingRevocationsHelp: string;
  revocationPending: string;
  revocationAttempts: (attempts: number, code: string) => string;
  retryRevocation: string;
  discardGrant: string;
  discardGrantConfirm: (name: string) => string;
  /** The banner of open alerts (issue 20; GET /alerts, docs/alerts.md). */
  alerts: {
    heading: (count: number) => string;
    openChannel: (channel: string) => string;
    since: (time: string) => string;
    /** One sentence per alert kind, from its facts (`channel` is the channel's @name). */
    kinds: Record<AlertKindKey, (f: AlertFacts) => string>;
  };
  backToList: string;
  configure: (name: string) => string;
  avatarOf: (name: string) => string;
  status: Record<StatusKey, string>;
  statusUnknown: string;
  lastPoll: string;
  never: string;
  messagesIn: string;
  messagesOut: string;
  countsInOut: (inCount: number, outCount: number) => string;
  channelName: string;
  channelNameHint: string;
  newChannelTitle: string;
  newChannelIntro: string;
  signInWithX: string;
  signInHelp: string;
  signInPrivacy: string;
  waitingForX: string;
  popupBlocked: string;
  popupClosed: string;
  cancelledAtX: string;
  signInFailed: (reason: string) => string;
  retry: string;
  connected: (username: string) => string;
  account: string;
  accountName: string;
  accountUsername: string;
  accountId: string;
  options: string;
  listenMentions: string;
  listenMentionsHelp: string;
  listenDms: string;
  listenDmsHelp: string;
  autoFollow: string;
  autoFollowHelp: string;
  autoFollowWarning: string;
  saving: string;
  saved: string;
  saveFailed: (reason: string) => string;
  health: string;
  statusReason: string;
  lastSuccess: string;
  nextPoll: string;
  lastError: string;
  noErrors: string;
  whatToDo: string;
  rateLimits: string;
  rateLimitEndpoint: string;
  rateLimitRemaining: string;
  rateLimitReset: string;
  noRateLimits: string;
  counters: {
    mentionsDelivered: string;
    dmsDelivered: string;
    followed: string;
    sent: string;
    failed: string;
    attachmentsStored: string;
    attachmentsUnavailable: string;
  };
  disabled: { mentions: string; dms: string; autoFollow: string };
  /** Real time (X Activity API): on / off with the reason / catching up. */
  realtime: {
    title: string;
    on: string;
    off: string;
    catchingUp: (since: string) => string;
    lastEvent: string;
    subscriptions: string;
    none: string;
    /** XChat (encrypted) messages delivered as DMs without their text, and what that means. */
    encryptedDms: string;
    encryptedHelp: string;
    /** Why real time is off, by the API's `reasonCode`. */
    reasons: Record<RealtimeReason, string>;
  };
  needsReauthorization: (features: string) => string;
  featureNames: { mentions: string; dms: string; autoFollow: string; media: string };
  actions: string;
  pause: string;
  resume: string;
  paused: string;
  resumed: string;
  reauthorize: string;
  deleteChannel: string;
  confirmDeleteTitle: string;
  confirmDelete: (name: string) => string;
  confirmDeleteYes: string;
  cancel: string;
  deleted: (name: string) => string;
  actionFailed: (reason: string) => string;
  unnamed: string;
  errors: Record<string, Advice>;
  unknownError: (code: string) => Advice;
}

const en: Messages = {
  langName: 'English',
  appTitle: 'X channels',
  skipToContent: 'Skip to content',
  statusColumn: 'Status',
  language: 'Language',
  signOut: 'Sign out',
  signedOutTitle: 'Sign in to manage your X channels',
  signedOutLocal:
    'This console runs on your machine. Open the one-time sign-in link that "npm start" printed; "npm run sign-in-link" prints a new one.',
  signedOutCognito: 'Sign in with your administrator account to continue.',
  signIn: 'Sign in',
  sessionExpired: 'Your session has ended. Sign in again to continue.',
  signInLink: {
    used: 'This sign-in link was already used; each link works once. Run "npm run sign-in-link" for a new one.',
    expired:
      'This sign-in link has expired (links last 10 minutes). Run "npm run sign-in-link" for a new one.',
    unknown:
      'This sign-in link is not valid (links end when "npm start" stops). Use the link it printed last, or run "npm run sign-in-link".',
    failed: 'The sign-in link could not be checked. Make sure "npm start" is running, then open a new link.',
  },
  signInAnswer: {
    cancelled: 'Sign-in was cancelled. Sign in again to continue.',
    failed: (code) =>
      code
        ? `The sign-in service refused the sign-in (error code: ${code}). Sign in again to continue.`
        : 'The sign-in service refused the sign-in. Sign in again to continue.',
  },
  loading: 'Loading…',
  loadFailed: 'Could not load the channels. Check your connection and reload the page.',
  channels: 'Channels',
  noChannels: 'No channels yet. Create one to connect an X account.',
  newChannel: 'New channel',
  pendingRevocations: 'Deleted channels, revocation pending',
  pendingRevocationsHelp:
    'X could not be reached to revoke these grants when their channels were deleted. The encrypted grant is kept, and X is asked again on a schedule (every few minutes, then hourly) until it revokes it.',
  revocationPending: 'Deleted, revocation pending',
  revocationAttempts: (attempts, code) => `${attempts} attempt(s), last error: ${code}`,
  retryRevocation: 'Retry revocation',
  discardGrant: 'Discard grant',
  discardGrantConfirm: (name) =>
    `Discard the grant of ${name} without revoking it? It stays valid at X until the account removes the app.`,
  alerts: {
    heading: (n) => (n === 1 ? '1 open alert' : `${n} open alerts`),
    openChannel: (channel) => `Open ${channel}`,
    since: (time) => `since ${time}`,
    kinds: {
      credits_depleted: () =>
        'X refuses the app: credits are depleted or the monthly usage cap is reached. Top up the X developer account.',
      budget_warning: (f) =>
        `${f.channel ?? 'The app'} has used ${f.usedPercent}% of its monthly X budget ($${f.usedUsd} of $${f.monthlyBudgetUsd}).`,
      budget_exhausted: (f) =>
        `${f.channel ?? 'The app'} has used up its monthly X budget ($${f.monthlyBudgetUsd}): replies and DMs fail until the month rolls over or the budget is raised.`,
      needs_reauth: (f) => `${f.channel}: sign in with X again. Nothing is read or sent until then.`,
      realtime_lost: (f) => `${f.channel}: real time is lost; messages arrive by polling, later.`,
      webhook_invalid: () =>
        'X marks the webhook invalid: no messages arrive in real time. Check that the webhook answers X’s check.',
      inbound_silent: (f) =>
        `${f.channel}: nothing received for ${f.hours} hours, though it usually gets about ${f.usualPerDay} a day.`,
      dlq_not_empty: (f) =>
        `${f.messages} message(s) failed every retry and wait on the ${f.queue} dead-letter queue.`,
    },
  },
  backToList: 'All channels',
  configure: (name) => `Configure ${name}`,
  avatarOf: (name) => `Avatar of ${name}`,
  status: {
    pending_auth: 'Pending sign-in',
    active: 'Active',
    paused: 'Paused',
    needs_reauth: 'Needs re-authorization',
    degraded: 'Degraded',
  },
  statusUnknown: 'Unknown status',
  lastPoll: 'Last poll',
  never: 'never',
  messagesIn: 'Messages in',
  messagesOut: 'Messages out',
  countsInOut: (i, o) => `${i} in / ${o} out`,
  channelName: 'Channel name (optional)',
  channelNameHint: 'Only for you, to tell channels apart. The X account name is shown anyway.',
  newChannelTitle: 'Configure X channel',
  newChannelIntro:
    'Connect an X business account. Every mention and direct message reaches your case system, and your replies go back to X through the same channel.',
  signInWithX: 'Sign in with X',
  signInHelp:
    "A new tab opens X's own authorization page. Sign in there with the account you want to connect and choose Authorize app. The tab closes by itself when you are done.",
  signInPrivacy: 'You type your X password only on X. This console never sees it and nothing stores it.',
  waitingForX: 'Waiting for you to authorize the app in the X tab…',
  popupBlocked: 'The browser blocked the sign-in tab. Allow pop-ups for this page and try again.',
  popupClosed: 'The X tab was closed before you authorized the app. Nothing was connected.',
  cancelledAtX: 'You cancelled at X, so no account was connected.',
  signInFailed: (reason) => `Sign-in with X did not finish: ${reason}`,
  retry: 'Try again',
  connected: (username) => `Connected @${username}.`,
  account: 'X account',
  accountName: 'Name',
  accountUsername: 'Username',
  accountId: 'X id',
  options: 'What this channel does',
  listenMentions: 'Listen to mentions',
  listenMentionsHelp: 'Posts that mention the account (@username) become cases you can answer with a reply.',
  listenDms: 'Listen to direct messages',
  listenDmsHelp: 'Direct messages sent to the account become cases you can answer with a direct message.',
  autoFollow: 'Follow users who mention the account automatically',
  autoFollowHelp:
    'Following someone who mentions the account lets them send it a direct message even when the account only accepts messages from people it follows.',
  autoFollowWarning:
    "X discourages automated following, and since 2026 its API allows it only on Enterprise plans. On other plans X refuses it and this switch is reported as unavailable. Letting everyone message the account (in X's privacy settings) works on every plan.",
  saving: 'Saving…',
  saved: 'Saved',
  saveFailed: (reason) => `Not saved: ${reason}`,
  health: 'Health',
  statusReason: 'Why',
  lastSuccess: 'Last successful poll',
  nextPoll: 'Next poll',
  lastError: 'Last error',
  noErrors: 'No errors.',
  whatToDo: 'What to do',
  rateLimits: 'X rate-limit windows',
  rateLimitEndpoint: 'Endpoint',
  rateLimitRemaining: 'Calls left',
  rateLimitReset: 'Resets',
  noRateLimits: 'No calls to X yet.',
  counters: {
    mentionsDelivered: 'Mentions delivered',
    dmsDelivered: 'Direct messages delivered',
    followed: 'Users followed',
    sent: 'Replies and messages sent',
    failed: 'Sends that failed',
    attachmentsStored: 'DM attachments delivered',
    attachmentsUnavailable: 'DM attachments unavailable (download failed)',
  },
  disabled: {
    mentions:
      'X says your API plan does not include reading mentions: upgrade the plan in the X developer portal, or switch mentions off.',
    dms: 'X says your API plan does not include direct messages: upgrade the plan in the X developer portal, or switch DMs off.',
    autoFollow:
      'X does not allow automated following on your API plan (Enterprise only since 2026): switch auto-follow off, or let everyone message the account in its X privacy settings.',
  },
  realtime: {
    title: 'Real time',
    on: 'On: mentions and direct messages arrive within seconds (X Activity API); polling only fills gaps.',
    off: 'Off: polling only.',
    catchingUp: (since) => `On, catching up on events missed since ${since}.`,
    lastEvent: 'Last real-time event',
    subscriptions: 'Subscriptions at X',
    none: 'None.',
    encryptedDms: 'Encrypted DMs (XChat)',
    encryptedHelp:
      'X does not let x-channel read encrypted XChat messages: each one reached the case system as a DM with empty text, so an agent sees that the customer wrote and can answer by DM.',
    reasons: {
      not_connected: 'The channel is not signed in with X yet.',
      paused: 'The channel is paused.',
      needs_reauth: 'X no longer accepts the sign-in: sign in with X again.',
      switched_off: 'Mentions and direct messages are switched off.',
      missing_scope: 'Sign in with X again to grant what the switches need.',
      plan_without_xaa:
        'Your X API plan does not include the X Activity API (pay-per-use and Enterprise do).',
      not_configured: 'The X app secret has no API Key and Secret: add them (README, "Configure X").',
      webhook_missing: 'No webhook is registered at X for this deployment (README, "Configure X").',
      subscription_limit: 'The X app has reached its subscription limit (1,500 on pay-per-use).',
      x_error: 'X refused a subscription; it is retried automatically.',
      not_synced: 'Subscriptions are being set up; this takes a few minutes.',
    },
  },
  needsReauthorization: (features) =>
    `X has not granted what these switches need yet: ${features}. Choose Re-authorize with X to grant it.`,
  featureNames: {
    mentions: 'mentions',
    dms: 'direct messages',
    autoFollow: 'auto-follow',
    media: 'sending images and videos',
  },
  actions: 'Actions',
  pause: 'Pause',
  resume: 'Resume',
  paused: 'Channel paused. Nothing is read from X until you resume it.',
  resumed: 'Channel resumed.',
  reauthorize: 'Re-authorize with X',
  deleteChannel: 'Delete channel',
  confirmDeleteTitle: 'Delete this channel?',
  confirmDelete: (name) =>
    `Delete ${name}? x-channel revokes its access at X and deletes its stored tokens. Messages already delivered stay in your case system.`,
  confirmDeleteYes: 'Delete',
  cancel: 'Cancel',
  deleted: (name) => `Deleted ${name}.`,
  actionFailed: (reason) => `That did not work: ${reason}`,
  unnamed: 'Unnamed channel',
  errors: {
    access_denied: {
      what: 'You cancelled at X.',
      todo: 'Choose Try again and then Authorize app.',
    },
    unknown_state: {
      what: 'That sign-in link is unknown or was already used.',
      todo: 'Start again with Sign in with X from the console.',
    },
    expired_state: {
      what: 'The sign-in took too long and expired.',
      todo: 'Start again with Sign in with X and finish within a few minutes.',
    },
    missing_state: {
      what: 'X came back without the sign-in reference.',
      todo: 'Start again with Sign in with X from the console.',
    },
    invalid_request: {
      what: 'X came back with an incomplete answer.',
      todo: 'Start again with Sign in with X from the console.',
    },
    browser_mismatch: {
      what: 'The sign-in finished in a different browser than the one that started it.',
      todo: 'Start and finish Sign in with X in the same browser.',
    },
    x_error: {
      what: 'X did not accept the sign-in (the code exchange failed).',
      todo: 'Try again; if it keeps failing, check the callback URL registered in the X developer portal.',
    },
    channel_gone: {
      what: 'The channel was deleted while you were signing in.',
      todo: 'Create a new channel.',
    },
    access_level: {
      what: 'X says your API plan does not include this feature.',
      todo: 'Upgrade the plan in the X developer portal, or switch the feature off here.',
    },
    dm_access_level: {
      what: 'X says your API plan does not include direct messages.',
      todo: 'Upgrade the plan in the X developer portal, or switch DMs off.',
    },
    follow_not_allowed: {
      what: 'X does not allow automated following on your API plan.',
      todo: 'Switch auto-follow off, or let everyone message the account in its X privacy settings.',
    },
    credits_depleted: {
      what: 'Your X API credits are used up, so X refuses every call.',
      todo: 'Add credits or raise the spending limit in the X developer portal; polling resumes by itself.',
    },
    usage_capped: {
      what: 'Your X app reached its monthly read cap.',
      todo: 'Wait for the next month or move to a larger plan in the X developer portal.',
    },
    rate_limited: {
      what: 'X asked us to slow down (rate limit).',
      todo: 'Nothing: x-channel waits for the window to reset and continues.',
    },
    needs_reauth: {
      what: 'X no longer accepts this channel’s sign-in (it expired or was revoked).',
      todo: 'Choose Re-authorize with X and sign in again with the same account.',
    },
    x_unavailable: {
      what: 'X did not answer or had an internal error.',
      todo: 'Nothing: x-channel retries. If it lasts, check the X status page.',
    },
    account_in_use: {
      what: 'This X account is already connected to another channel.',
      todo: 'Use that channel, or delete it before connecting the account here.',
    },
    unauthorized_client: {
      what: 'X rejected the app credentials.',
      todo: 'Check the client id and secret stored for the X app (ask your platform engineer).',
    },
    client_forbidden: {
      what: 'The X app is not attached to a project with API access.',
      todo: 'Attach the app to a project in the X developer portal.',
    },
    dm_not_allowed: {
      what: 'X refused a direct message: the person does not accept messages from the account.',
      todo: 'Answer with a public reply instead, or ask them to allow messages.',
    },
    reply_not_allowed: {
      what: 'X refused a reply: the author had not mentioned the account in that conversation.',
      todo: 'Reply only to posts that mention the account.',
    },
    duplicate_content: {
      what: 'X refused a post identical to an earlier one.',
      todo: 'Change the text of the reply.',
    },
    text_too_long: {
      what: 'A reply was longer than X allows.',
      todo: 'Shorten it to 280 characters.',
    },
    target_not_found: {
      what: 'The post or conversation to answer no longer exists at X.',
      todo: 'Nothing to do for this message.',
    },
    internal: {
      what: 'x-channel had an internal error.',
      todo: 'It retries by itself; if it lasts, check the logs of the deployment.',
    },
  },
  unknownError: (code) => ({
    what: `X or x-channel reported "${code}".`,
    todo: 'Check the logs of the deployment for this code.',
  }),
};

const es: Messages = {
  langName: 'Español',
  appTitle: 'Canales de X',
  skipToContent: 'Ir al contenido',
  statusColumn: 'Estado',
  language: 'Idioma',
  signOut: 'Cerrar sesión',
  signedOutTitle: 'Inicia sesión para administrar tus canales de X',
  signedOutLocal:
    'Esta consola corre en tu equipo. Abre el enlace de acceso de un solo uso que mostró "npm start"; "npm run sign-in-link" muestra uno nuevo.',
  signedOutCognito: 'Inicia sesión con tu cuenta de administrador para continuar.',
  signIn: 'Iniciar sesión',
  sessionExpired: 'Tu sesión terminó. Vuelve a iniciar sesión para continuar.',
  signInLink: {
    used: 'Este enlace de acceso ya se usó; cada enlace sirve una vez. Ejecuta "npm run sign-in-link" para obtener otro.',
    expired:
      'Este enlace de acceso venció (duran 10 minutos). Ejecuta "npm run sign-in-link" para obtener otro.',
    unknown:
      'Este enlace de acceso no es válido (los enlaces terminan cuando se detiene "npm start"). Usa el último que mostró o ejecuta "npm run sign-in-link".',
    failed:
      'No se pudo comprobar el enlace de acceso. Asegúrate de que "npm start" esté en marcha y abre un enlace nuevo.',
  },
  signInAnswer: {
    cancelled: 'Se canceló el inicio de sesión. Vuelve a iniciar sesión para continuar.',
    failed: (code) =>
      code
        ? `El servicio de acceso rechazó el inicio de sesión (código de error: ${code}). Vuelve a iniciar sesión para continuar.`
        : 'El servicio de acceso rechazó el inicio de sesión. Vuelve a iniciar sesión para continuar.',
  },
  loading: 'Cargando…',
  loadFailed: 'No se pudieron cargar los canales. Revisa tu conexión y recarga la página.',
  channels: 'Canales',
  noChannels: 'Aún no hay canales. Crea uno para conectar una cuenta de X.',
  newChannel: 'Nuevo canal',
  pendingRevocations: 'Canales eliminados, revocación pendiente',
  pendingRevocationsHelp:
    'No se pudo contactar con X para revocar estos permisos al eliminar sus canales. El permiso cifrado se conserva y se vuelve a pedir a X periódicamente (cada pocos minutos, luego cada hora) hasta que lo revoque.',
  revocationPending: 'Eliminado, revocación pendiente',
  revocationAttempts: (attempts, code) => `${attempts} intento(s), último error: ${code}`,
  retryRevocation: 'Reintentar la revocación',
  discardGrant: 'Descartar el permiso',
  discardGrantConfirm: (name) =>
    `¿Descartar el permiso de ${name} sin revocarlo? Seguirá siendo válido en X hasta que la cuenta quite la aplicación.`,
  alerts: {
    heading: (n) => (n === 1 ? '1 alerta abierta' : `${n} alertas abiertas`),
    openChannel: (channel) => `Abrir ${channel}`,
    since: (time) => `desde ${time}`,
    kinds: {
      credits_depleted: () =>
        'X rechaza la aplicación: se agotaron los créditos o se alcanzó el límite de uso mensual. Recargue la cuenta de desarrollador de X.',
      budget_warning: (f) =>
        `${f.channel ?? 'La aplicación'} ha usado el ${f.usedPercent} % de su presupuesto mensual de X (${f.usedUsd} $ de ${f.monthlyBudgetUsd} $).`,
      budget_exhausted: (f) =>
        `${f.channel ?? 'La aplicación'} ha agotado su presupuesto mensual de X (${f.monthlyBudgetUsd} $): las respuestas y los mensajes directos fallan hasta que cambie el mes o se aumente el presupuesto.`,
      needs_reauth: (f) =>
        `${f.channel}: inicie sesión con X de nuevo. Hasta entonces no se lee ni se envía nada.`,
      realtime_lost: (f) =>
        `${f.channel}: se perdió el tiempo real; los mensajes llegan por sondeo, más tarde.`,
      webhook_invalid: () =>
        'X marca el webhook como no válido: no llega nada en tiempo real. Compruebe que el webhook responde a la verificación de X.',
      inbound_silent: (f) =>
        `${f.channel}: no se ha recibido nada en ${f.hours} horas, aunque suele recibir unos ${f.usualPerDay} al día.`,
      dlq_not_empty: (f) =>
        `${f.messages} mensaje(s) fallaron en todos los reintentos y esperan en la cola de mensajes fallidos ${f.queue}.`,
    },
  },
  backToList: 'Todos los canales',
  configure: (name) => `Configurar ${name}`,
  avatarOf: (name) => `Avatar de ${name}`,
  status: {
    pending_auth: 'Falta iniciar sesión',
    active: 'Activo',
    paused: 'En pausa',
    needs_reauth: 'Requiere volver a autorizar',
    degraded: 'Con limitaciones',
  },
  statusUnknown: 'Estado desconocido',
  lastPoll: 'Última consulta',
  never: 'nunca',
  messagesIn: 'Mensajes entrantes',
  messagesOut: 'Mensajes salientes',
  countsInOut: (i, o) => `${i} entrantes / ${o} salientes`,
  channelName: 'Nombre del canal (opcional)',
  channelNameHint: 'Solo para ti, para distinguir los canales. El nombre de la cuenta de X se muestra igual.',
  newChannelTitle: 'Configuración del canal X',
  newChannelIntro:
    'Conecta una cuenta empresarial de X. Cada mención y cada mensaje directo llega a tu sistema de casos, y tus respuestas vuelven a X por el mismo canal.',
  signInWithX: 'Iniciar sesión con X',
  signInHelp:
    'Se abrirá una nueva pestaña con la página oficial de autorización de X. Inicia sesión allí con la cuenta que quieres conectar y haz clic en Autorizar (Authorize app). La pestaña se cerrará automáticamente al terminar.',
  signInPrivacy: 'Tu contraseña de X solo se escribe en X. Esta consola nunca la ve y nada la almacena.',
  waitingForX: 'Esperando a que autorices la aplicación en la pestaña de X…',
  popupBlocked:
    'El navegador bloqueó la pestaña de inicio de sesión. Permite las ventanas emergentes en esta página e inténtalo de nuevo.',
  popupClosed: 'La pestaña de X se cerró antes de autorizar la aplicación. No se conectó ninguna cuenta.',
  cancelledAtX: 'Cancelaste en X, así que no se conectó ninguna cuenta.',
  signInFailed: (reason) => `El inicio de sesión con X no terminó: ${reason}`,
  retry: 'Intentar de nuevo',
  connected: (username) => `Se conectó @${username}.`,
  account: 'Cuenta de X',
  accountName: 'Nombre',
  accountUsername: 'Usuario',
  accountId: 'Id de X',
  options: 'Qué hace este canal',
  listenMentions: 'Escuchar menciones a la cuenta',
  listenMentionsHelp:
    'Las publicaciones que mencionan la cuenta (@usuario) se convierten en casos que puedes responder con una respuesta pública.',
  listenDms: 'Escuchar mensajes directos',
  listenDmsHelp:
    'Los mensajes directos que recibe la cuenta se convierten en casos que puedes responder con un mensaje directo.',
  autoFollow: 'Seguir automáticamente a los usuarios que mencionen la cuenta',
  autoFollowHelp:
    'Seguir a quien menciona la cuenta le permite enviarle mensajes directos aunque la cuenta solo acepte mensajes de las personas que sigue.',
  autoFollowWarning:
    'X desaconseja seguir cuentas de forma automatizada y, desde 2026, su API solo lo permite en los planes Enterprise. En los demás planes X lo rechaza y este interruptor aparece como no disponible. Permitir que cualquiera escriba a la cuenta (en la configuración de privacidad de X) funciona en todos los planes.',
  saving: 'Guardando…',
  saved: 'Guardado',
  saveFailed: (reason) => `No se guardó: ${reason}`,
  health: 'Estado de funcionamiento',
  statusReason: 'Motivo',
  lastSuccess: 'Última consulta correcta',
  nextPoll: 'Próxima consulta',
  lastError: 'Último error',
  noErrors: 'Sin errores.',
  whatToDo: 'Qué hacer',
  rateLimits: 'Límites de uso de X',
  rateLimitEndpoint: 'Servicio',
  rateLimitRemaining: 'Llamadas restantes',
  rateLimitReset: 'Se renueva',
  noRateLimits: 'Aún no hubo llamadas a X.',
  counters: {
    mentionsDelivered: 'Menciones entregadas',
    dmsDelivered: 'Mensajes directos entregados',
    followed: 'Usuarios seguidos',
    sent: 'Respuestas y mensajes enviados',
    failed: 'Envíos fallidos',
    attachmentsStored: 'Adjuntos de mensajes directos entregados',
    attachmentsUnavailable: 'Adjuntos de mensajes directos no disponibles (falló la descarga)',
  },
  disabled: {
    mentions:
      'X indica que tu plan de API no incluye la lectura de menciones: mejora el plan en el portal de desarrolladores de X o desactiva las menciones.',
    dms: 'X indica que tu plan de API no incluye mensajes directos: mejora el plan en el portal de desarrolladores de X o desactiva los mensajes directos.',
    autoFollow:
      'X no permite seguir cuentas de forma automatizada en tu plan de API (solo Enterprise desde 2026): desactiva el seguimiento automático o permite que cualquiera escriba a la cuenta en su configuración de privacidad de X.',
  },
  realtime: {
    title: 'Tiempo real',
    on: 'Activado: las menciones y los mensajes directos llegan en segundos (X Activity API); las consultas solo cubren huecos.',
    off: 'Desactivado: solo consultas periódicas.',
    catchingUp: (since) => `Activado, recuperando los eventos perdidos desde ${since}.`,
    lastEvent: 'Último evento en tiempo real',
    subscriptions: 'Suscripciones en X',
    none: 'Ninguna.',
    encryptedDms: 'Mensajes directos cifrados (XChat)',
    encryptedHelp:
      'X no permite que x-channel lea los mensajes cifrados de XChat: cada uno llegó al sistema de casos como un mensaje directo sin texto, así un agente ve que el cliente escribió y puede responder por mensaje directo.',
    reasons: {
      not_connected: 'El canal aún no inició sesión con X.',
      paused: 'El canal está en pausa.',
      needs_reauth: 'X ya no acepta el inicio de sesión: vuelve a iniciar sesión con X.',
      switched_off: 'Las menciones y los mensajes directos están desactivados.',
      missing_scope: 'Vuelve a iniciar sesión con X para conceder lo que necesitan los interruptores.',
      plan_without_xaa: 'Tu plan de API de X no incluye la X Activity API (pago por uso y Enterprise sí).',
      not_configured:
        'El secreto de la app de X no tiene API Key y Secret: agrégalos (README, «Configure X»).',
      webhook_missing: 'No hay un webhook registrado en X para esta instalación (README, «Configure X»).',
      subscription_limit: 'La app de X alcanzó su límite de suscripciones (1.500 en pago por uso).',
      x_error: 'X rechazó una suscripción; se reintenta automáticamente.',
      not_synced: 'Las suscripciones se están configurando; tarda unos minutos.',
    },
  },
  needsReauthorization: (features) =>
    `X aún no concedió lo que necesitan estos interruptores: ${features}. Elige Volver a autorizar con X para concederlo.`,
  featureNames: {
    mentions: 'menciones',
    dms: 'mensajes directos',
    autoFollow: 'seguimiento automático',
    media: 'enviar imágenes y vídeos',
  },
  actions: 'Acciones',
  pause: 'Pausar',
  resume: 'Reanudar',
  paused: 'Canal en pausa. No se lee nada de X hasta que lo reanudes.',
  resumed: 'Canal reanudado.',
  reauthorize: 'Volver a autorizar con X',
  deleteChannel: 'Eliminar canal',
  confirmDeleteTitle: '¿Eliminar este canal?',
  confirmDelete: (name) =>
    `¿Eliminar ${name}? x-channel revoca su acceso en X y borra sus llaves de acceso guardadas. Los mensajes ya entregados permanecen en tu sistema de casos.`,
  confirmDeleteYes: 'Eliminar',
  cancel: 'Cancelar',
  deleted: (name) => `Se eliminó ${name}.`,
  actionFailed: (reason) => `No funcionó: ${reason}`,
  unnamed: 'Canal sin nombre',
  errors: {
    access_denied: {
      what: 'Cancelaste en X.',
      todo: 'Elige Intentar de nuevo y luego Autorizar (Authorize app).',
    },
    unknown_state: {
      what: 'Ese enlace de inicio de sesión es desconocido o ya se usó.',
      todo: 'Empieza de nuevo con Iniciar sesión con X desde la consola.',
    },
    expired_state: {
      what: 'El inicio de sesión tardó demasiado y venció.',
      todo: 'Empieza de nuevo con Iniciar sesión con X y termina en pocos minutos.',
    },
    missing_state: {
      what: 'X volvió sin la referencia del inicio de sesión.',
      todo: 'Empieza de nuevo con Iniciar sesión con X desde la consola.',
    },
    invalid_request: {
      what: 'X volvió con una respuesta incompleta.',
      todo: 'Empieza de nuevo con Iniciar sesión con X desde la consola.',
    },
    browser_mismatch: {
      what: 'El inicio de sesión terminó en un navegador distinto del que lo empezó.',
      todo: 'Empieza y termina Iniciar sesión con X en el mismo navegador.',
    },
    x_error: {
      what: 'X no aceptó el inicio de sesión (falló el intercambio del código).',
      todo: 'Inténtalo de nuevo; si sigue fallando, revisa la URL de retorno registrada en el portal de desarrolladores de X.',
    },
    channel_gone: {
      what: 'El canal se eliminó mientras iniciabas sesión.',
      todo: 'Crea un canal nuevo.',
    },
    access_level: {
      what: 'X indica que tu plan de API no incluye esta función.',
      todo: 'Mejora el plan en el portal de desarrolladores de X o desactiva la función aquí.',
    },
    dm_access_level: {
      what: 'X indica que tu plan de API no incluye mensajes directos.',
      todo: 'Mejora el plan en el portal de desarrolladores de X o desactiva los mensajes directos.',
    },
    follow_not_allowed: {
      what: 'X no permite seguir cuentas de forma automatizada en tu plan de API.',
      todo: 'Desactiva el seguimiento automático o permite que cualquiera escriba a la cuenta en su privacidad de X.',
    },
    credits_depleted: {
      what: 'Se agotaron tus créditos de la API de X, así que X rechaza todas las llamadas.',
      todo: 'Agrega créditos o sube el límite de gasto en el portal de desarrolladores de X; las consultas se reanudan solas.',
    },
    usage_capped: {
      what: 'Tu aplicación de X alcanzó el tope mensual de lecturas.',
      todo: 'Espera al próximo mes o cambia a un plan mayor en el portal de desarrolladores de X.',
    },
    rate_limited: {
      what: 'X pidió bajar el ritmo (límite de uso).',
      todo: 'Nada: x-channel espera a que se renueve el límite y continúa.',
    },
    needs_reauth: {
      what: 'X ya no acepta el inicio de sesión de este canal (venció o fue revocado).',
      todo: 'Elige Volver a autorizar con X e inicia sesión de nuevo con la misma cuenta.',
    },
    x_unavailable: {
      what: 'X no respondió o tuvo un error interno.',
      todo: 'Nada: x-channel reintenta. Si persiste, revisa la página de estado de X.',
    },
    account_in_use: {
      what: 'Esta cuenta de X ya está conectada a otro canal.',
      todo: 'Usa ese canal, o elimínalo antes de conectar la cuenta aquí.',
    },
    unauthorized_client: {
      what: 'X rechazó las credenciales de la aplicación.',
      todo: 'Revisa el client id y el secreto guardados para la aplicación de X (consulta a tu equipo de plataforma).',
    },
    client_forbidden: {
      what: 'La aplicación de X no está asociada a un proyecto con acceso a la API.',
      todo: 'Asocia la aplicación a un proyecto en el portal de desarrolladores de X.',
    },
    dm_not_allowed: {
      what: 'X rechazó un mensaje directo: la persona no acepta mensajes de la cuenta.',
      todo: 'Responde con una respuesta pública o pídele que permita mensajes.',
    },
    reply_not_allowed: {
      what: 'X rechazó una respuesta: el autor no había mencionado la cuenta en esa conversación.',
      todo: 'Responde solo a publicaciones que mencionan la cuenta.',
    },
    duplicate_content: {
      what: 'X rechazó una publicación idéntica a una anterior.',
      todo: 'Cambia el texto de la respuesta.',
    },
    text_too_long: {
      what: 'Una respuesta superó el largo que permite X.',
      todo: 'Acórtala a 280 caracteres.',
    },
    target_not_found: {
      what: 'La publicación o conversación a responder ya no existe en X.',
      todo: 'No hay nada que hacer con este mensaje.',
    },
    internal: {
      what: 'x-channel tuvo un error interno.',
      todo: 'Reintenta solo; si persiste, revisa los registros del despliegue.',
    },
  },
  unknownError: (code) => ({
    what: `X o x-channel informó "${code}".`,
    todo: 'Busca este código en los registros del despliegue.',
  }),
};

/** The catalogues, by language. */
export const MESSAGES: Record<Lang, Messages> = { en, es };

/** Picks the console language from the browser's preferences (`navigator.languages`); English otherwise. */
export function pickLang(preferred: readonly string[]): Lang {
  for (const tag of preferred) {
    const base = tag.toLowerCase().split('-')[0];
    if ((LANGS as readonly string[]).includes(base)) return base as Lang;
  }
  return 'en';
}

/** Plain-words advice for an error code (known codes from core/errors.ts and the X adapter). */
export function adviceFor(m: Messages, code: string): Advice {
  return Object.prototype.hasOwnProperty.call(m.errors, code) ? m.errors[code] : m.unknownError(code);
}

/** The cost card of a channel (console/src/cost-card.ts; issue 20 item 5): what X costs, the budget, plan advice. */
export interface CostMessages {
  title: string;
  loading: string;
  loadFailed: (reason: string) => string;
  monthToDate: string;
  projected: string;
  aws: string;
  /** `x` and `aws` already formatted as money. */
  awsLine: (mtd: string, projected: string) => string;
  budget: string;
  noBudget: string;
  /** The bar's accessible name and visible text: used of the budget. */
  used: (used: string, budget: string, percent: string) => string;
  state: Record<'ok' | 'warning' | 'exhausted', string>;
  /** At 100 %: what the channel does now; `floor` in words when the poller reported it. */
  exhaustedHelp: (floor: string | null) => string;
  floorWords: (mentionsSeconds: number, dmsSeconds: number) => string;
  appBudgetDecides: string;
  /** The app-wide card on the channel list (`GET|PATCH /settings`). */
  appTitle: string;
  appIntro: string;
  appBudgetInput: string;
  appExhaustedHelp: string;
  budgetInput: string;
  saveBudget: string;
  removeBudget: string;
  budgetSaved: string;
  budgetInvalid: string;
  plans: string;
  planColumn: string;
  perMonthColumn: string;
  fitsColumn: string;
  fits: string;
  doesNotFit: string;
  cheapest: string;
  planNames: Record<'payPerUse' | 'payPerUseOwnedReads' | 'basic' | 'pro', string>;
  planNotes: Record<'payPerUse' | 'payPerUseOwnedReads' | 'basic' | 'pro', string>;
  drivers: string;
  driverNames: Record<'listenMentions' | 'listenDms' | 'autoFollow' | 'outbound' | 'other', string>;
  basis: string;
}

const duration = (s: number, hour: string, day: string, minute: string) =>
  s % 86_400 === 0
    ? `${s / 86_400} ${day}`
    : s % 3600 === 0
      ? `${s / 3600} ${hour}`
      : `${Math.round(s / 60)} ${minute}`;

const costEn: CostMessages = {
  title: 'X cost this month',
  loading: 'Loading the cost…',
  loadFailed: (reason) => `The cost could not be loaded: ${reason}`,
  monthToDate: 'Month to date',
  projected: 'Projected for the month',
  aws: 'AWS',
  awsLine: (mtd, projected) => `AWS (estimate): ${mtd} so far, ${projected} projected`,
  budget: 'Monthly X budget',
  noBudget: 'No budget set: X spend is not capped.',
  used: (used, budget, percent) => `${used} of ${budget} used (${percent})`,
  state: {
    ok: 'Within budget.',
    warning: 'Warning: 80 % or more of the budget is used.',
    exhausted: 'Budget used up.',
  },
  exhaustedHelp: (floor) =>
    `Reconciliation polling is slowed to its floor${floor ? ` (${floor})` : ''}; real time stays on; outbound messages fail with budget_exhausted until the month ends or the budget is raised.`,
  floorWords: (m, d) =>
    `one mention poll every ${duration(m, 'h', 'day(s)', 'min')}, one DM poll every ${duration(d, 'h', 'day(s)', 'min')}`,
  appBudgetDecides: 'The app-wide budget is the one used up.',
  appTitle: 'X cost this month, all channels',
  appIntro:
    'The app-wide monthly X budget caps the spend of every channel together; each channel can also have its own budget on its page.',
  appBudgetInput: 'App-wide monthly X budget in USD',
  appExhaustedHelp:
    'Every channel now slows reconciliation polling to its floor; real time stays on; outbound messages fail with budget_exhausted until the month ends or the budget is raised.',
  budgetInput: 'Monthly X budget in USD',
  saveBudget: 'Save budget',
  removeBudget: 'Remove budget',
  budgetSaved: 'Budget saved.',
  budgetInvalid: 'Enter an amount in USD, 0 or more.',
  plans: 'What each X plan would cost',
  planColumn: 'Plan',
  perMonthColumn: 'Per month',
  fitsColumn: 'Fits this traffic',
  fits: 'Yes',
  doesNotFit: 'No',
  cheapest: 'cheapest',
  planNames: {
    payPerUse: 'Pay-per-use',
    payPerUseOwnedReads: 'Pay-per-use with Owned Reads',
    basic: 'Basic (legacy)',
    pro: 'Pro (legacy)',
  },
  planNotes: {
    payPerUse: 'X’s default plan: every read, write and real-time event billed.',
    payPerUseOwnedReads: 'Only if this X account owns the developer app.',
    basic: 'Existing subscribers only.',
    pro: 'Existing subscribers only.',
  },
  drivers: 'What drives the cost',
  driverNames: {
    listenMentions: 'Listening to mentions',
    listenDms: 'Listening to DMs',
    autoFollow: 'Auto-follow',
    outbound: 'Replies, posts and DMs sent',
    other: 'Other',
  },
  basis: 'Projected from this month’s measured traffic.',
};

const costEs: CostMessages = {
  title: 'Costo de X este mes',
  loading: 'Cargando el costo…',
  loadFailed: (reason) => `No se pudo cargar el costo: ${reason}`,
  monthToDate: 'En lo que va del mes',
  projected: 'Proyección del mes',
  aws: 'AWS',
  awsLine: (mtd, projected) => `AWS (estimación): ${mtd} hasta ahora, ${projected} proyectado`,
  budget: 'Presupuesto mensual de X',
  noBudget: 'Sin presupuesto: el gasto en X no tiene tope.',
  used: (used, budget, percent) => `${used} de ${budget} usado (${percent})`,
  state: {
    ok: 'Dentro del presupuesto.',
    warning: 'Aviso: se usó el 80 % o más del presupuesto.',
    exhausted: 'Presupuesto agotado.',
  },
  exhaustedHelp: (floor) =>
    `La consulta de conciliación se reduce a su mínimo${floor ? ` (${floor})` : ''}; el tiempo real sigue activo; los mensajes salientes fallan con budget_exhausted hasta que termine el mes o se aumente el presupuesto.`,
  floorWords: (m, d) =>
    `una consulta de menciones cada ${duration(m, 'h', 'día(s)', 'min')}, una de mensajes directos cada ${duration(d, 'h', 'día(s)', 'min')}`,
  appBudgetDecides: 'El presupuesto agotado es el de toda la aplicación.',
  appTitle: 'Costo de X este mes, todos los canales',
  appIntro:
    'El presupuesto mensual de X de toda la aplicación limita el gasto de todos los canales juntos; cada canal también puede tener su propio presupuesto en su página.',
  appBudgetInput: 'Presupuesto mensual de X de toda la aplicación en USD',
  appExhaustedHelp:
    'Todos los canales reducen ahora la consulta de conciliación a su mínimo; el tiempo real sigue activo; los mensajes salientes fallan con budget_exhausted hasta que termine el mes o se aumente el presupuesto.',
  budgetInput: 'Presupuesto mensual de X en USD',
  saveBudget: 'Guardar presupuesto',
  removeBudget: 'Quitar presupuesto',
  budgetSaved: 'Presupuesto guardado.',
  budgetInvalid: 'Escribe un importe en USD, 0 o más.',
  plans: 'Cuánto costaría cada plan de X',
  planColumn: 'Plan',
  perMonthColumn: 'Al mes',
  fitsColumn: 'Cubre este tráfico',
  fits: 'Sí',
  doesNotFit: 'No',
  cheapest: 'el más barato',
  planNames: {
    payPerUse: 'Pago por uso',
    payPerUseOwnedReads: 'Pago por uso con Owned Reads',
    basic: 'Basic (heredado)',
    pro: 'Pro (heredado)',
  },
  planNotes: {
    payPerUse: 'El plan predeterminado de X: se cobra cada lectura, escritura y evento en tiempo real.',
    payPerUseOwnedReads: 'Solo si esta cuenta de X es dueña de la aplicación de desarrollador.',
    basic: 'Solo para suscriptores existentes.',
    pro: 'Solo para suscriptores existentes.',
  },
  drivers: 'Qué genera el costo',
  driverNames: {
    listenMentions: 'Escuchar menciones',
    listenDms: 'Escuchar mensajes directos',
    autoFollow: 'Seguir automáticamente',
    outbound: 'Respuestas, publicaciones y mensajes enviados',
    other: 'Otros',
  },
  basis: 'Proyección a partir del tráfico medido este mes.',
};

export const COST_MESSAGES: Record<Lang, CostMessages> = { en: costEn, es: costEs };
