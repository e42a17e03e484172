// Calls to the server: the Cognito API (POST / with x-amz-target, as the SDKs send it) with the
// operator's bearer token and the console's header, and the console's few read-only views.
import { accessToken } from './session.js';

export class ApiError extends Error {
  constructor(readonly type: string, message: string, readonly status: number) {
    super(message);
    this.name = type;
  }
}

/** Raised when the operator is not signed in (any more); the app goes to the sign-in page. */
export class SignedOut extends Error {}

let onSignedOut: () => void = () => {};
export function whenSignedOut(f: () => void) { onSignedOut = f; }

async function send(make: (token: string) => Promise<Response>): Promise<Response> {
  let token = await accessToken().catch(() => undefined);
  if (!token) { onSignedOut(); throw new SignedOut('Signed out'); }
  let res = await make(token);
  // A token that ran out between the check and the call, or was refused: one forced refresh, then give up.
  if (res.headers.has('www-authenticate')) {
    token = await accessToken(true).catch(() => undefined);
    if (!token) { onSignedOut(); throw new SignedOut('Signed out'); }
    res = await make(token);
  }
  return res;
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: any;
  try { body = text ? JSON.parse(text) : {}; } catch { body = { message: text }; }
  if (!res.ok) {
    const type = res.headers.get('x-amzn-errortype') ?? body?.__type ?? `HTTP ${res.status}`;
    // The server says so when the session itself is refused (an operation's own NotAuthorizedException is not that).
    if (res.headers.has('www-authenticate')) { onSignedOut(); throw new SignedOut(String(body?.message ?? 'Signed out')); }
    throw new ApiError(type, String(body?.message ?? body?.Message ?? res.statusText), res.status);
  }
  return body as T;
}

const headers = (token: string) => ({ authorization: `Bearer ${token}`, 'x-gatehouse-console': '1' });

/** One Cognito operation, exactly as the API takes it. */
export async function call<T = any>(operation: string, input: object): Promise<T> {
  const res = await send((token) => fetch('/', {
    method: 'POST', body: JSON.stringify(input),
    headers: { ...headers(token), 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${operation}` },
  }));
  return answer<T>(res);
}

/** One of the console's read-only views (activity, audit log, import progress). */
export async function view<T = any>(path: string, params: Record<string, string | undefined> = {}): Promise<T> {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== '') as [string, string][]);
  const res = await send((token) => fetch(`api/${path}${q.size ? `?${q}` : ''}`, { headers: headers(token) }));
  return answer<T>(res);
}

/** Every page of a listing: `pageOf(token)` answers one page and the next token. */
export async function all<T>(pageOf: (token?: string) => Promise<{ items: T[]; next?: string }>, max = 1000): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const p = await pageOf(token);
    out.push(...p.items);
    token = p.next;
  } while (token && out.length < max);
  return out;
}
