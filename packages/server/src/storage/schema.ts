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
  temp_password_expires_at: number | null;
  mfa: string;
  failed_attempts: number;
  locked_until: number;
  created_at: number;
  updated_at: number;
}
export interface GroupTable { pool_id: string; name: string; description: string | null; precedence: number | null; role_arn: string | null; created_at: number; updated_at: number }
export interface UserGroupTable { pool_id: string; group_name: string; user_id: string }
export interface CodeTable { id: string; pool_id: string; user_id: string; purpose: string; code_hmac: string; attempts: number; expires_at: number; consumed_at: number | null; created_at: number }
export interface AuthSessionTable { id: string; pool_id: string; client_id: string; user_id: string | null; state: string; attempts: number; expires_at: number; consumed_at: number | null; created_at: number }
export interface RefreshTokenTable { token_hash: string; origin_jti: string; pool_id: string; client_id: string; user_id: string; auth_time: number; expires_at: number; revoked_at: number | null; rotated_at: number | null; created_at: number }
export interface OutboxTable { id: string; pool_id: string; channel: string; destination: string; subject: string | null; body: string; created_at: number }

export interface Database {
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
}
