// The operator's session: @gatehouse/auth against this server, tokens in sessionStorage (this tab
// only, gone when it closes), SRP sign-in. The console never holds the admin keys: every call
// carries the operator's short-lived access token, refreshed as it runs out.
import { createAuth } from '@gatehouse/auth';

export interface ConsoleConfig { userPoolId: string; userPoolClientId: string }

export type Auth = ReturnType<typeof createAuth>;
let auth: Auth | undefined;
let config: ConsoleConfig | undefined;

export async function loadSession(): Promise<Auth> {
  if (auth) return auth;
  const res = await fetch('config.json', { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error(`The console's settings could not be loaded (HTTP ${res.status}).`);
  config = await res.json() as ConsoleConfig;
  auth = createAuth({ Auth: { Cognito: { userPoolId: config.userPoolId, userPoolClientId: config.userPoolClientId, userPoolEndpoint: location.origin } } }, { storage: sessionStorage });
  return auth;
}

export function session(): Auth {
  if (!auth) throw new Error('the session is not loaded');
  return auth;
}

export function consoleConfig(): ConsoleConfig {
  if (!config) throw new Error('the session is not loaded');
  return config;
}

/** The access token, refreshed when it has run out (or when `force`); undefined when signed out. */
export async function accessToken(force = false): Promise<string | undefined> {
  const s = await session().fetchAuthSession(force ? { forceRefresh: true } : undefined);
  return s.tokens?.accessToken.toString();
}

/** Who is signed in: the email of the ID token, or the username. */
export async function operatorName(): Promise<string | undefined> {
  const s = await session().fetchAuthSession();
  const email = s.tokens?.idToken?.payload.email;
  return typeof email === 'string' ? email : (s.tokens ? String(s.tokens.accessToken.payload.username ?? '') : undefined);
}

// Idle sessions end: after 30 minutes without a key press, click or scroll, the console signs out.
const IDLE_MS = 30 * 60_000;
let lastActive = Date.now();
export function watchIdle(onIdle: () => void) {
  for (const ev of ['keydown', 'pointerdown', 'wheel']) addEventListener(ev, () => { lastActive = Date.now(); }, { passive: true });
  setInterval(() => { if (Date.now() - lastActive > IDLE_MS) onIdle(); }, 30_000);
}
