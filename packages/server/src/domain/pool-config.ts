// Pure builders for the stored settings of user pools and app clients: they read a
// CreateUserPool/UpdateUserPool/CreateUserPoolClient/UpdateUserPoolClient request, check it as
// Cognito's API model does, fill Cognito's defaults, and render the Describe* answers.
import crypto from 'node:crypto';
import { InvalidParameterException, SerializationException } from '../errors.js';
import { Input } from '../wire/input.js';
import { validatePasswordPolicyConfig } from './password-policy.js';
import { defaultVerificationTemplate, type ClientConfig, type LoadedClient, type LoadedPool, type PoolConfig } from './pools.js';
import { standardAttributes } from './users.js';

const invalid = (message: string) => new InvalidParameterException(message);

function violation(field: string, value: unknown, rule: string): never {
  const shown = typeof value === 'string' && value.length > 64 ? `'${value.slice(0, 64)}…'` : `'${String(value)}'`;
  throw invalid(`1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${rule}`);
}

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

/** Names of pools and clients: Cognito's UserPoolNameType / ClientNameType. */
export const nameRule = { max: 128, pattern: /^[\w\s+=,.@-]+$/ };
/** Cognito's ArnType. */
export const arnRule = {
  min: 20, max: 2048,
  pattern: /^arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?$/,
};
const optionalArnRule = { max: 2048, pattern: new RegExp(`^(${arnRule.pattern.source.slice(1, -1)})?$`) };

/** Epoch milliseconds as the epoch seconds the JSON protocol uses for timestamps. */
export const seconds = (ms: number) => ms / 1000;

// ---------------------------------------------------------------- input helpers

/** A list of objects, such as Schema or RecoveryMechanisms. */
function objList(input: Input, name: string, o: { min?: number; max?: number } = {}): Input[] | undefined {
  const v = input.raw[name];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new SerializationException(`Expected a list for ${name}`);
  if (o.min !== undefined && v.length < o.min) violation(name, `[${v.length} items]`, `Member must have length greater than or equal to ${o.min}`);
  if (o.max !== undefined && v.length > o.max) violation(name, `[${v.length} items]`, `Member must have length less than or equal to ${o.max}`);
  return v.map((item) => {
    if (!item || typeof item !== 'object' || Array.isArray(item)) throw new SerializationException(`Expected an object in ${name}`);
    return new Input(item as Record<string, unknown>);
  });
}

function list(input: Input, name: string, o: Parameters<Input['optStrList']>[1] & { min?: number } = {}): string[] | undefined {
  const v = input.optStrList(name, o);
  return v && [...new Set(v)];
}

function required<T>(name: string, v: T | undefined): T {
  if (v === undefined) violation(name, undefined, 'Member must not be null');
  return v;
}

/** Message templates: length, Cognito's character classes, and the placeholders they must carry. */
const MESSAGE_CHARS = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\s*]*$/u;
function message(input: Input, name: string, o: { min: number; max: number; must?: RegExp[]; plain?: boolean }): string | undefined {
  const v = input.optStr(name, { min: o.min, max: o.max });
  if (v === undefined) return undefined;
  if (!o.plain && !MESSAGE_CHARS.test(v)) violation(name, v, 'Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*');
  for (const p of o.must ?? []) if (!p.test(v)) violation(name, v, `Member must satisfy regular expression pattern: .*${p.source}.*`);
  return v;
}
const CODE = /\{####\}/;
const LINK = /\{##[\s\S]*##\}/;
const USERNAME = /\{username\}/;
const subjectRule = { min: 1, max: 140, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}\s]+$/u };

// ---------------------------------------------------------------- pool settings

export const AUTH_FACTORS = ['PASSWORD', 'EMAIL_OTP', 'SMS_OTP', 'WEB_AUTHN'] as const;
const VERIFIED_ATTRIBUTES = ['phone_number', 'email'] as const;
const ALIAS_ATTRIBUTES = ['phone_number', 'email', 'preferred_username'] as const;
/** Triggers name a URL, a module or a Lambda ARN (domain/triggers/runtime.ts checks which); KMSKeyID is an ARN. */
const LAMBDA_TRIGGERS = [
  'PreSignUp', 'CustomMessage', 'PostConfirmation', 'PreAuthentication', 'PostAuthentication', 'DefineAuthChallenge',
  'CreateAuthChallenge', 'VerifyAuthChallengeResponse', 'PreTokenGeneration', 'UserMigration',
] as const;
const triggerRule = { min: 1, max: 2048 };
const LAMBDA_VERSIONED: Record<string, readonly string[]> = {
  PreTokenGenerationConfig: ['V1_0', 'V2_0', 'V3_0'],
  CustomSMSSender: ['V1_0'],
  CustomEmailSender: ['V1_0'],
};

