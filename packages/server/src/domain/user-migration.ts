// Lazy migration: a login that names no user may name one of another store, which the pool's
// UserMigration trigger looks up (and, on sign-in, checks the password against). The user it
// answers is created here, with that password, and the sign-in or reset goes on as theirs.
import { CognitoError, UserLambdaValidationException } from '../errors.js';
import { UniqueViolation } from '../storage/repository.js';
import type { Ctx } from './context.js';
import type { LoadedClient, LoadedPool } from './pools.js';
import { sealPassword } from './passwords.js';
import { findUser, loginKeys, missingRequired, newUsername, parseUser, uniqueError, validateAttributes, type User } from './users.js';
import { userMigration, type Strings, type UserMigrationSource } from './triggers/events.js';
import { invalidResponse } from './triggers/runtime.js';

/**
 * The user the UserMigration trigger brings over for `login`, now stored; undefined when the pool
 * has no such trigger or the trigger failed (its way of saying the old store has no such user, or
 * the password is wrong): the caller answers as for a login that names nobody.
 */
export async function migrateUser(ctx: Ctx, pool: LoadedPool, client: LoadedClient, login: string, source: UserMigrationSource, req: { password?: string; clientMetadata?: Strings }): Promise<User | undefined> {
  if (!ctx.triggers.has(pool, 'UserMigration')) return undefined;
  let answer;
  try {
    // Cognito passes ClientMetadata as both: validationData for the old store's checks, and clientMetadata.
    answer = await userMigration(ctx, pool, source, { userName: login, clientId: client.id }, { ...req, validationData: req.clientMetadata });
  } catch (e) {
    if (e instanceof UserLambdaValidationException) return undefined;
    throw e;
  }
  const given = Object.entries(answer.userAttributes)
    .filter(([k]) => k !== 'sub' && k !== 'username' && !k.startsWith('cognito:'))
    .map(([Name, Value]) => ({ Name, Value }));
  let attrs, username: string, sub: string;
  try {
    attrs = validateAttributes(pool, given, { admin: true });
    ({ username, sub } = newUsername(pool, login, attrs));
    const missing = missingRequired(pool, attrs);
    if (missing.length) throw new Error(`required attributes are missing: ${missing.join(', ')}`);
  } catch (e) {
    throw invalidResponse('UserMigration', e instanceof CognitoError || e instanceof Error ? e.message : String(e));
  }
  // On sign-in the trigger vouched for the password, so it is kept (as it was, whatever today's policy);
  // a user migrated on ForgotPassword, or marked RESET_REQUIRED, sets a new one with the emailed code.
  const status = source === 'UserMigration_ForgotPassword' || answer.finalUserStatus === 'RESET_REQUIRED' || req.password === undefined ? 'RESET_REQUIRED' : 'CONFIRMED';
  const now = ctx.now();
  const row = {
    id: sub, pool_id: pool.id, username, ...loginKeys(pool, username, attrs), status, enabled: 1,
    attributes: JSON.stringify(attrs), password: status === 'CONFIRMED' ? sealPassword(ctx, pool, { id: sub, username }, req.password!, false) : null,
    password_changed_at: now, temp_password_expires_at: null, mfa: '{}', failed_attempts: 0, locked_until: 0, created_at: now, updated_at: now,
  };
  try {
    await ctx.repo.createUser(row);
  } catch (e) {
    // Two sign-ins migrating the same user at once: the one that lost finds the one that won.
    if (e instanceof UniqueViolation) {
      const other = await findUser(ctx, pool, login);
      if (other) return other;
    }
    throw uniqueError(e, pool);
  }
  ctx.log.info('user migrated by the UserMigration trigger', { poolId: pool.id, source });
  const stored = await ctx.repo.getUser(pool.id, sub);
  return stored ? parseUser(stored) : undefined;
}
