// Pure builders for the stored settings of user pools and app clients: from a (model-checked)
// CreateUserPool/UpdateUserPool/CreateUserPoolClient/UpdateUserPoolClient request they apply the
// rules the model cannot state (cross-field rules, schema rules, placeholders), fill Cognito's
// defaults, and render the Describe* answers.
import crypto from 'node:crypto';
import { FeatureUnavailableInTierException, InvalidParameterException } from '../errors.js';
import type {
  AdminCreateUserConfigType, CreateUserPoolClientRequest, CreateUserPoolRequest, SchemaAttributeType, StringAttributeConstraintsType,
  NumberAttributeConstraintsType, TimeUnitsType, UpdateUserPoolClientRequest, UpdateUserPoolRequest, UserPoolClientType, UserPoolType,
  ExplicitAuthFlowsType, AttributeDataType, AuthFactorType, LambdaConfigType,
} from '../shapes.js';
import { passwordPolicyOf } from './password-policy.js';
import { defaultVerificationTemplate, type ClientConfig, type LoadedClient, type LoadedPool, type PoolConfig, type SchemaEntry } from './pools.js';
import { standardAttributes } from './users.js';
import { checkMfaConfiguration } from './mfa-config.js';

const invalid = (message: string) => new InvalidParameterException(message);

// ---------------------------------------------------------------- identifiers

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** Uniformly random characters from `alphabet` (crypto.randomInt has no modulo bias). */
export function randomChars(n: number, alphabet: string): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[crypto.randomInt(alphabet.length)];
  return s;
}

/** `<region>_<9 alphanumerics>`, the shape of Cognito pool ids. */
export const newPoolId = (region: string) => `${region}_${randomChars(9, ALNUM)}`;
/** 26 lowercase alphanumerics, as Cognito's app client ids. */
export const newClientId = () => randomChars(26, LOWER_ALNUM);
/** 51 lowercase alphanumerics, as Cognito's generated client secrets. */
export const newClientSecret = () => randomChars(51, LOWER_ALNUM);

export const poolArn = (region: string, poolId: string) => `arn:aws:cognito-idp:${region}:000000000000:userpool/${poolId}`;

/** Epoch milliseconds as the epoch seconds the JSON protocol uses for timestamps. */
export const seconds = (ms: number) => ms / 1000;

const unique = <T>(v: T[] | undefined): T[] | undefined => v && [...new Set(v)];

/** Invite templates must carry the username and the code; the model's patterns cannot say so. */
function mustContain(field: string, v: string | undefined, placeholders: string[]) {
  for (const p of placeholders) {
    if (v !== undefined && !v.includes(p)) {
      throw invalid(`1 validation error detected: Value '${v.length > 64 ? `${v.slice(0, 64)}…` : v}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: .*\\${p.slice(0, -1)}\\}.*`);
    }
  }
}

// ---------------------------------------------------------------- pool settings

/** What CreateUserPool and UpdateUserPool share: UpdateUserPool's members without the pool id. */
type PoolSettings = Omit<UpdateUserPoolRequest, 'UserPoolId'>;

/** Settings UpdateUserPool rewrites; left out of a request, they go back to Cognito's defaults. */
const RESET_ON_UPDATE = [
  'Policies', 'DeletionProtection', 'LambdaConfig', 'AutoVerifiedAttributes', 'VerificationMessageTemplate', 'SmsAuthenticationMessage',
  'UserAttributeUpdateSettings', 'MfaConfiguration', 'DeviceConfiguration', 'EmailConfiguration', 'SmsConfiguration',
  'AdminCreateUserConfig', 'UserPoolAddOns', 'AccountRecoverySetting',
] as const;
export const FIRST_FACTORS: readonly AuthFactorType[] = ['PASSWORD', 'EMAIL_OTP', 'SMS_OTP', 'WEB_AUTHN'];

function policies(input: PoolSettings): PoolConfig['Policies'] {
  const PasswordPolicy = passwordPolicyOf(input.Policies?.PasswordPolicy);
  // The deprecated AdminCreateUserConfig.UnusedAccountValidityDays is the temporary-password lifetime.
  const unused = input.AdminCreateUserConfig?.UnusedAccountValidityDays;
  if (unused !== undefined) {
    if (input.Policies?.PasswordPolicy?.TemporaryPasswordValidityDays !== undefined) {
      throw invalid('Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays');
    }
    PasswordPolicy.TemporaryPasswordValidityDays = unused;
  }
  const factors = unique(input.Policies?.SignInPolicy?.AllowedFirstAuthFactors);
  // The model's AuthFactorType also names SOFTWARE_TOKEN, which is a second factor only.
  for (const f of factors ?? []) if (!FIRST_FACTORS.includes(f)) throw invalid(`${f} cannot be an allowed first authentication factor.`);
  return { PasswordPolicy, SignInPolicy: { AllowedFirstAuthFactors: factors ?? ['PASSWORD'] } };
}