/** Settings UpdateUserPool rewrites; left out of a request, they go back to Cognito's defaults. */
const RESET_ON_UPDATE = [
  'Policies', 'DeletionProtection', 'LambdaConfig', 'AutoVerifiedAttributes', 'VerificationMessageTemplate', 'SmsAuthenticationMessage',
  'UserAttributeUpdateSettings', 'MfaConfiguration', 'DeviceConfiguration', 'EmailConfiguration', 'SmsConfiguration',
  'AdminCreateUserConfig', 'UserPoolAddOns', 'AccountRecoverySetting',
] as const;
/** Settings UpdateUserPool changes only when the request names them. */
const KEPT_UNLESS_GIVEN = ['UserPoolTags', 'UserPoolTier', 'KeyConfiguration', 'IssuerConfiguration'] as const;

function policies(input: Input, adminCreate: Input | undefined): PoolConfig['Policies'] {
  const p = input.optObj('Policies');
  const PasswordPolicy = validatePasswordPolicyConfig(p?.raw.PasswordPolicy);
  // The deprecated AdminCreateUserConfig.UnusedAccountValidityDays is the temporary-password lifetime.
  const unused = adminCreate?.optInt('UnusedAccountValidityDays', 0, 365);
  if (unused !== undefined) {
    const pp = p?.optObj('PasswordPolicy');
    if (pp?.has('TemporaryPasswordValidityDays')) {
      throw invalid('Please use TemporaryPasswordValidityDays in PasswordPolicy instead of UnusedAccountValidityDays');
    }
    PasswordPolicy.TemporaryPasswordValidityDays = unused;
  }
  const sip = p?.optObj('SignInPolicy');
  const factors = sip && list(sip, 'AllowedFirstAuthFactors', { oneOf: AUTH_FACTORS, maxItems: 5 });
  if (factors && factors.length === 0) violation('AllowedFirstAuthFactors', '[]', 'Member must have length greater than or equal to 1');
  return { PasswordPolicy, SignInPolicy: { AllowedFirstAuthFactors: factors ?? ['PASSWORD'] } };
}

function lambdaConfig(input: Input): Record<string, unknown> | undefined {
  const l = input.optObj('LambdaConfig');
  if (!l) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of LAMBDA_TRIGGERS) {
    const v = l.optStr(k, triggerRule);
    if (v !== undefined) out[k] = v;
  }
  const kms = l.optStr('KMSKeyID', arnRule);
  if (kms !== undefined) out.KMSKeyID = kms;
  for (const [k, versions] of Object.entries(LAMBDA_VERSIONED)) {
    const o = l.optObj(k);
    if (o) out[k] = { LambdaVersion: o.str('LambdaVersion', { oneOf: versions }), LambdaArn: o.str('LambdaArn', triggerRule) };
  }
  // A trigger that would never run must not look configured: a pool relying on it would be open.
  if (l.has('InboundFederation')) throw invalid('The InboundFederation trigger is not supported yet.');
  // Cognito sets PreTokenGeneration to the versioned trigger's function, and refuses the two apart.
  const ptg = out.PreTokenGenerationConfig as { LambdaArn: string } | undefined;
  if (ptg) {
    if (out.PreTokenGeneration !== undefined && out.PreTokenGeneration !== ptg.LambdaArn) throw invalid('PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must name the same function.');
    out.PreTokenGeneration = ptg.LambdaArn;
  }
  return out;
}

function verificationTemplate(input: Input): PoolConfig['VerificationMessageTemplate'] {
  const t = input.optObj('VerificationMessageTemplate') ?? new Input({});
  // The legacy top-level members and the template members name the same settings; they must agree.
  const either = (legacyName: string, legacy: string | undefined, field: string, modern: string | undefined) => {
    if (legacy !== undefined && modern !== undefined && legacy !== modern) {
      throw invalid(`${legacyName} and VerificationMessageTemplate.${field} are both set with different values.`);
    }
    return modern ?? legacy;
  };
  const sms = either('SmsVerificationMessage', message(input, 'SmsVerificationMessage', { min: 6, max: 140, must: [CODE], plain: true }),
    'SmsMessage', message(t, 'SmsMessage', { min: 6, max: 140, must: [CODE], plain: true }));
  const email = either('EmailVerificationMessage', message(input, 'EmailVerificationMessage', { min: 6, max: 20000, must: [CODE] }),
    'EmailMessage', message(t, 'EmailMessage', { min: 6, max: 20000, must: [CODE] }));
  const subject = either('EmailVerificationSubject', input.optStr('EmailVerificationSubject', subjectRule), 'EmailSubject', t.optStr('EmailSubject', subjectRule));
  const out: PoolConfig['VerificationMessageTemplate'] = {
    SmsMessage: sms ?? defaultVerificationTemplate.SmsMessage,
    EmailMessage: email ?? defaultVerificationTemplate.EmailMessage,
    EmailSubject: subject ?? defaultVerificationTemplate.EmailSubject,
    DefaultEmailOption: t.optStr('DefaultEmailOption', { oneOf: ['CONFIRM_WITH_LINK', 'CONFIRM_WITH_CODE'] }) ?? defaultVerificationTemplate.DefaultEmailOption,
  };
  const byLink = message(t, 'EmailMessageByLink', { min: 6, max: 20000, must: [LINK] });
  const byLinkSubject = t.optStr('EmailSubjectByLink', subjectRule);
  if (byLink !== undefined) out.EmailMessageByLink = byLink;
  if (byLinkSubject !== undefined) out.EmailSubjectByLink = byLinkSubject;
  return out;
}

