import { InvalidParameterException, ResourceNotFoundException } from '../errors.js';
import type { Ctx } from './context.js';
import type { Pool, Client } from '../storage/repository.js';
import { defaultPasswordPolicy, type PasswordPolicy } from './password-policy.js';
import type {
  AccountRecoverySettingType, AdminCreateUserConfigType, AuthFactorType, AliasAttributeType, AnalyticsConfigurationType, AttributeDataType, DefaultEmailOptionType,
  DeletionProtectionType, DeviceConfigurationType, EmailConfigurationType, ExplicitAuthFlowsType, FeatureType, IssuerConfigurationType,
  KeyConfigurationType, LambdaConfigType, OAuthFlowType, PreventUserExistenceErrorTypes, SchemaAttributeType, SignInPolicyType, SmsConfigurationType,
  TimeUnitsType, UserAttributeUpdateSettingsType, UsernameAttributeType, UsernameConfigurationType, UserPoolAddOnsType, UserPoolMfaType,
  UserPoolTierType, VerificationMessageTemplateType, VerifiedAttributeType, SoftwareTokenMfaConfigType, EmailMfaConfigType, WebAuthnConfigurationType,
} from '../shapes.js';

/** A schema entry as stored: custom attributes under their bare name (Cognito shows `custom:<name>`). */
export type SchemaEntry = SchemaAttributeType & { Name: string; AttributeDataType: AttributeDataType };

/** The stored settings of a user pool: Cognito's CreateUserPool input, defaults filled in. */
export interface PoolConfig {
  Policies: { PasswordPolicy: PasswordPolicy; SignInPolicy?: SignInPolicyType };
  UsernameAttributes?: UsernameAttributeType[];
  AliasAttributes?: AliasAttributeType[];
  UsernameConfiguration: UsernameConfigurationType;
  AutoVerifiedAttributes?: VerifiedAttributeType[];
  MfaConfiguration: UserPoolMfaType;
  Schema?: SchemaEntry[];
  VerificationMessageTemplate: VerificationMessageTemplateType & { EmailMessage: string; EmailSubject: string; SmsMessage: string; DefaultEmailOption: DefaultEmailOptionType };
  AdminCreateUserConfig: AdminCreateUserConfigType & { AllowAdminCreateUserOnly: boolean };
  AccountRecoverySetting?: AccountRecoverySettingType;
  UserAttributeUpdateSettings?: UserAttributeUpdateSettingsType;
  DeletionProtection: DeletionProtectionType;
  LambdaConfig?: LambdaConfigType;
  EmailConfiguration?: EmailConfigurationType;
  SmsConfiguration?: SmsConfigurationType;
  SmsAuthenticationMessage?: string;
  /** Set by SetUserPoolMfaConfig (domain/mfa-config.ts); UpdateUserPool leaves them. */
  SoftwareTokenMfaConfiguration?: SoftwareTokenMfaConfigType;
  EmailMfaConfiguration?: EmailMfaConfigType;
  DeviceConfiguration?: DeviceConfigurationType;
  UserPoolAddOns?: UserPoolAddOnsType;
  UserPoolTags?: Record<string, string>;
  UserPoolTier?: UserPoolTierType;
  KeyConfiguration?: KeyConfigurationType;
  IssuerConfiguration?: IssuerConfigurationType;
  /** Set by SetUserPoolMfaConfig: the passkey settings. */
  WebAuthnConfiguration?: WebAuthnConfigurationType;
}

export interface ClientConfig {
  ClientName: string;
  ExplicitAuthFlows: ExplicitAuthFlowsType[];
  RefreshTokenValidity: number;
  AccessTokenValidity: number;
  IdTokenValidity: number;
  TokenValidityUnits: { AccessToken: TimeUnitsType; IdToken: TimeUnitsType; RefreshToken: TimeUnitsType };
  ReadAttributes?: string[];
  WriteAttributes?: string[];
  PreventUserExistenceErrors: PreventUserExistenceErrorTypes;
  EnableTokenRevocation: boolean;
  AuthSessionValidity: number;
  RefreshTokenRotation: { Feature: FeatureType; RetryGracePeriodSeconds: number };
  SupportedIdentityProviders?: string[];
  CallbackURLs?: string[];
  LogoutURLs?: string[];
  DefaultRedirectURI?: string;
  AllowedOAuthFlows?: OAuthFlowType[];
  AllowedOAuthScopes?: string[];
  AllowedOAuthFlowsUserPoolClient: boolean;
  EnablePropagateAdditionalUserContextData: boolean;
  AnalyticsConfiguration?: AnalyticsConfigurationType;
}

export const defaultVerificationTemplate: PoolConfig['VerificationMessageTemplate'] = {
  EmailMessage: 'Your verification code is {####}',
  EmailSubject: 'Your verification code',
  SmsMessage: 'Your verification code is {####}',
  DefaultEmailOption: 'CONFIRM_WITH_CODE',
};

export interface LoadedPool { id: string; name: string; config: PoolConfig; row: Pool }
export interface LoadedClient { id: string; poolId: string; name: string; config: ClientConfig; secret: string | null; row: Client }