/**
 * The triggers as stored. Which values are callable (a URL, a module, an ARN) the trigger runtime
 * checks (ops/pools.ts); the model's ARN pattern is lifted for them (wire/model.ts).
 */
function lambdaConfig(l: LambdaConfigType): LambdaConfigType {
  const out = { ...l };
  // Cognito sets PreTokenGeneration to the versioned trigger's function, and refuses the two apart.
  if (l.PreTokenGenerationConfig) {
    if (l.PreTokenGeneration !== undefined && l.PreTokenGeneration !== l.PreTokenGenerationConfig.LambdaArn) {
      throw invalid('PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must name the same function.');
    }
    out.PreTokenGeneration = l.PreTokenGenerationConfig.LambdaArn;
  }
  return out;
}

function verificationTemplate(input: PoolSettings): PoolConfig['VerificationMessageTemplate'] {
  const t = input.VerificationMessageTemplate ?? {};
  // The legacy top-level members and the template members name the same settings; they must agree.
  const either = (legacyName: string, legacy: string | undefined, field: string, modern: string | undefined) => {
    if (legacy !== undefined && modern !== undefined && legacy !== modern) {
      throw invalid(`${legacyName} and VerificationMessageTemplate.${field} are both set with different values.`);
    }
    return modern ?? legacy;
  };
  const out: PoolConfig['VerificationMessageTemplate'] = {
    SmsMessage: either('SmsVerificationMessage', input.SmsVerificationMessage, 'SmsMessage', t.SmsMessage) ?? defaultVerificationTemplate.SmsMessage,
    EmailMessage: either('EmailVerificationMessage', input.EmailVerificationMessage, 'EmailMessage', t.EmailMessage) ?? defaultVerificationTemplate.EmailMessage,
    EmailSubject: either('EmailVerificationSubject', input.EmailVerificationSubject, 'EmailSubject', t.EmailSubject) ?? defaultVerificationTemplate.EmailSubject,
    DefaultEmailOption: t.DefaultEmailOption ?? defaultVerificationTemplate.DefaultEmailOption,
  };
  if (t.EmailMessageByLink !== undefined) out.EmailMessageByLink = t.EmailMessageByLink;
  if (t.EmailSubjectByLink !== undefined) out.EmailSubjectByLink = t.EmailSubjectByLink;
  return out;
}

function adminCreateUserConfig(a: AdminCreateUserConfigType | undefined): PoolConfig['AdminCreateUserConfig'] {
  const t = a?.InviteMessageTemplate;
  mustContain('adminCreateUserConfig.inviteMessageTemplate.sMSMessage', t?.SMSMessage, ['{username}', '{####}']);
  mustContain('adminCreateUserConfig.inviteMessageTemplate.emailMessage', t?.EmailMessage, ['{username}', '{####}']);
  return { ...a, AllowAdminCreateUserOnly: a?.AllowAdminCreateUserOnly ?? false };
}

function recovery(input: PoolSettings): PoolConfig['AccountRecoverySetting'] {
  const mechanisms = input.AccountRecoverySetting?.RecoveryMechanisms;
  if (!input.AccountRecoverySetting) return undefined;
  const RecoveryMechanisms = [...(mechanisms ?? [])];
  const names = new Set(RecoveryMechanisms.map((m) => m.Name));
  const priorities = new Set(RecoveryMechanisms.map((m) => m.Priority));
  if (names.size !== RecoveryMechanisms.length || priorities.size !== RecoveryMechanisms.length) {
    throw invalid('Recovery mechanisms must have unique names and unique priorities.');
  }
  if (names.has('admin_only') && names.size > 1) throw invalid('admin_only cannot be combined with another recovery mechanism.');
  return { RecoveryMechanisms: RecoveryMechanisms.sort((a, b) => a.Priority - b.Priority) };
}

function tags(t: Record<string, string> | undefined): Record<string, string> | undefined {
  if (t && Object.keys(t).length > 50) throw invalid('A user pool can have at most 50 tags.');
  return t;
}

