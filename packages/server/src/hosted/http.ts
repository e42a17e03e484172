// What the hosted endpoints and pages share on the HTTP side: forms, cookies, CSRF, redirects.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { randomToken, safeEqual } from '../domain/secrets.js';

export type Params = Record<string, string | undefined>;

/** The query string's parameters; a parameter given twice is refused (RFC 6749 section 3.1). */
export function queryOf(req: FastifyRequest): { params: Params; raw: string; repeated?: string } {
  const raw = (req.raw.url ?? '').split('?')[1] ?? '';
  return { ...single(new URLSearchParams(raw)), raw };
}

/** A form body (application/x-www-form-urlencoded), read from the raw buffer the app keeps. */
export function formOf(req: FastifyRequest): { params: Params; repeated?: string } {
  const body = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
  return single(new URLSearchParams(body));
}

function single(sp: URLSearchParams): { params: Params; repeated?: string } {
  const params: Params = {};
  let repeated: string | undefined;
  for (const [k, v] of sp) {
    if (k in params) repeated = k;
    params[k] = v;
  }
  return { params, repeated };
}

export function cookiesOf(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** Whether the browser reached us over HTTPS (directly, or through a trusted proxy that says so). */
export const isSecure = (req: FastifyRequest) => req.protocol === 'https';

export function setCookie(reply: FastifyReply, req: FastifyRequest, name: string, value: string, o: { maxAgeS?: number; sameSite?: 'Lax' | 'Strict' | 'None' } = {}) {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', `SameSite=${o.sameSite ?? 'Lax'}`];
  if (isSecure(req)) parts.push('Secure');
  if (o.maxAgeS !== undefined) parts.push(`Max-Age=${o.maxAgeS}`);
  const prev = reply.getHeader('set-cookie');
  reply.header('set-cookie', [...(Array.isArray(prev) ? prev : prev ? [String(prev)] : []), parts.join('; ')]);
}

export const clearCookie = (reply: FastifyReply, req: FastifyRequest, name: string) => setCookie(reply, req, name, '', { maxAgeS: 0 });

// CSRF: a random cookie, and in every form an HMAC of it under the master key. A cross-site form
// post carries the cookie (or not, with SameSite) but cannot know the HMAC.
const CSRF_COOKIE = 'gh_csrf';

/** The form token for this browser, setting its cookie first if it has none. */
export function csrfToken(ctx: Ctx, req: FastifyRequest, reply: FastifyReply): string {
  let seed = cookiesOf(req)[CSRF_COOKIE];
  if (!seed || !/^[A-Za-z0-9_-]{43}$/.test(seed)) {
    seed = randomToken(32);
    setCookie(reply, req, CSRF_COOKIE, seed);
  }
  return ctx.secrets.mac('csrf', seed);
}

export function csrfHolds(ctx: Ctx, req: FastifyRequest, given: string | undefined): boolean {
  const seed = cookiesOf(req)[CSRF_COOKIE];
  return !!seed && !!given && safeEqual(ctx.secrets.mac('csrf', seed), given);
}

/** `uri` with parameters added to its query (or, for the implicit flow, its fragment). */
export function withParams(uri: string, params: Record<string, string | undefined>, where: 'query' | 'fragment' = 'query'): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) sp.append(k, v);
  if (where === 'fragment') return `${uri}#${sp}`;
  return uri + (uri.includes('?') ? '&' : '?') + sp.toString();
}

/** Headers for every page and redirect: never cached, never framed, no referrer (codes ride in URLs). */
export function pageHeaders(reply: FastifyReply, scriptNonce?: string) {
  reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
    .header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
    .header('content-security-policy', `default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'${scriptNonce ? `; script-src 'nonce-${scriptNonce}'; connect-src 'self'` : ''}`);
}