// Parsed settings per row object: the storage cache hands out the same row until it changes or
// expires, so each version of a pool or client is parsed (and its secret decrypted) once.
const parsedPools = new WeakMap<Pool, LoadedPool>();
const parsedClients = new WeakMap<Client, LoadedClient>();

export function parsePool(row: Pool): LoadedPool {
  let pool = parsedPools.get(row);
  if (!pool) parsedPools.set(row, (pool = { id: row.id, name: row.name, config: JSON.parse(row.config), row }));
  return pool;
}

export async function loadPool(ctx: Ctx, poolId: string): Promise<LoadedPool> {
  const row = await ctx.repo.getPool(poolId);
  if (!row) throw new ResourceNotFoundException(`User pool ${poolId} does not exist.`);
  return parsePool(row);
}

export function parseClient(ctx: Ctx, row: Client): LoadedClient {
  let client = parsedClients.get(row);
  if (!client) {
    const secret = row.secret ? ctx.secrets.decrypt(row.secret, `client-secret:${row.id}`).toString('utf8') : null;
    parsedClients.set(row, (client = { id: row.id, poolId: row.pool_id, name: row.name, config: JSON.parse(row.config), secret, row }));
  }
  return client;
}

/** For unsigned operations: the ClientId names the pool. Unknown ids are ResourceNotFound, as in Cognito. */
export async function loadClient(ctx: Ctx, clientId: string): Promise<{ pool: LoadedPool; client: LoadedClient }> {
  const row = await ctx.repo.getClient(clientId);
  if (!row) throw new ResourceNotFoundException('User pool client ' + clientId + ' does not exist.');
  const pool = await loadPool(ctx, row.pool_id);
  return { pool, client: parseClient(ctx, row) };
}

export async function loadPoolClient(ctx: Ctx, poolId: string, clientId: string) {
  const pool = await loadPool(ctx, poolId);
  const row = await ctx.repo.getClient(clientId);
  if (!row || row.pool_id !== poolId) throw new ResourceNotFoundException('User pool client ' + clientId + ' does not exist.');
  return { pool, client: parseClient(ctx, row) };
}

export function passwordPolicy(pool: LoadedPool): PasswordPolicy {
  return pool.config.Policies?.PasswordPolicy ?? defaultPasswordPolicy;
}

/** Usernames are case-insensitive unless the pool says otherwise (Cognito's default since 2020). */
export function usernameKey(pool: LoadedPool, username: string): string {
  return pool.config.UsernameConfiguration?.CaseSensitive ? username : username.toLowerCase();
}

/**
 * The key a login is looked up by (emails always lower case, as findUser tries them): what answers
 * simulated for a login that names no user derive from, so they vary exactly as real ones do.
 */
export function lookupKey(pool: LoadedPool, login: string): string {
  return login.includes('@') ? login.toLowerCase() : usernameKey(pool, login);
}

export function isUsernameAttribute(pool: LoadedPool, attr: string) {
  return (pool.config.UsernameAttributes as string[] | undefined)?.includes(attr) ?? false;
}
export function isAlias(pool: LoadedPool, attr: string) {
  return (pool.config.AliasAttributes as string[] | undefined)?.includes(attr) ?? false;
}

/** Whether the client hides which users exist (PreventUserExistenceErrors ENABLED, our default). */
export function hidesUsers(client: LoadedClient) {
  return client.config.PreventUserExistenceErrors !== 'LEGACY';
}

/**
 * The first factors USER_AUTH may use in the pool: its SignInPolicy (PASSWORD by default). The
 * passwordless ones need the Essentials tier or above, as in Cognito.
 */
export function allowedFirstFactors(pool: LoadedPool): AuthFactorType[] {
  const factors = pool.config.Policies?.SignInPolicy?.AllowedFirstAuthFactors ?? ['PASSWORD'];
  return pool.config.UserPoolTier === 'LITE' ? factors.filter((f) => f === 'PASSWORD') : factors;
}

/** Whether users may sign up without a password: the pool lets them sign in with an email or SMS code. */
export function allowsPasswordlessSignUp(pool: LoadedPool): boolean {
  return allowedFirstFactors(pool).some((f) => f === 'EMAIL_OTP' || f === 'SMS_OTP');
}

export function requireFlow(client: LoadedClient, ...flows: ExplicitAuthFlowsType[]) {
  if (!flows.some((f) => client.config.ExplicitAuthFlows.includes(f))) {
    throw new InvalidParameterException(`${flows[0].replace(/^ALLOW_/, '')} flow is not enabled for this client.`);
  }
}

/** Token lifetimes in milliseconds, from the client's validity settings and units. */
export function tokenLifetimes(c: ClientConfig) {
  const unit: Record<string, number> = { seconds: 1e3, minutes: 60e3, hours: 3600e3, days: 86400e3 };
  return {
    access: c.AccessTokenValidity * unit[c.TokenValidityUnits.AccessToken],
    id: c.IdTokenValidity * unit[c.TokenValidityUnits.IdToken],
    refresh: c.RefreshTokenValidity * unit[c.TokenValidityUnits.RefreshToken],
  };
}