/** ON and OPTIONAL need a factor the pool offers: checked on the whole config (checkMfaConfiguration). */
function mfaConfiguration(input: PoolSettings): PoolConfig['MfaConfiguration'] {
  return input.MfaConfiguration ?? 'OFF';
}

/** The settings both CreateUserPool and UpdateUserPool write (UpdateUserPool: all of them, from defaults). */
function updatable(input: PoolSettings): Partial<PoolConfig> {
  const out: Partial<PoolConfig> = {
    Policies: policies(input),
    DeletionProtection: input.DeletionProtection ?? 'INACTIVE',
    MfaConfiguration: mfaConfiguration(input),
    VerificationMessageTemplate: verificationTemplate(input),
    AdminCreateUserConfig: adminCreateUserConfig(input.AdminCreateUserConfig),
    EmailConfiguration: { ...input.EmailConfiguration, EmailSendingAccount: input.EmailConfiguration?.EmailSendingAccount ?? 'COGNITO_DEFAULT' },
  };
  if (input.LambdaConfig) out.LambdaConfig = lambdaConfig(input.LambdaConfig);
  const autoVerified = unique(input.AutoVerifiedAttributes);
  if (autoVerified?.length) out.AutoVerifiedAttributes = autoVerified;
  if (input.SmsAuthenticationMessage !== undefined) out.SmsAuthenticationMessage = input.SmsAuthenticationMessage;
  const needVerification = unique(input.UserAttributeUpdateSettings?.AttributesRequireVerificationBeforeUpdate) ?? [];
  for (const a of needVerification) {
    if (!autoVerified?.includes(a)) throw invalid(`AttributesRequireVerificationBeforeUpdate can only contain attributes that are in AutoVerifiedAttributes: ${a}`);
  }
  out.UserAttributeUpdateSettings = { AttributesRequireVerificationBeforeUpdate: needVerification };
  if (input.DeviceConfiguration) out.DeviceConfiguration = input.DeviceConfiguration;
  if (input.SmsConfiguration) out.SmsConfiguration = input.SmsConfiguration;
  if (input.UserPoolAddOns) out.UserPoolAddOns = input.UserPoolAddOns;
  const recoverySetting = recovery(input);
  if (recoverySetting) out.AccountRecoverySetting = recoverySetting;
  // Not in RESET_ON_UPDATE: UpdateUserPool changes these only when the request names them.
  if (input.UserPoolTier) out.UserPoolTier = input.UserPoolTier;
  if (input.KeyConfiguration) out.KeyConfiguration = input.KeyConfiguration;
  if (input.IssuerConfiguration) out.IssuerConfiguration = { Type: input.IssuerConfiguration.Type ?? 'ORIGINAL' };
  const poolTags = tags(input.UserPoolTags);
  if (poolTags) out.UserPoolTags = poolTags;
  return out;
}

// ---------------------------------------------------------------- schema