function adminCreateUserConfig(a: Input | undefined): PoolConfig['AdminCreateUserConfig'] {
  const out: PoolConfig['AdminCreateUserConfig'] = { AllowAdminCreateUserOnly: a?.optBool('AllowAdminCreateUserOnly') ?? false };
  const t = a?.optObj('InviteMessageTemplate');
  if (t) {
    const tpl: NonNullable<PoolConfig['AdminCreateUserConfig']['InviteMessageTemplate']> = {};
    const sms = message(t, 'SMSMessage', { min: 6, max: 140, must: [USERNAME, CODE], plain: true });
    const email = message(t, 'EmailMessage', { min: 6, max: 20000, must: [USERNAME, CODE] });
    const subject = t.optStr('EmailSubject', subjectRule);
    if (sms !== undefined) tpl.SMSMessage = sms;
    if (email !== undefined) tpl.EmailMessage = email;
    if (subject !== undefined) tpl.EmailSubject = subject;
    out.InviteMessageTemplate = tpl;
  }
  const unused = a?.optInt('UnusedAccountValidityDays', 0, 365);
  if (unused !== undefined) (out as Record<string, unknown>).UnusedAccountValidityDays = unused;
  return out;
}

function recovery(input: Input): PoolConfig['AccountRecoverySetting'] {
  const r = input.optObj('AccountRecoverySetting');
  if (!r) return undefined;
  const items = objList(r, 'RecoveryMechanisms', { min: 1, max: 2 }) ?? [];
  const RecoveryMechanisms = items.map((m) => ({
    Priority: required('Priority', m.optInt('Priority', 1, 2)),
    Name: m.str('Name', { oneOf: ['verified_email', 'verified_phone_number', 'admin_only'] }),
  }));
  const names = new Set(RecoveryMechanisms.map((m) => m.Name));
  const priorities = new Set(RecoveryMechanisms.map((m) => m.Priority));
  if (names.size !== RecoveryMechanisms.length || priorities.size !== RecoveryMechanisms.length) {
    throw invalid('Recovery mechanisms must have unique names and unique priorities.');
  }
  if (names.has('admin_only') && names.size > 1) throw invalid('admin_only cannot be combined with another recovery mechanism.');
  return { RecoveryMechanisms: RecoveryMechanisms.sort((a, b) => a.Priority - b.Priority) };
}

