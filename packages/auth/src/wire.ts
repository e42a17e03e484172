import { AuthError } from './errors.js';
import type { Ctx } from './core.js';

/**
 * One Cognito JSON call: POST to the endpoint, operation in x-amz-target. A request that never got an
 * answer throws `NetworkError` (Amplify's name for it), so callers can tell an outage from a refusal.
 */
export async function call<T = any>(ctx: Ctx, op: string, body: object): Promise<T> {
  let res: Response, text: string;
  try {
    res = await ctx.fetch(ctx.cfg.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AWSCognitoIdentityProviderService.${op}`, 'cache-control': 'no-store' },
      body: JSON.stringify(body),
    });
    text = await res.text();
  } catch (e) {
    throw new AuthError({ name: 'NetworkError', message: 'A network error has occurred.', underlyingError: e });
  }
  let json: any = {};
  try { json = text ? JSON.parse(text) : {}; } catch { /* a proxy's error page */ }
  if (res.ok) return json;
  const raw: string = res.headers.get('x-amzn-errortype') ?? json.code ?? json.__type ?? (res.status >= 500 ? 'InternalErrorException' : 'UnknownError');
  const name = raw.split(/[:,]/)[0]!.split('#').pop()!;
  throw new AuthError({ name, message: json.message ?? json.Message ?? `${op} failed with HTTP ${res.status}`, underlyingError: { status: res.status } });
}