/** The schema entry Cognito shows for each standard attribute. */
function standard(Name: string, o: Partial<SchemaEntry> = {}): SchemaEntry {
  return {
    Name, AttributeDataType: 'String', DeveloperOnlyAttribute: false, Mutable: true, Required: false,
    StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' }, ...o,
  };
}
const STANDARD_SCHEMA: SchemaEntry[] = [
  standard('sub', { Mutable: false, Required: true, StringAttributeConstraints: { MinLength: '1', MaxLength: '2048' } }),
  ...['name', 'given_name', 'family_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'email'].map((n) => standard(n)),
  standard('email_verified', { AttributeDataType: 'Boolean', StringAttributeConstraints: undefined }),
  standard('gender'),
  standard('birthdate', { StringAttributeConstraints: { MinLength: '10', MaxLength: '10' } }),
  standard('zoneinfo'), standard('locale'), standard('phone_number'),
  standard('phone_number_verified', { AttributeDataType: 'Boolean', StringAttributeConstraints: undefined }),
  standard('address'),
  standard('updated_at', { AttributeDataType: 'Number', StringAttributeConstraints: undefined, NumberAttributeConstraints: { MinValue: '0' } }),
].map((e) => JSON.parse(JSON.stringify(e)) as SchemaEntry);

/** Custom attributes a pool may have, as in Cognito. */
export const MAX_CUSTOM_ATTRIBUTES = 50;
/** String attributes hold at most this many characters, so no constraint may say more. */
const MAX_STRING_LENGTH = 2048;

/**
 * String and number constraints: integers given as strings (lengths not negative), at most 2048 for
 * lengths, and a minimum not above the maximum. `shown` is the attribute's name as Cognito shows it.
 */
function constraints(shown: string, type: AttributeDataType, s: StringAttributeConstraintsType | undefined, n: NumberAttributeConstraintsType | undefined) {
  const int = (v: string | undefined, what: string, negative: boolean) => {
    if (v === undefined || v === '') return undefined;
    if (!(negative ? /^-?[0-9]{1,18}$/ : /^[0-9]{1,18}$/).test(v)) throw invalid(`Invalid ${what} for schema attribute ${shown}`);
    return Number(v);
  };
  const out: Pick<SchemaEntry, 'StringAttributeConstraints' | 'NumberAttributeConstraints'> = {};
  if (s && type === 'String') {
    const min = int(s.MinLength, 'StringAttributeConstraints', false);
    const max = int(s.MaxLength, 'StringAttributeConstraints', false);
    if ((min ?? 0) > MAX_STRING_LENGTH || (max ?? 0) > MAX_STRING_LENGTH) throw invalid(`user.${shown}: String attributes cannot have a length of more than ${MAX_STRING_LENGTH}`);
    if (min !== undefined && max !== undefined && min > max) throw invalid(`user.${shown}: Max length cannot be less than min length.`);
    out.StringAttributeConstraints = { ...(s.MinLength ? { MinLength: s.MinLength } : {}), ...(s.MaxLength ? { MaxLength: s.MaxLength } : {}) };
  }
  if (n && type === 'Number') {
    const min = int(n.MinValue, 'NumberAttributeConstraints', true);
    const max = int(n.MaxValue, 'NumberAttributeConstraints', true);
    if (min !== undefined && max !== undefined && min > max) throw invalid(`user.${shown}: Max value cannot be less than min value.`);
    out.NumberAttributeConstraints = { ...(n.MinValue ? { MinValue: n.MinValue } : {}), ...(n.MaxValue ? { MaxValue: n.MaxValue } : {}) };
  }
  return out;
}

/** A declared custom attribute, stored under its bare name (Cognito shows it as `custom:<name>`). */
function customEntry(e: SchemaAttributeType & { Name: string }): SchemaEntry {
  const shown = schemaAttributeName({ Name: e.Name, DeveloperOnlyAttribute: e.DeveloperOnlyAttribute });
  if (!e.AttributeDataType) throw invalid('Invalid AttributeDataType input, consider using the provided AttributeDataType enum.');
  if (e.Required) throw invalid('Required custom attributes are not supported currently.');
  return {
    Name: e.Name, AttributeDataType: e.AttributeDataType, DeveloperOnlyAttribute: e.DeveloperOnlyAttribute ?? false, Mutable: e.Mutable ?? true, Required: false,
    ...constraints(shown, e.AttributeDataType, e.StringAttributeConstraints, e.NumberAttributeConstraints),
  };
}

/** The bare name of a schema entry (`custom:` dropped); a nameless entry is refused. */
function bareName(e: SchemaAttributeType): string {
  if (!e.Name) throw invalid('Schema attributes must have a Name.');
  return e.Name.startsWith('custom:') ? e.Name.slice('custom:'.length) : e.Name;
}

/**
 * CreateUserPool's Schema. Entries naming a standard attribute adjust it (required, mutable,
 * string lengths; never its type or developer-only); the others declare custom attributes.
 */
function schema(entries: SchemaAttributeType[] | undefined): SchemaEntry[] | undefined {
  if (!entries?.length) return undefined;
  const seen = new Set<string>();
  const out = entries.map((e) => {
    const Name = bareName(e);
    if (seen.has(Name)) throw invalid(`Duplicate attribute name(s) provided: ${Name}`);
    seen.add(Name);
    const std = STANDARD_SCHEMA.find((s) => s.Name === Name);
    if (!std) return customEntry({ ...e, Name });
    if ((e.AttributeDataType && e.AttributeDataType !== std.AttributeDataType) || e.DeveloperOnlyAttribute) {
      throw invalid(`You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute ${Name}`);
    }
    // Copies of DescribeUserPool's schema repeat `sub` as it is; changing it is refused.
    if (Name === 'sub' && (e.Required === false || e.Mutable === true)) throw invalid('The sub attribute cannot be modified.');
    const entry: SchemaEntry = { ...std, Required: e.Required ?? std.Required, Mutable: e.Mutable ?? std.Mutable };
    const c = constraints(Name, std.AttributeDataType, e.StringAttributeConstraints, undefined);
    if (c.StringAttributeConstraints && std.StringAttributeConstraints) entry.StringAttributeConstraints = { ...std.StringAttributeConstraints, ...c.StringAttributeConstraints };
    return entry;
  });
  if (out.filter((e) => !standardAttributes.has(e.Name)).length > MAX_CUSTOM_ATTRIBUTES) throw invalid(`A user pool can have at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes.`);
  return out;
}

/**
 * AddCustomAttributes: the schema with `added` appended. Names must be new (custom or not, with or
 * without `custom:`), and the pool keeps at most 50 custom attributes, as in Cognito.
 */
export function addCustomAttributes(stored: PoolConfig['Schema'], added: SchemaAttributeType[]): SchemaEntry[] {
  const current = stored ?? [];
  const out = [...current];
  for (const e of added) {
    const Name = bareName(e);
    const entry = customEntry({ ...e, Name });
    const shown = schemaAttributeName(entry);
    if (standardAttributes.has(Name) || out.some((s) => s.Name === Name)) {
      throw invalid(`custom:${Name}: Existing attribute already has name ${shown}.`);
    }
    out.push(entry);
  }
  if (out.filter((e) => !standardAttributes.has(e.Name)).length > MAX_CUSTOM_ATTRIBUTES) {
    throw invalid(`A user pool can have at most ${MAX_CUSTOM_ATTRIBUTES} custom attributes.`);
  }
  return out;
}

/** The name an attribute declared in the schema has on users. */
export function schemaAttributeName(e: { Name: string; DeveloperOnlyAttribute?: boolean }): string {
  if (standardAttributes.has(e.Name)) return e.Name;
  return e.DeveloperOnlyAttribute ? `dev:custom:${e.Name}` : `custom:${e.Name}`;
}

/** DescribeUserPool's SchemaAttributes: every standard attribute (as adjusted), then the custom ones. */
export function schemaAttributes(stored: PoolConfig['Schema']): SchemaAttributeType[] {
  const given = stored ?? [];
  const out: SchemaAttributeType[] = STANDARD_SCHEMA.map((s) => {
    const g = given.find((x) => x.Name === s.Name);
    return g ? { ...s, ...g, Name: s.Name } : s;
  });
  for (const g of given) {
    if (STANDARD_SCHEMA.some((s) => s.Name === g.Name)) continue;
    out.push({ DeveloperOnlyAttribute: false, Mutable: true, Required: false, ...g, AttributeDataType: g.AttributeDataType ?? 'String', Name: schemaAttributeName(g) });
  }
  return out;
}

/** CreateUserPool's settings, Cognito's defaults filled in. */
export function createPoolConfig(input: CreateUserPoolRequest): PoolConfig {
  const usernameAttributes = unique(input.UsernameAttributes);
  const aliasAttributes = unique(input.AliasAttributes);
  if (usernameAttributes?.length && aliasAttributes?.length) {
    throw invalid('Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.');
  }
  const config = {
    ...updatable(input),
    UsernameConfiguration: { CaseSensitive: input.UsernameConfiguration?.CaseSensitive ?? false },
    UserPoolTier: input.UserPoolTier ?? 'ESSENTIALS',
  } as PoolConfig;
  if (usernameAttributes?.length) config.UsernameAttributes = usernameAttributes;
  if (aliasAttributes?.length) config.AliasAttributes = aliasAttributes;
  const s = schema(input.Schema);
  if (s) config.Schema = s;
  checkMfaConfiguration(config);
  checkTier(config);
  return config;
}

/** Passwordless first factors need the Essentials tier or above, as in Cognito. */
function checkTier(config: PoolConfig) {
  const passwordless = (config.Policies.SignInPolicy?.AllowedFirstAuthFactors ?? []).filter((f) => f !== 'PASSWORD');
  if (config.UserPoolTier === 'LITE' && passwordless.length) {
    throw new FeatureUnavailableInTierException(`${passwordless.join(', ')} sign-in needs the Essentials tier or above.`);
  }
}

/**
 * UpdateUserPool's settings: what the request leaves out goes back to its default, as in Cognito;
 * the immutable settings (schema, sign-in attributes, username case) and those set by other
 * operations stay; tags, tier and key/issuer settings change only when given.
 */
export function updatePoolConfig(input: UpdateUserPoolRequest, old: PoolConfig): PoolConfig {
  const next: Record<string, unknown> = { ...old };
  for (const k of RESET_ON_UPDATE) delete next[k];
  Object.assign(next, updatable(input));
  checkMfaConfiguration(next as unknown as PoolConfig);
  checkTier(next as unknown as PoolConfig);
  return next as unknown as PoolConfig;
}

/** DescribeUserPool's UserPool (also CreateUserPool's answer); the user count when the caller has it. */
export function describePool(pool: LoadedPool, region: string, estimatedNumberOfUsers?: number): UserPoolType {
  const c = pool.config;
  const t = { ...defaultVerificationTemplate, ...c.VerificationMessageTemplate };
  const out: UserPoolType = {
    Id: pool.id,
    Name: pool.name,
    Arn: poolArn(region, pool.id),
    Policies: c.Policies,
    DeletionProtection: c.DeletionProtection ?? 'INACTIVE',
    LambdaConfig: c.LambdaConfig ?? {},
    LastModifiedDate: seconds(pool.row.updated_at),
    CreationDate: seconds(pool.row.created_at),
    SchemaAttributes: schemaAttributes(c.Schema),
    AutoVerifiedAttributes: c.AutoVerifiedAttributes,
    AliasAttributes: c.AliasAttributes,
    UsernameAttributes: c.UsernameAttributes,
    SmsVerificationMessage: t.SmsMessage,
    EmailVerificationMessage: t.EmailMessage,
    EmailVerificationSubject: t.EmailSubject,
    VerificationMessageTemplate: t,
    SmsAuthenticationMessage: c.SmsAuthenticationMessage,
    UserAttributeUpdateSettings: c.UserAttributeUpdateSettings ?? { AttributesRequireVerificationBeforeUpdate: [] },
    MfaConfiguration: c.MfaConfiguration ?? 'OFF',
    DeviceConfiguration: c.DeviceConfiguration,
    EstimatedNumberOfUsers: estimatedNumberOfUsers,
    EmailConfiguration: c.EmailConfiguration ?? { EmailSendingAccount: 'COGNITO_DEFAULT' },
    SmsConfiguration: c.SmsConfiguration,
    UserPoolTags: c.UserPoolTags ?? {},
    AdminCreateUserConfig: c.AdminCreateUserConfig ?? { AllowAdminCreateUserOnly: false },
    UserPoolAddOns: c.UserPoolAddOns,
    UsernameConfiguration: c.UsernameConfiguration ?? { CaseSensitive: false },
    AccountRecoverySetting: c.AccountRecoverySetting,
    UserPoolTier: c.UserPoolTier,
    KeyConfiguration: c.KeyConfiguration,
    IssuerConfiguration: c.IssuerConfiguration,
  };
  for (const k of Object.keys(out) as (keyof UserPoolType)[]) if (out[k] === undefined) delete out[k];
  return out;
}

// ---------------------------------------------------------------- app clients

const LEGACY_FLOWS = new Set<ExplicitAuthFlowsType>(['ADMIN_NO_SRP_AUTH', 'CUSTOM_AUTH_FLOW_ONLY', 'USER_PASSWORD_AUTH']);
export const DEFAULT_AUTH_FLOWS: ExplicitAuthFlowsType[] = ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH'];

/**
 * ExplicitAuthFlows in the ALLOW_* vocabulary. Legacy lists (which can't be mixed with ALLOW_*)
 * are translated: they always allowed SRP and refresh, plus custom auth, and CUSTOM_AUTH_FLOW_ONLY
 * narrowed that to custom auth and refresh.
 */
export function normalizeAuthFlows(given: ExplicitAuthFlowsType[] | undefined): ExplicitAuthFlowsType[] {
  if (!given?.length) return [...DEFAULT_AUTH_FLOWS];
  const legacy = given.filter((f) => LEGACY_FLOWS.has(f));
  if (!legacy.length) return given;
  if (legacy.length !== given.length) {
    throw invalid('ExplicitAuthFlows can not have both legacy values (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) and values that begin with ALLOW_.');
  }
  const out = new Set<ExplicitAuthFlowsType>(given.includes('CUSTOM_AUTH_FLOW_ONLY') ? ['ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] : ['ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  if (given.includes('ADMIN_NO_SRP_AUTH')) out.add('ALLOW_ADMIN_USER_PASSWORD_AUTH');
  if (given.includes('USER_PASSWORD_AUTH')) out.add('ALLOW_USER_PASSWORD_AUTH');
  return [...out];
}

const UNIT_SECONDS: Record<TimeUnitsType, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };

/**
 * One token lifetime as {value, unit}. A value without a unit is in Cognito's API default unit
 * (hours for access/ID tokens, days for refresh tokens); no value means the default lifetime,
 * expressed in the requested unit when it divides evenly, else in `fallback`'s unit.
 */
function lifetime(value: number | undefined, unit: TimeUnitsType | undefined, apiUnit: TimeUnitsType, defaultSeconds: number, fallback: [number, TimeUnitsType]): [number, TimeUnitsType] {
  if (value !== undefined && value !== 0) return [value, unit ?? apiUnit];
  if (unit && defaultSeconds % UNIT_SECONDS[unit] === 0) return [defaultSeconds / UNIT_SECONDS[unit], unit];
  return fallback;
}

const INVALID_ORIGIN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:']);
/** Cognito's redirect-URI rules: absolute, no fragment, HTTPS unless a loopback host; app schemes are fine. */
function checkRedirect(field: string, uri: string) {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw invalid(`${field} must be absolute URIs: ${uri}`);
  }
  if (uri.includes('#')) throw invalid(`${field} must not include a fragment: ${uri}`);
  if (INVALID_ORIGIN_SCHEMES.has(u.protocol)) throw invalid(`${field} can not use the ${u.protocol} scheme: ${uri}`);
  if (u.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) {
    throw invalid(`${field} must use HTTPS; http is allowed only for localhost, 127.0.0.1 and [::1]: ${uri}`);
  }
}

/** Attribute names a client may be granted: standard ones and declared (non developer-only) custom ones. */
function checkClientAttributes(pool: LoadedPool, names: string[] | undefined, kind: 'read' | 'write', verb: string) {
  if (!names) return;
  const custom = new Set((pool.config.Schema ?? []).filter((s) => !s.DeveloperOnlyAttribute && !standardAttributes.has(s.Name)).map((s) => `custom:${s.Name}`));
  const notWritable = new Set(['sub', 'email_verified', 'phone_number_verified']);
  for (const n of names) {
    const known = standardAttributes.has(n) || custom.has(n);
    if (!known || (kind === 'write' && notWritable.has(n))) throw invalid(`Invalid ${kind} attributes specified while ${verb} a client`);
  }
}

/** What CreateUserPoolClient and UpdateUserPoolClient share. */
type ClientSettings = Omit<CreateUserPoolClientRequest, 'GenerateSecret' | 'ClientSecret'> | UpdateUserPoolClientRequest;

/** The settings of CreateUserPoolClient/UpdateUserPoolClient, Cognito's defaults filled in. */
export function clientConfig(input: ClientSettings, pool: LoadedPool, ClientName: string, verb: 'creating' | 'updating'): ClientConfig {
  const ExplicitAuthFlows = normalizeAuthFlows(unique(input.ExplicitAuthFlows));

  const units = input.TokenValidityUnits;
  const [AccessTokenValidity, accessUnit] = lifetime(input.AccessTokenValidity, units?.AccessToken, 'hours', 3600, [60, 'minutes']);
  const [IdTokenValidity, idUnit] = lifetime(input.IdTokenValidity, units?.IdToken, 'hours', 3600, [60, 'minutes']);
  const [RefreshTokenValidity, refreshUnit] = lifetime(input.RefreshTokenValidity, units?.RefreshToken, 'days', 30 * 86400, [30, 'days']);
  const access = AccessTokenValidity * UNIT_SECONDS[accessUnit];
  const id = IdTokenValidity * UNIT_SECONDS[idUnit];
  const refresh = RefreshTokenValidity * UNIT_SECONDS[refreshUnit];
  if (access < 300 || access > 86400 || id < 300 || id > 86400 || refresh < 3600 || refresh > 315360000) {
    throw invalid('Invalid range for token validity.');
  }
  if (refresh <= access || refresh <= id) throw invalid('Refresh token validity must be greater than access token and ID token validity.');

  const ReadAttributes = unique(input.ReadAttributes);
  const WriteAttributes = unique(input.WriteAttributes);
  checkClientAttributes(pool, ReadAttributes, 'read', verb);
  checkClientAttributes(pool, WriteAttributes, 'write', verb);

  const SupportedIdentityProviders = unique(input.SupportedIdentityProviders);
  // Whether each provider exists is checked with the store (domain/oauth.ts checkOAuthSettings).
  const CallbackURLs = unique(input.CallbackURLs);
  const LogoutURLs = unique(input.LogoutURLs);
  for (const u of CallbackURLs ?? []) checkRedirect('CallbackURLs', u);
  for (const u of LogoutURLs ?? []) checkRedirect('LogoutURLs', u);
  const DefaultRedirectURI = input.DefaultRedirectURI;
  if (DefaultRedirectURI !== undefined && !CallbackURLs?.includes(DefaultRedirectURI)) throw invalid('DefaultRedirectURI must be one of the CallbackURLs.');

  const rotation = input.RefreshTokenRotation;
  const config: ClientConfig = {
    ClientName,
    ExplicitAuthFlows,
    RefreshTokenValidity,
    AccessTokenValidity,
    IdTokenValidity,
    TokenValidityUnits: { AccessToken: accessUnit, IdToken: idUnit, RefreshToken: refreshUnit },
    PreventUserExistenceErrors: input.PreventUserExistenceErrors ?? 'ENABLED',
    EnableTokenRevocation: input.EnableTokenRevocation ?? true,
    EnablePropagateAdditionalUserContextData: input.EnablePropagateAdditionalUserContextData ?? false,
    AuthSessionValidity: input.AuthSessionValidity ?? 3,
    RefreshTokenRotation: { Feature: rotation?.Feature ?? 'DISABLED', RetryGracePeriodSeconds: rotation?.RetryGracePeriodSeconds ?? 0 },
    AllowedOAuthFlowsUserPoolClient: input.AllowedOAuthFlowsUserPoolClient ?? false,
  };
  if (ReadAttributes) config.ReadAttributes = ReadAttributes;
  if (WriteAttributes) config.WriteAttributes = WriteAttributes;
  if (SupportedIdentityProviders) config.SupportedIdentityProviders = SupportedIdentityProviders;
  if (CallbackURLs) config.CallbackURLs = CallbackURLs;
  if (LogoutURLs) config.LogoutURLs = LogoutURLs;
  if (DefaultRedirectURI !== undefined) config.DefaultRedirectURI = DefaultRedirectURI;
  const flows = unique(input.AllowedOAuthFlows);
  if (flows) config.AllowedOAuthFlows = flows;
  const scopes = unique(input.AllowedOAuthScopes);
  if (scopes) config.AllowedOAuthScopes = scopes;
  if (input.AnalyticsConfiguration) config.AnalyticsConfiguration = input.AnalyticsConfiguration;
  return config;
}

/** DescribeUserPoolClient's UserPoolClient, secret in clear as Cognito shows it. */
export function describeClient(client: LoadedClient): UserPoolClientType {
  const c = client.config;
  const out: UserPoolClientType = {
    UserPoolId: client.poolId,
    ClientName: client.name,
    ClientId: client.id,
    ClientSecret: client.secret ?? undefined,
    LastModifiedDate: seconds(client.row.updated_at),
    CreationDate: seconds(client.row.created_at),
    RefreshTokenValidity: c.RefreshTokenValidity,
    AccessTokenValidity: c.AccessTokenValidity,
    IdTokenValidity: c.IdTokenValidity,
    TokenValidityUnits: c.TokenValidityUnits,
    ReadAttributes: c.ReadAttributes,
    WriteAttributes: c.WriteAttributes,
    ExplicitAuthFlows: c.ExplicitAuthFlows,
    SupportedIdentityProviders: c.SupportedIdentityProviders,
    CallbackURLs: c.CallbackURLs,
    LogoutURLs: c.LogoutURLs,
    DefaultRedirectURI: c.DefaultRedirectURI,
    AllowedOAuthFlows: c.AllowedOAuthFlows,
    AllowedOAuthScopes: c.AllowedOAuthScopes,
    AllowedOAuthFlowsUserPoolClient: c.AllowedOAuthFlowsUserPoolClient,
    AnalyticsConfiguration: c.AnalyticsConfiguration,
    PreventUserExistenceErrors: c.PreventUserExistenceErrors,
    EnableTokenRevocation: c.EnableTokenRevocation,
    EnablePropagateAdditionalUserContextData: c.EnablePropagateAdditionalUserContextData,
    AuthSessionValidity: c.AuthSessionValidity,
    RefreshTokenRotation: c.RefreshTokenRotation,
  };
  for (const k of Object.keys(out) as (keyof UserPoolClientType)[]) if (out[k] === undefined) delete out[k];
  return out;
}
