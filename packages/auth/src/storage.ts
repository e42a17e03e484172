/**
 * Where a client keeps its tokens. Anything with getItem/setItem/removeItem works, sync or async:
 * `localStorage`, `sessionStorage`, Amplify's KeyValueStorageInterface implementations, or these.
 */
export interface KeyValueStorage {
  getItem(key: string): string | null | undefined | Promise<string | null | undefined>;
  setItem(key: string, value: string): unknown;
  removeItem(key: string): unknown;
}

/** Per-process memory: the default outside browsers, and the right one for one client per user on a server. */
export function memoryStorage(): KeyValueStorage {
  const m = new Map<string, string>();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v), removeItem: (k) => void m.delete(k) };
}

export interface CookieOptions {
  domain?: string;
  path?: string;
  /** Days until the cookies expire (default 365); the refresh token's own lifetime still applies. */
  expires?: number;
  secure?: boolean;
  sameSite?: 'strict' | 'lax' | 'none';
  /**
   * Where cookies are read and written; default `document.cookie`. On a server, read the request's
   * Cookie header and append each written string as a Set-Cookie header of the response.
   */
  cookies?: { get(): string; set(cookie: string): void };
}

/** Tokens in cookies, so a server rendering the next page sees the session (Amplify's CookieStorage). */
export function cookieStorage(options: CookieOptions = {}): KeyValueStorage {
  const jar = options.cookies ?? { get: () => document.cookie, set: (c: string) => void (document.cookie = c) };
  const written = new Map<string, string | null>();
  const attrs = (maxAge: number) =>
    `; Path=${options.path ?? '/'}${options.domain ? `; Domain=${options.domain}` : ''}; Max-Age=${maxAge}` +
    `${options.secure ?? true ? '; Secure' : ''}; SameSite=${options.sameSite ?? 'lax'}`;
  const enc = encodeURIComponent;
  return {
    getItem(key) {
      if (written.has(key)) return written.get(key)!;
      for (const part of jar.get().split(/;\s*/)) {
        const i = part.indexOf('=');
        if (i > 0 && decodeURIComponent(part.slice(0, i)) === key) return decodeURIComponent(part.slice(i + 1));
      }
      return null;
    },
    setItem(key, value) {
      written.set(key, value);
      jar.set(`${enc(key)}=${enc(value)}${attrs(Math.round((options.expires ?? 365) * 86400))}`);
    },
    removeItem(key) {
      written.set(key, null);
      jar.set(`${enc(key)}=${attrs(0)}`);
    },
  };
}

/** localStorage where there is a working one (browsers), memory elsewhere. */
export function defaultStorage(): KeyValueStorage {
  try {
    const ls = (globalThis as { localStorage?: Storage }).localStorage;
    if (ls) {
      ls.setItem('gatehouse.probe', '1');
      ls.removeItem('gatehouse.probe');
      return ls;
    }
  } catch { /* private mode, or a runtime whose localStorage throws */ }
  return memoryStorage();
}
