// Table shapes as Kysely sees them. Times are epoch milliseconds, booleans 0/1 and
// structured values JSON text, so one query layer serves SQLite and PostgreSQL alike.
export interface PoolTable { id: string; name: string; config: string; created_at: number; updated_at: number }
export interface PoolKeyTable { pool_id: string; kid: string; private_key: string; public_jwk: string; created_at: number }
export interface ClientTable { id: string; pool_id: string; name: string; secret: string | null; config: string; created_at: number; updated_at: number }
export interface UserTable {
  id: string; // the user's sub
  pool_id: string;
  username: string;
  username_key: string;
  email_key: string | null;
  phone_key: string | null;
  preferred_username_key: string | null;
  status: string;
  enabled: number;
  attributes: string;
  password: string | null; // encrypted SRP verifier and salt
  password_changed_at: number | null;
  /** JSON of email/phone_number values awaiting verification (AttributesRequireVerificationBeforeUpdate); null when none. */
  pending_attributes: string | null;
  temp_password_expires_at: number | null;
  mfa: string;
  /** The last TOTP time step the user spent (a code is good once); null before the first. */
  totp_step?: number | null;
  failed_attempts: number;
  locked_until: number;
  created_at: number;
  updated_at: number;
}
export interface GroupTable { pool_id: string; name: string; description: string | null; precedence: number | null; role_arn: string | null; created_at: number; updated_at: number }
export interface UserGroupTable { pool_id: string; group_name: string; user_id: string }
export interface CodeTable { id: string; pool_id: string; user_id: string; purpose: string; code_hmac: string; attempts: number; expires_at: number; consumed_at: number | null; created_at: number }
export interface AuthSessionTable { id: string; pool_id: string; client_id: string; user_id: string | null; state: string; attempts: number; expires_at: number; consumed_at: number | null; created_at: number }
export interface RefreshTokenTable {
  token_hash: string; origin_jti: string; pool_id: string; client_id: string; user_id: string; auth_time: number; expires_at: number; revoked_at: number | null; rotated_at: number | null; created_at: number;
  /** OAuth scopes granted at sign-in (space-separated), kept by refreshes; null for API sign-ins (aws.cognito.signin.user.admin). */
  scopes?: string | null;
}
/**
 * A message to send: `sealed` is its destination, subject and text, encrypted and bound to the row.
 * state: pending (a transport will send it), kept (development outbox: no transport), decoy (never sent).
 * A pending message may be claimed once due_at has passed; a claim pushes due_at a lease ahead.
 */
export interface OutboxTable { id: string; pool_id: string; channel: string; state: string; sealed: string; attempts: number; due_at: number; created_at: number }
/** What an unknown user's code request writes instead of a code and an auth event; swept once expired. */
export interface DecoyTable { id: string; pool_id: string; subject: string; kind: string; data: string; expires_at: number; created_at: number }
// Bulk user import (CSV). A job's file is kept in the database in chunks so any process can run it;
// rows_done and the counts advance in the same transaction as the users they count.
export interface ImportJobTable {
  id: string; pool_id: string; name: string; role_arn: string;
  status: string; // Created | Pending | InProgress | Stopping | Stopped | Succeeded | Failed | Expired
  upload_id: string | null; // the committed upload's chunks; null until a file is uploaded
  csv_bytes: number; csv_records: number; csv_error: string | null;
  rows_done: number; imported: number; skipped: number; failed: number;
  failures: string; // JSON [{ line, reason }], the first few
  message: string | null;
  owner: string | null; heartbeat_at: number; attempts: number; // the runner holding the job, and its lease
  created_at: number; started_at: number | null; completed_at: number | null; updated_at: number;
}
export interface ImportChunkTable { job_id: string; upload_id: string; seq: number; data: Buffer }
/** A fixed-window rate counter: key names limit, subject and window; swept once expired. */
export interface RateCounterTable { key: string; hits: number; expires_at: number }
/** One entry of a user's auth history (AdminListUserAuthEvents); challenges is JSON. */
/** Failed sign-ins of a login that names no user (see users.failed_attempts for real ones). */
export interface LoginFailureTable { key: string; failed_attempts: number; locked_until: number; expires_at: number }
/** detail: 'lockout' when the attempt found the account locked or locked it (the console's activity charts count these). */
export interface AuthEventTable { id: string; pool_id: string; user_id: string; event_type: string; response: string; challenges: string; ip: string | null; detail: string | null; created_at: number }
/** Server-wide settings (the console's system pool and app client), written once by whichever process gets there first. */
/** A closed time bucket's activity counts (JSON, one number per series of domain/activity.ts); bucket is epoch ms / width_ms. */
export interface ActivityRollupTable { pool_id: string; width_ms: number; bucket: number; counts: string }
export interface SettingTable { key: string; value: string; updated_at: number }
/**
 * One operation an operator made from the console: who (sub and login), what, on which pool and
 * target, how it ended (ok or the error's name), from where; `kind` is read or write.
 */
