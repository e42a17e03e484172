import { fail } from './errors.js';

/** Amplify's `ResourcesConfig['Auth']['Cognito']`, the part this client reads. */
export interface CognitoConfig {
  userPoolId: string;
  userPoolClientId: string;
  /** Where the Cognito API answers (Gatehouse's URL); default: Amazon Cognito in the pool's region. */
  userPoolEndpoint?: string;
  identityPoolId?: string;
  signUpVerificationMethod?: 'code' | 'link';
  loginWith?: {
    email?: boolean;
    phone?: boolean;
    username?: boolean;
    oauth?: OAuthConfig;
  };
  [other: string]: unknown;
}

export interface OAuthConfig {
  /** Host (and optional path) of the hosted sign-in; `https://` is assumed unless a scheme is given. */
  domain: string;
  scopes: string[];
  redirectSignIn: string[];
  redirectSignOut: string[];
  responseType: 'code' | 'token';
  providers?: unknown[];
}

/** `{ Auth: { Cognito } }` as Amplify.configure takes it (also Gen 2's amplify_outputs.json `auth` block). */
export interface AuthConfig {
  Auth?: { Cognito?: CognitoConfig };
  auth?: { user_pool_id: string; user_pool_client_id: string; aws_region?: string; oauth?: { domain: string; scopes: string[]; redirect_sign_in_uri: string[]; redirect_sign_out_uri: string[]; response_type: 'code' | 'token' } };
}

export interface Resolved {
  poolId: string;
  clientId: string;
  /** SRP pool name: the part of the pool id after `_`. */
  poolName: string;
  endpoint: string;
  oauth?: OAuthConfig;
  verification: 'code' | 'link';
}

export function resolveConfig(config: AuthConfig): Resolved {
  let c = config.Auth?.Cognito;
  const o = config.auth;
  if (!c && o) {
    c = { userPoolId: o.user_pool_id, userPoolClientId: o.user_pool_client_id };
    if (o.oauth) c.loginWith = { oauth: { domain: o.oauth.domain, scopes: o.oauth.scopes, redirectSignIn: o.oauth.redirect_sign_in_uri, redirectSignOut: o.oauth.redirect_sign_out_uri, responseType: o.oauth.response_type } };
  }
  if (!c?.userPoolId || !c.userPoolClientId) fail('AuthUserPoolException', 'Auth UserPool not configured.', 'Pass { Auth: { Cognito: { userPoolId, userPoolClientId } } } to configure or createAuth.');
  const region = c.userPoolId.split('_')[0];
  return {
    poolId: c.userPoolId,
    clientId: c.userPoolClientId,
    poolName: c.userPoolId.split('_')[1] ?? '',
    endpoint: c.userPoolEndpoint ?? `https://cognito-idp.${region}.amazonaws.com/`,
    oauth: c.loginWith?.oauth,
    verification: c.signUpVerificationMethod ?? 'code',
  };
}