function emailConfiguration(input: Input): Record<string, unknown> {
  const e = input.optObj('EmailConfiguration');
  const out: Record<string, unknown> = { EmailSendingAccount: e?.optStr('EmailSendingAccount', { oneOf: ['COGNITO_DEFAULT', 'DEVELOPER'] }) ?? 'COGNITO_DEFAULT' };
  if (!e) return out;
  const put = (k: string, v: unknown) => { if (v !== undefined) out[k] = v; };
  put('SourceArn', e.optStr('SourceArn', arnRule));
  put('ReplyToEmailAddress', e.optStr('ReplyToEmailAddress', { pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+@[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u }));
  put('From', e.optStr('From', { max: 131072 }));
  put('ConfigurationSet', e.optStr('ConfigurationSet', { min: 1, max: 64, pattern: /^[a-zA-Z0-9_-]+$/ }));
  return out;
}

function smsConfiguration(input: Input): Record<string, unknown> | undefined {
  const s = input.optObj('SmsConfiguration');
  if (!s) return undefined;
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => { if (v !== undefined) out[k] = v; };
  put('SnsCallerArn', s.optStr('SnsCallerArn', optionalArnRule));
  put('ExternalId', s.optStr('ExternalId', { max: 131072 }));
  put('SnsRegion', s.optStr('SnsRegion', { min: 5, max: 32 }));
  const eums = s.optObj('EumsSms');
  if (eums) {
    const e: Record<string, unknown> = { CallerArn: eums.str('CallerArn', arnRule) };
    for (const k of ['ExternalId', 'OriginationIdentity', 'ConfigurationSetName', 'InEntityId', 'InTemplateId']) {
      const v = eums.optStr(k, { max: 131072 });
      if (v !== undefined) e[k] = v;
    }
    const region = eums.optStr('Region', { min: 5, max: 32 });
    if (region !== undefined) e.Region = region;
    out.EumsSms = e;
  }
  return out;
}

function tags(input: Input): Record<string, string> | undefined {
  const t = input.optMap('UserPoolTags');
  if (!t) return undefined;
  const keys = Object.keys(t);
  if (keys.length > 50) throw invalid('A user pool can have at most 50 tags.');
  for (const k of keys) {
    if (k.length < 1 || k.length > 128) violation('userPoolTags', k, 'Member must have length between 1 and 128');
    if (t[k].length > 256) violation(`userPoolTags.${k}`, t[k], 'Member must have length less than or equal to 256');
  }
  return t;
}

/** The schema entry Cognito shows for each standard attribute. */
function standard(Name: string, o: Partial<SchemaEntry> = {}): SchemaEntry {
  return {
    Name, AttributeDataType: 'String', DeveloperOnlyAttribute: false, Mutable: true, Required: false,
    StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' }, ...o,
  };
}
export interface SchemaEntry {
  Name: string;
  AttributeDataType: string;
  DeveloperOnlyAttribute: boolean;
  Mutable: boolean;
  Required: boolean;
  StringAttributeConstraints?: { MinLength?: string; MaxLength?: string };
  NumberAttributeConstraints?: { MinValue?: string; MaxValue?: string };
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

const DIGITS = /^-?[0-9]+$/;
function constraints(o: Input | undefined, keys: [string, string], field: string): Record<string, string> | undefined {
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const k of keys) {
    const v = o.optStr(k, { max: 131072 });
    if (v === undefined) continue;
    if (!DIGITS.test(v)) throw invalid(`${field}.${k} must be an integer, given as a string.`);
    out[k] = v;
  }
  return out;
}

/**
 * CreateUserPool's Schema. Entries naming a standard attribute adjust it; the others declare custom
 * attributes, stored under their bare name as Cognito takes them (it shows them as `custom:<name>`).
 */
function schema(input: Input): SchemaEntry[] | undefined {
  const entries = objList(input, 'Schema', { max: 50 });
  if (!entries?.length) return undefined;
  const seen = new Set<string>();
  return entries.map((e) => {
    let Name = e.str('Name', { max: 64, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u });
    if (Name.startsWith('custom:')) Name = Name.slice('custom:'.length);
    const type = e.optStr('AttributeDataType', { oneOf: ['String', 'Number', 'DateTime', 'Boolean'] });
    const std = STANDARD_SCHEMA.find((s) => s.Name === Name);
    if (seen.has(Name)) throw invalid(`Duplicate attribute name(s) provided: ${Name}`);
    seen.add(Name);
    const Required = e.optBool('Required');
    const Mutable = e.optBool('Mutable');
    const DeveloperOnlyAttribute = e.optBool('DeveloperOnlyAttribute');
    const str = constraints(e.optObj('StringAttributeConstraints'), ['MinLength', 'MaxLength'], 'StringAttributeConstraints');
    const num = constraints(e.optObj('NumberAttributeConstraints'), ['MinValue', 'MaxValue'], 'NumberAttributeConstraints');
    if (std) {
      if (type && type !== std.AttributeDataType) throw invalid(`The attribute data type of ${Name} cannot be changed.`);
      // Copies of DescribeUserPool's schema repeat `sub` as it is; changing it is refused.
      if (Name === 'sub' && (Required === false || Mutable === true)) throw invalid('The sub attribute cannot be modified.');
      const out: SchemaEntry = { ...std, Required: Required ?? std.Required, Mutable: Mutable ?? std.Mutable };
      if (str && std.StringAttributeConstraints) out.StringAttributeConstraints = { ...std.StringAttributeConstraints, ...str };
      return out;
    }
    if ([...Name].length > 20) violation('schema.name', Name, 'Member must have length less than or equal to 20');
    if (Required) throw invalid('Required custom attributes are not supported currently.');
    const out: SchemaEntry = { Name, AttributeDataType: type ?? 'String', DeveloperOnlyAttribute: DeveloperOnlyAttribute ?? false, Mutable: Mutable ?? true, Required: false };
    if (out.AttributeDataType === 'String' || out.AttributeDataType === 'DateTime' || out.AttributeDataType === 'Boolean') {
      if (str) out.StringAttributeConstraints = str;
    }
    if (out.AttributeDataType === 'Number' && num) out.NumberAttributeConstraints = num;
    return out;
  });
}

/** The name an attribute declared in the schema has on users. */
export function schemaAttributeName(e: { Name: string; DeveloperOnlyAttribute?: boolean }): string {
  if (standardAttributes.has(e.Name)) return e.Name;
  return e.DeveloperOnlyAttribute ? `dev:custom:${e.Name}` : `custom:${e.Name}`;
}

/** DescribeUserPool's SchemaAttributes: every standard attribute (as adjusted), then the custom ones. */
export function schemaAttributes(stored: PoolConfig['Schema']): SchemaEntry[] {
  const given = (stored ?? []) as Partial<SchemaEntry>[];
  const out = STANDARD_SCHEMA.map((s) => {
    const g = given.find((x) => x.Name === s.Name);
    return g ? { ...s, ...g, Name: s.Name } as SchemaEntry : s;
  });
  for (const g of given) {
    if (!g.Name || STANDARD_SCHEMA.some((s) => s.Name === g.Name)) continue;
    out.push({ DeveloperOnlyAttribute: false, Mutable: true, Required: false, AttributeDataType: 'String', ...g, Name: schemaAttributeName({ Name: g.Name, DeveloperOnlyAttribute: g.DeveloperOnlyAttribute }) } as SchemaEntry);
  }
  return out;
}

/** Passthrough settings Cognito keeps on the pool that this server only stores and shows back. */
function extras(input: Input, out: Record<string, unknown>, mode: 'create' | 'update') {
  const put = (k: string, v: unknown) => { if (v !== undefined) out[k] = v; };
  put('UserPoolTier', input.optStr('UserPoolTier', { oneOf: ['LITE', 'ESSENTIALS', 'PLUS'] }) ?? (mode === 'create' ? 'ESSENTIALS' : undefined));
  const key = input.optObj('KeyConfiguration');
  if (key) {
    const k: Record<string, unknown> = {};
    const type = key.optStr('KeyType', { oneOf: ['AWS_OWNED_KEY', 'CUSTOMER_MANAGED_KEY'] });
    const arn = key.optStr('KmsKeyArn', arnRule);
    if (type !== undefined) k.KeyType = type;
    if (arn !== undefined) k.KmsKeyArn = arn;
    out.KeyConfiguration = k;
  }
  const issuer = input.optObj('IssuerConfiguration');
  if (issuer) out.IssuerConfiguration = { Type: issuer.optStr('Type', { oneOf: ['ORIGINAL', 'UPDATED'] }) ?? 'ORIGINAL' };
  put('UserPoolTags', tags(input));
  if (mode === 'create') {
    // Set later through SetUserPoolMfaConfig in Cognito; accepted here at creation too.
    const mfa = input.optObj('EmailMfaConfiguration');
    if (mfa) {
      const m: Record<string, unknown> = {};
      const msg = message(mfa, 'Message', { min: 6, max: 20000, must: [CODE] });
      const subject = mfa.optStr('Subject', subjectRule);
      if (msg !== undefined) m.Message = msg;
      if (subject !== undefined) m.Subject = subject;
      out.EmailMfaConfiguration = m;
    }
    put('WebAuthnRelyingPartyID', input.optStr('WebAuthnRelyingPartyID', { min: 1, max: 63 }));
    put('WebAuthnUserVerification', input.optStr('WebAuthnUserVerification', { oneOf: ['required', 'preferred'] }));
  }
}

/** MFA is not enforced yet: a pool asking for it is refused rather than left with one factor. */
function mfaConfiguration(input: Input): PoolConfig['MfaConfiguration'] {
  const mfa = (input.optStr('MfaConfiguration', { oneOf: ['OFF', 'ON', 'OPTIONAL'] }) ?? 'OFF') as PoolConfig['MfaConfiguration'];
  if (mfa !== 'OFF') throw invalid(`MfaConfiguration ${mfa} is not supported yet: multi-factor authentication is not implemented.`);
  return mfa;
}

/** The settings both CreateUserPool and UpdateUserPool write (UpdateUserPool: all of them, from defaults). */
function updatable(input: Input): Partial<PoolConfig> {
  const adminCreate = input.optObj('AdminCreateUserConfig');
  const out: Partial<PoolConfig> = {
    Policies: policies(input, adminCreate),
    DeletionProtection: (input.optStr('DeletionProtection', { oneOf: ['ACTIVE', 'INACTIVE'] }) ?? 'INACTIVE') as PoolConfig['DeletionProtection'],
    MfaConfiguration: mfaConfiguration(input),
    VerificationMessageTemplate: verificationTemplate(input),
    AdminCreateUserConfig: adminCreateUserConfig(adminCreate),
    EmailConfiguration: emailConfiguration(input),
  };
  const put = <K extends string>(k: K, v: unknown) => { if (v !== undefined) (out as Record<string, unknown>)[k] = v; };
  put('LambdaConfig', lambdaConfig(input));
  const autoVerified = list(input, 'AutoVerifiedAttributes', { oneOf: VERIFIED_ATTRIBUTES });
  if (autoVerified?.length) out.AutoVerifiedAttributes = autoVerified;
  put('SmsAuthenticationMessage', message(input, 'SmsAuthenticationMessage', { min: 6, max: 140, must: [CODE], plain: true }));
  const uaus = input.optObj('UserAttributeUpdateSettings');
  const needVerification = (uaus && list(uaus, 'AttributesRequireVerificationBeforeUpdate', { oneOf: VERIFIED_ATTRIBUTES })) ?? [];
  for (const a of needVerification) {
    if (!autoVerified?.includes(a)) throw invalid(`AttributesRequireVerificationBeforeUpdate can only contain attributes that are in AutoVerifiedAttributes: ${a}`);
  }
  out.UserAttributeUpdateSettings = { AttributesRequireVerificationBeforeUpdate: needVerification };
  const device = input.optObj('DeviceConfiguration');
  if (device) {
    const d: Record<string, boolean> = {};
    for (const k of ['ChallengeRequiredOnNewDevice', 'DeviceOnlyRememberedOnUserPrompt']) {
      const v = device.optBool(k);
      if (v !== undefined) d[k] = v;
    }
    out.DeviceConfiguration = d;
  }
  put('SmsConfiguration', smsConfiguration(input));
  const addOns = input.optObj('UserPoolAddOns');
  if (addOns) {
    const a: Record<string, unknown> = { AdvancedSecurityMode: addOns.str('AdvancedSecurityMode', { oneOf: ['OFF', 'AUDIT', 'ENFORCED'] }) };
    const flows = addOns.optObj('AdvancedSecurityAdditionalFlows');
    if (flows) {
      const mode = flows.optStr('CustomAuthMode', { oneOf: ['AUDIT', 'ENFORCED'] });
      a.AdvancedSecurityAdditionalFlows = mode === undefined ? {} : { CustomAuthMode: mode };
    }
    out.UserPoolAddOns = a;
  }
  put('AccountRecoverySetting', recovery(input));
  return out;
}

/** CreateUserPool's settings, Cognito's defaults filled in. */
export function createPoolConfig(input: Input): PoolConfig {
  const usernameAttributes = list(input, 'UsernameAttributes', { oneOf: VERIFIED_ATTRIBUTES });
  const aliasAttributes = list(input, 'AliasAttributes', { oneOf: ALIAS_ATTRIBUTES });
  if (usernameAttributes?.length && aliasAttributes?.length) {
    throw invalid('Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.');
  }
  const uc = input.optObj('UsernameConfiguration');
  const config = {
    ...updatable(input),
    UsernameConfiguration: { CaseSensitive: uc ? required('CaseSensitive', uc.optBool('CaseSensitive')) : false },
  } as PoolConfig;
  if (usernameAttributes?.length) config.UsernameAttributes = usernameAttributes;
  if (aliasAttributes?.length) config.AliasAttributes = aliasAttributes;
  const s = schema(input);
  if (s) config.Schema = s;
  extras(input, config, 'create');
  return config;
}

/**
 * UpdateUserPool's settings: what the request leaves out goes back to its default, as in Cognito;
 * the immutable settings (schema, sign-in attributes, username case) and those set by other
 * operations stay; tags, tier and key/issuer settings change only when given.
 */
export function updatePoolConfig(input: Input, old: PoolConfig): PoolConfig {
  const next: Record<string, unknown> = { ...old };
  for (const k of RESET_ON_UPDATE) delete next[k];
  Object.assign(next, updatable(input));
  for (const k of KEPT_UNLESS_GIVEN) if (old[k] !== undefined) next[k] = old[k];
  extras(input, next, 'update');
  return next as PoolConfig;
}

/** DescribeUserPool's UserPool (also CreateUserPool's answer). */
export function describePool(pool: LoadedPool, region: string) {
  const c = pool.config;
  const t = { ...defaultVerificationTemplate, ...c.VerificationMessageTemplate };
  const out: Record<string, unknown> = {
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
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

// ---------------------------------------------------------------- app clients

export const EXPLICIT_AUTH_FLOWS = [
  'ADMIN_NO_SRP_AUTH', 'CUSTOM_AUTH_FLOW_ONLY', 'USER_PASSWORD_AUTH', 'ALLOW_ADMIN_USER_PASSWORD_AUTH', 'ALLOW_CUSTOM_AUTH',
  'ALLOW_USER_PASSWORD_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_AUTH',
] as const;
const LEGACY_FLOWS = new Set(['ADMIN_NO_SRP_AUTH', 'CUSTOM_AUTH_FLOW_ONLY', 'USER_PASSWORD_AUTH']);
export const DEFAULT_AUTH_FLOWS = ['ALLOW_REFRESH_TOKEN_AUTH', 'ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH'];

/**
 * ExplicitAuthFlows in the ALLOW_* vocabulary. Legacy lists (which can't be mixed with ALLOW_*)
 * are translated: they always allowed SRP and refresh, plus custom auth, and CUSTOM_AUTH_FLOW_ONLY
 * narrowed that to custom auth and refresh.
 */
export function normalizeAuthFlows(given: string[] | undefined): string[] {
  if (!given?.length) return [...DEFAULT_AUTH_FLOWS];
  const legacy = given.filter((f) => LEGACY_FLOWS.has(f));
  if (!legacy.length) return given;
  if (legacy.length !== given.length) {
    throw invalid('ExplicitAuthFlows can not have both legacy values (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH) and values that begin with ALLOW_.');
  }
  const out = new Set(given.includes('CUSTOM_AUTH_FLOW_ONLY') ? ['ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] : ['ALLOW_USER_SRP_AUTH', 'ALLOW_CUSTOM_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
  if (given.includes('ADMIN_NO_SRP_AUTH')) out.add('ALLOW_ADMIN_USER_PASSWORD_AUTH');
  if (given.includes('USER_PASSWORD_AUTH')) out.add('ALLOW_USER_PASSWORD_AUTH');
  return [...out];
}

const UNIT_SECONDS: Record<string, number> = { seconds: 1, minutes: 60, hours: 3600, days: 86400 };
const TIME_UNITS = Object.keys(UNIT_SECONDS);

/**
 * One token lifetime as {value, unit}. A value without a unit is in Cognito's API default unit
 * (hours for access/ID tokens, days for refresh tokens); no value means the default lifetime,
 * expressed in the requested unit when it divides evenly, else in `fallback`'s unit.
 */
function lifetime(value: number | undefined, unit: string | undefined, apiUnit: string, defaultSeconds: number, fallback: [number, string]): [number, string] {
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

/** The settings of CreateUserPoolClient/UpdateUserPoolClient, Cognito's defaults filled in. */
export function clientConfig(input: Input, pool: LoadedPool, ClientName: string, verb: 'creating' | 'updating'): ClientConfig {
  const ExplicitAuthFlows = normalizeAuthFlows(list(input, 'ExplicitAuthFlows', { oneOf: EXPLICIT_AUTH_FLOWS }));

  const units = input.optObj('TokenValidityUnits');
  const unit = (k: string) => units?.optStr(k, { oneOf: TIME_UNITS });
  const [AccessTokenValidity, accessUnit] = lifetime(input.optInt('AccessTokenValidity', 1, 86400), unit('AccessToken'), 'hours', 3600, [60, 'minutes']);
  const [IdTokenValidity, idUnit] = lifetime(input.optInt('IdTokenValidity', 1, 86400), unit('IdToken'), 'hours', 3600, [60, 'minutes']);
  const [RefreshTokenValidity, refreshUnit] = lifetime(input.optInt('RefreshTokenValidity', 0, 315360000), unit('RefreshToken'), 'days', 30 * 86400, [30, 'days']);
  const access = AccessTokenValidity * UNIT_SECONDS[accessUnit];
  const id = IdTokenValidity * UNIT_SECONDS[idUnit];
  const refresh = RefreshTokenValidity * UNIT_SECONDS[refreshUnit];
  if (access < 300 || access > 86400 || id < 300 || id > 86400 || refresh < 3600 || refresh > 315360000) {
    throw invalid('Invalid range for token validity.');
  }
  if (refresh <= access || refresh <= id) throw invalid('Refresh token validity must be greater than access token and ID token validity.');

  const ReadAttributes = list(input, 'ReadAttributes', { min: 1, max: 2048 });
  const WriteAttributes = list(input, 'WriteAttributes', { min: 1, max: 2048 });
  checkClientAttributes(pool, ReadAttributes, 'read', verb);
  checkClientAttributes(pool, WriteAttributes, 'write', verb);

  const SupportedIdentityProviders = list(input, 'SupportedIdentityProviders', { min: 1, max: 32, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+$/u });
  for (const p of SupportedIdentityProviders ?? []) {
    // Only the pool's own directory exists here: this server has no federated identity providers.
    if (p !== 'COGNITO') throw invalid(`The provider ${p} does not exist for User Pool ${pool.id}`);
  }
  const urlRule = { min: 1, max: 1024, pattern: /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u, maxItems: 100 };
  const CallbackURLs = list(input, 'CallbackURLs', urlRule);
  const LogoutURLs = list(input, 'LogoutURLs', urlRule);
  for (const u of CallbackURLs ?? []) checkRedirect('CallbackURLs', u);
  for (const u of LogoutURLs ?? []) checkRedirect('LogoutURLs', u);
  const DefaultRedirectURI = input.optStr('DefaultRedirectURI', urlRule);
  if (DefaultRedirectURI !== undefined && !CallbackURLs?.includes(DefaultRedirectURI)) throw invalid('DefaultRedirectURI must be one of the CallbackURLs.');
  const AllowedOAuthFlows = list(input, 'AllowedOAuthFlows', { oneOf: ['code', 'implicit', 'client_credentials'], maxItems: 3 });
  const AllowedOAuthScopes = list(input, 'AllowedOAuthScopes', { min: 1, max: 256, pattern: /^[\x21\x23-\x5B\x5D-\x7E]+$/, maxItems: 50 });

  const rotation = input.optObj('RefreshTokenRotation');
  const config: ClientConfig = {
    ClientName,
    ExplicitAuthFlows,
    RefreshTokenValidity,
    AccessTokenValidity,
    IdTokenValidity,
    TokenValidityUnits: { AccessToken: accessUnit, IdToken: idUnit, RefreshToken: refreshUnit },
    PreventUserExistenceErrors: (input.optStr('PreventUserExistenceErrors', { oneOf: ['LEGACY', 'ENABLED'] }) ?? 'ENABLED') as ClientConfig['PreventUserExistenceErrors'],
    EnableTokenRevocation: input.optBool('EnableTokenRevocation') ?? true,
    EnablePropagateAdditionalUserContextData: input.optBool('EnablePropagateAdditionalUserContextData') ?? false,
    AuthSessionValidity: input.optInt('AuthSessionValidity', 3, 15) ?? 3,
    RefreshTokenRotation: {
      Feature: (rotation ? rotation.str('Feature', { oneOf: ['ENABLED', 'DISABLED'] }) : 'DISABLED') as ClientConfig['RefreshTokenRotation']['Feature'],
      RetryGracePeriodSeconds: rotation?.optInt('RetryGracePeriodSeconds', 0, 60) ?? 0,
    },
    AllowedOAuthFlowsUserPoolClient: input.optBool('AllowedOAuthFlowsUserPoolClient') ?? false,
  };
  const put = (k: string, v: unknown) => { if (v !== undefined) config[k] = v; };
  put('ReadAttributes', ReadAttributes);
  put('WriteAttributes', WriteAttributes);
  put('SupportedIdentityProviders', SupportedIdentityProviders);
  put('CallbackURLs', CallbackURLs);
  put('LogoutURLs', LogoutURLs);
  put('DefaultRedirectURI', DefaultRedirectURI);
  put('AllowedOAuthFlows', AllowedOAuthFlows);
  put('AllowedOAuthScopes', AllowedOAuthScopes);
  const analytics = input.optObj('AnalyticsConfiguration');
  if (analytics) {
    const a: Record<string, unknown> = {};
    const p = (k: string, v: unknown) => { if (v !== undefined) a[k] = v; };
    p('ApplicationId', analytics.optStr('ApplicationId', { pattern: /^[0-9a-fA-F]+$/ }));
    p('ApplicationArn', analytics.optStr('ApplicationArn', arnRule));
    p('RoleArn', analytics.optStr('RoleArn', arnRule));
    p('ExternalId', analytics.optStr('ExternalId', { max: 131072 }));
    p('UserDataShared', analytics.optBool('UserDataShared'));
    config.AnalyticsConfiguration = a;
  }
  return config;
}

/** The client fields UserPoolClientType carries, in Cognito's order. */
const CLIENT_FIELDS = [
  'RefreshTokenValidity', 'AccessTokenValidity', 'IdTokenValidity', 'TokenValidityUnits', 'ReadAttributes', 'WriteAttributes',
  'ExplicitAuthFlows', 'SupportedIdentityProviders', 'CallbackURLs', 'LogoutURLs', 'DefaultRedirectURI', 'AllowedOAuthFlows',
  'AllowedOAuthScopes', 'AllowedOAuthFlowsUserPoolClient', 'AnalyticsConfiguration', 'PreventUserExistenceErrors',
  'EnableTokenRevocation', 'EnablePropagateAdditionalUserContextData', 'AuthSessionValidity', 'RefreshTokenRotation',
] as const;

/** DescribeUserPoolClient's UserPoolClient, secret in clear as Cognito shows it. */
export function describeClient(client: LoadedClient) {
  const out: Record<string, unknown> = {
    UserPoolId: client.poolId,
    ClientName: client.name,
    ClientId: client.id,
    ClientSecret: client.secret ?? undefined,
    LastModifiedDate: seconds(client.row.updated_at),
    CreationDate: seconds(client.row.created_at),
  };
  for (const k of CLIENT_FIELDS) out[k] = client.config[k];
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

// ---------------------------------------------------------------- pagination

/** Cognito's QueryLimitType / PoolQueryLimitType reads; 0 (where allowed) means the default. */
export function pageLimit(input: Input, name: string, o: { min: number; def: number; required?: boolean }): number {
  const v = input.optInt(name, o.min, 60);
  if (v === undefined && o.required) violation(name, undefined, 'Member must not be null');
  return v || o.def;
}

/** An incoming NextToken: the base64url form of a repository cursor; anything else is refused. */
export function pageCursor(input: Input, name = 'NextToken', max = 131072): string | undefined {
  const token = input.optStr(name, { min: 1, max });
  if (token === undefined) return undefined;
  const bad = () => invalid(`Invalid ${name}: the pagination token is not valid.`);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const bytes = Buffer.from(token, 'base64url');
  const cursor = bytes.toString('utf8');
  if (!cursor || cursor.includes('\u0000') || Buffer.from(cursor, 'utf8').toString('base64url') !== token) throw bad();
  return cursor;
}

export function pageToken(next: string | undefined): string | undefined {
  return next === undefined ? undefined : Buffer.from(next, 'utf8').toString('base64url');
}