export interface AuditLogTable {
  id: string; at: number; operator_sub: string; operator: string; operation: string; kind: string;
  pool_id: string | null; target: string | null; outcome: string; ip: string | null;
}

/** One sign-in key of a user (username, email, phone or preferred_username), unique per pool across kinds. */
export interface LoginKeyTable { pool_id: string; key: string; kind: string; user_id: string }

// Hosted sign-in (OAuth 2.0 / OpenID Connect). Codes and SSO sessions are keyed by their token's hash.
export interface OAuthCodeTable {
  code_hash: string; pool_id: string; client_id: string; user_id: string; redirect_uri: string;
  scopes: string; code_challenge: string | null; nonce: string | null; auth_time: number;
  /** The token family the code's tokens belong to: a replayed code revokes it. */
  origin_jti: string;
  expires_at: number; consumed_at: number | null; created_at: number;
}
export interface SsoSessionTable { id: string; pool_id: string; user_id: string; auth_time: number; expires_at: number; created_at: number }
/** scopes: JSON [{ ScopeName, ScopeDescription }]. */
export interface ResourceServerTable { pool_id: string; identifier: string; name: string; scopes: string }
/** client_id 'ALL' is the pool's default; image is base64. */
export interface UiCustomizationTable { pool_id: string; client_id: string; css: string | null; image: string | null; created_at: number; updated_at: number }
export interface PoolDomainTable { domain: string; pool_id: string; created_at: number }
/** details: sealed JSON (it holds client secrets); attribute_mapping and idp_identifiers: JSON. */
export interface IdentityProviderTable { pool_id: string; name: string; type: string; details: string; attribute_mapping: string; idp_identifiers: string; created_at: number; updated_at: number }
/** A federated identity: the user a provider's subject signs in as. */
export interface UserIdentityTable { pool_id: string; provider_name: string; provider_user_id: string; user_id: string; created_at: number }
export interface UsedOnceTable { key: string; expires_at: number }
/**
 * A device handed out with tokens (NewDeviceMetadata). Unconfirmed until ConfirmDevice stores its
 * SRP verifier (sealed); remembered devices may stand in for MFA when the pool allows it.
 */
export interface DeviceTable {
  device_key: string; pool_id: string; user_id: string; group_key: string;
  verifier: string | null; name: string | null; remembered: number; confirmed_at: number | null;
  last_ip: string | null; last_auth_at: number | null; created_at: number; updated_at: number;
}

/** A registered passkey (WebAuthn credential). Ids and the COSE public key are base64url; transports JSON. */
export interface WebAuthnCredentialTable {
  pool_id: string; credential_id: string; user_id: string; public_key: string; counter: number; transports: string;
  attachment: string | null; name: string; rp_id: string; aaguid: string; backed_up: number; created_at: number; last_used_at: number | null;
}

export interface Database {
  oauth_codes: OAuthCodeTable;
  sso_sessions: SsoSessionTable;
  resource_servers: ResourceServerTable;
  ui_customizations: UiCustomizationTable;
  pool_domains: PoolDomainTable;
  identity_providers: IdentityProviderTable;
  user_identities: UserIdentityTable;
  used_once: UsedOnceTable;
  pools: PoolTable;
  pool_keys: PoolKeyTable;
  clients: ClientTable;
  users: UserTable;
  groups: GroupTable;
  user_groups: UserGroupTable;
  codes: CodeTable;
  auth_sessions: AuthSessionTable;
  refresh_tokens: RefreshTokenTable;
  outbox: OutboxTable;
  decoys: DecoyTable;
  import_jobs: ImportJobTable;
  import_chunks: ImportChunkTable;
  rate_counters: RateCounterTable;
  auth_events: AuthEventTable;
  login_failures: LoginFailureTable;
  login_keys: LoginKeyTable;
  settings: SettingTable;
  audit_log: AuditLogTable;
  activity_rollups: ActivityRollupTable;
  devices: DeviceTable;
  webauthn_credentials: WebAuthnCredentialTable;
}
