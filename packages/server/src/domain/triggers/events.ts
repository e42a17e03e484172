// Cognito's trigger events, one function per trigger: the envelope, the request each trigger
// source carries, and the checked reading of the response. A pool without the trigger costs nothing.
import type { Ctx } from '../context.js';
import type { LoadedPool } from '../pools.js';
import type { User } from '../users.js';
import type { TokenCustomization } from '../tokens.js';
import type { Composed } from '../messages.js';
import { configuredTrigger, invalidResponse, type TriggerName } from './runtime.js';

export type Strings = Record<string, string>;

/** Cognito's callerContext.clientId for operations without an app client (admin ones). */
export const NO_CLIENT = 'CLIENT_ID_NOT_APPLICABLE';

interface Envelope {
  /** The user's username, or the login given for one who does not exist (yet). */
  userName: string;
  clientId?: string;
}

/** The common fields: {version, triggerSource, region, userPoolId, userName, callerContext, request, response}. */
function event(ctx: Ctx, pool: LoadedPool, triggerSource: string, who: Envelope, request: object, response: object, version = '1') {
  return {
    version, triggerSource, region: ctx.config.region, userPoolId: pool.id, userName: who.userName,
    callerContext: { awsSdkVersion: 'aws-sdk-unknown-unknown', clientId: who.clientId ?? NO_CLIENT },
    request, response,
  };
}

/** A user's attributes as triggers see them: sub first, the stored attributes, and the account status. */
export function userAttributesOf(user: User): Strings {
  const out: Strings = { sub: user.id };
  for (const [k, v] of Object.entries(user.attributes)) if (k !== 'sub') out[k] = v;
  out['cognito:user_status'] = user.status;
  return out;
}

// ---------------------------------------------------------------- checked reads of a response

function optBool(name: TriggerName, r: Record<string, unknown>, k: string): boolean {
  const v = r[k];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalidResponse(name, `${k} must be a boolean`);
  return v;
}

function optString(name: TriggerName, r: Record<string, unknown>, k: string): string | undefined {
  const v = r[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalidResponse(name, `${k} must be a string`);
  return v;
}

function optObject(name: TriggerName, r: Record<string, unknown>, k: string): Record<string, unknown> | undefined {
  const v = r[k];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw invalidResponse(name, `${k} must be an object`);
  return v as Record<string, unknown>;
}

/** A map of strings; numbers and booleans are taken as their text, as a Lambda's JSON would be read. */
function optStrings(name: TriggerName, r: Record<string, unknown>, k: string): Strings | undefined {
  const o = optObject(name, r, k);
  if (!o) return undefined;
  const out: Strings = {};
  for (const [key, v] of Object.entries(o)) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw invalidResponse(name, `${k}.${key} must be a string`);
    out[key] = String(v);
  }
  return out;
}

function optStringList(name: TriggerName, r: Record<string, unknown> | undefined, k: string): string[] | undefined {
  const v = r?.[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw invalidResponse(name, `${k} must be a list of strings`);
  return v as string[];
}

// ---------------------------------------------------------------- sign-up and confirmation

export type PreSignUpSource = 'PreSignUp_SignUp' | 'PreSignUp_AdminCreateUser' | 'PreSignUp_ExternalProvider';
export interface PreSignUpAnswer { autoConfirmUser: boolean; autoVerifyEmail: boolean; autoVerifyPhone: boolean }

/** PreSignUp, before the user is stored: it may refuse the sign-up, or confirm and verify the user. */
export async function preSignUp(ctx: Ctx, pool: LoadedPool, source: PreSignUpSource, who: Envelope, req: { userAttributes: Strings; validationData?: Strings; clientMetadata?: Strings }): Promise<PreSignUpAnswer> {
  const none = { autoConfirmUser: false, autoVerifyEmail: false, autoVerifyPhone: false };
  if (!ctx.triggers.has(pool, 'PreSignUp')) return none;
  const r = await ctx.triggers.invoke(pool, 'PreSignUp', event(ctx, pool, source, who, {
    userAttributes: req.userAttributes, validationData: req.validationData ?? null, clientMetadata: req.clientMetadata ?? {},
  }, { ...none }));
  return {
    autoConfirmUser: optBool('PreSignUp', r, 'autoConfirmUser'),
    autoVerifyEmail: optBool('PreSignUp', r, 'autoVerifyEmail'),
    autoVerifyPhone: optBool('PreSignUp', r, 'autoVerifyPhone'),
  };
}

export type PostConfirmationSource = 'PostConfirmation_ConfirmSignUp' | 'PostConfirmation_ConfirmForgotPassword';

/** PostConfirmation, once a user is confirmed (or has reset their password). */
export async function postConfirmation(ctx: Ctx, pool: LoadedPool, source: PostConfirmationSource, user: User, clientId: string | undefined, clientMetadata?: Strings) {
  if (!ctx.triggers.has(pool, 'PostConfirmation')) return;
  await ctx.triggers.invoke(pool, 'PostConfirmation', event(ctx, pool, source, { userName: user.username, clientId }, {
    userAttributes: userAttributesOf(user), clientMetadata: clientMetadata ?? {},
  }, {}));
}

// ---------------------------------------------------------------- federation

/** What a provider answered, as InboundFederation hands it on (each member only when the provider gave it). */
export interface ProviderAnswer {
  /** OIDC and social providers: the /token response. */
  tokenResponse?: Record<string, unknown>;
  /** OIDC, Google, Apple: the ID token's claims, checked and decoded. */
  idToken?: Record<string, unknown>;
  /** The userinfo (or profile) endpoint's claims. */
  userInfo?: Record<string, unknown>;
  /** SAML: the assertion's attributes. */
  samlResponse?: Record<string, unknown>;
}

/** A StringMap as Cognito sends one: strings kept, other values as JSON (numbers and booleans as their text). */
function stringMap(o: Record<string, unknown>): Strings {
  const out: Strings = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
  return out;
}

/**
 * InboundFederation, at every sign-in through a provider (first and returning), before the user is
 * created or updated. The trigger sees the provider's raw answer; a non-empty `userAttributesToMap`
 * replaces the provider's attributes before the provider's AttributeMapping is applied (attributes
 * left out are dropped). Answers the replacement, or undefined to keep the provider's attributes.
 */
export async function inboundFederation(ctx: Ctx, pool: LoadedPool, who: Envelope, req: { providerName: string; providerType: string; answer: ProviderAnswer }): Promise<Strings | undefined> {
  const name: TriggerName = 'InboundFederation';
  if (!ctx.triggers.has(pool, name)) return undefined;
  const attributes: Record<string, Strings> = {};
  for (const [k, v] of Object.entries(req.answer)) if (v) attributes[k] = stringMap(v);
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, 'InboundFederation_ExternalProvider', who, {
    providerName: req.providerName, providerType: req.providerType, attributes,
  }, { userAttributesToMap: {} }));
  const map = optStrings(name, r, 'userAttributesToMap');
  return map && Object.keys(map).length ? map : undefined;
}

// ---------------------------------------------------------------- sign-in

/**
 * PreAuthentication, as a sign-in starts. A login that names nobody reaches it only from clients
 * that hide users (`userNotFound`), so such a sign-in costs what a real one does.
 */
export async function preAuthentication(ctx: Ctx, pool: LoadedPool, who: Envelope, user: User | undefined, validationData?: Strings) {
  if (!ctx.triggers.has(pool, 'PreAuthentication')) return;
  await ctx.triggers.invoke(pool, 'PreAuthentication', event(ctx, pool, 'PreAuthentication_Authentication', who, {
    userAttributes: user ? userAttributesOf(user) : {}, validationData: validationData ?? {}, userNotFound: !user,
  }, {}));
}

/** PostAuthentication, after the user has proved every step and before tokens are issued. */
export async function postAuthentication(ctx: Ctx, pool: LoadedPool, user: User, clientId: string, clientMetadata?: Strings) {
  if (!ctx.triggers.has(pool, 'PostAuthentication')) return;
  await ctx.triggers.invoke(pool, 'PostAuthentication', event(ctx, pool, 'PostAuthentication_Authentication', { userName: user.username, clientId }, {
    userAttributes: userAttributesOf(user), newDeviceUsed: false, clientMetadata: clientMetadata ?? {},
  }, {}));
}

export type TokenGenerationSource =
  | 'TokenGeneration_Authentication' | 'TokenGeneration_NewPasswordChallenge' | 'TokenGeneration_RefreshTokens'
  | 'TokenGeneration_HostedAuth' | 'TokenGeneration_AuthenticateDevice';

/**
 * PreTokenGeneration: V1_0 customizes the ID token (and the groups of both); V2_0 and V3_0 also the
 * access token and its scopes. Answers what to change, or undefined.
 */
export async function preTokenGeneration(ctx: Ctx, pool: LoadedPool, source: TokenGenerationSource, user: User, clientId: string, t: { groups: string[]; scopes: string[]; clientMetadata?: Strings }): Promise<TokenCustomization | undefined> {
  const configured = configuredTrigger(pool, 'PreTokenGeneration')?.version;
  if (!configured) return undefined;
  const v2 = configured !== 'V1_0';
  const name: TriggerName = 'PreTokenGeneration';
  const request: Record<string, unknown> = {
    userAttributes: userAttributesOf(user),
    groupConfiguration: { groupsToOverride: t.groups, iamRolesToOverride: [], preferredRole: null },
    clientMetadata: t.clientMetadata ?? {},
  };
  if (v2) request.scopes = t.scopes;
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, source, { userName: user.username, clientId }, request,
    v2 ? { claimsAndScopeOverrideDetails: null } : { claimsOverrideDetails: null }, v2 ? configured.replace(/^V(\d)_0$/, '$1') : '1'));
  const out: TokenCustomization = {};
  const details = v2 ? optObject(name, r, 'claimsAndScopeOverrideDetails') : optObject(name, r, 'claimsOverrideDetails');
  if (!details) return undefined;
  const claims = (o: Record<string, unknown> | undefined, what: string) => {
    const add = optObject(name, o ?? {}, 'claimsToAddOrOverride');
    // V1 claims are strings; V2 takes any JSON value.
    if (add && !v2) for (const [k, v] of Object.entries(add)) if (typeof v !== 'string') throw invalidResponse(name, `${what}.claimsToAddOrOverride.${k} must be a string`);
    return { add, suppress: optStringList(name, o, 'claimsToSuppress') };
  };
  const groups = optObject(name, details, 'groupOverrideDetails');
  if (groups) {
    out.groups = optStringList(name, groups, 'groupsToOverride');
    out.roles = optStringList(name, groups, 'iamRolesToOverride');
    out.preferredRole = optString(name, groups, 'preferredRole');
  }
  if (v2) {
    out.id = claims(optObject(name, details, 'idTokenGeneration'), 'idTokenGeneration');
    const access = optObject(name, details, 'accessTokenGeneration');
    out.access = { ...claims(access, 'accessTokenGeneration'), scopesToAdd: optStringList(name, access, 'scopesToAdd'), scopesToSuppress: optStringList(name, access, 'scopesToSuppress') };
  } else {
    out.id = claims(details, 'claimsOverrideDetails');
  }
  return out;
}

// ---------------------------------------------------------------- user migration

export type UserMigrationSource = 'UserMigration_Authentication' | 'UserMigration_ForgotPassword';
export interface MigratedUser {
  userAttributes: Strings;
  finalUserStatus?: 'CONFIRMED' | 'RESET_REQUIRED';
  messageAction?: 'SUPPRESS' | 'RESEND';
  desiredDeliveryMediums?: string[];
  forceAliasCreation: boolean;
}

/**
 * UserMigration, for a login that names no user: the trigger looks the user up in the old store
 * (checking `password` on sign-in) and answers their attributes. Its error means "no such user".
 */
export async function userMigration(ctx: Ctx, pool: LoadedPool, source: UserMigrationSource, who: Envelope, req: { password?: string; validationData?: Strings; clientMetadata?: Strings }): Promise<MigratedUser> {
  const name: TriggerName = 'UserMigration';
  const request: Record<string, unknown> = { validationData: req.validationData ?? {}, clientMetadata: req.clientMetadata ?? {} };
  if (req.password !== undefined) request.password = req.password;
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, source, who, request, {
    userAttributes: null, finalUserStatus: null, messageAction: null, desiredDeliveryMediums: null, forceAliasCreation: null, enableSMSMFA: null,
  }));
  const userAttributes = optStrings(name, r, 'userAttributes');
  if (!userAttributes) throw invalidResponse(name, 'userAttributes are required');
  const finalUserStatus = optString(name, r, 'finalUserStatus');
  if (finalUserStatus !== undefined && finalUserStatus !== 'CONFIRMED' && finalUserStatus !== 'RESET_REQUIRED') throw invalidResponse(name, 'finalUserStatus must be CONFIRMED or RESET_REQUIRED');
  const messageAction = optString(name, r, 'messageAction');
  if (messageAction !== undefined && messageAction !== 'SUPPRESS' && messageAction !== 'RESEND') throw invalidResponse(name, 'messageAction must be SUPPRESS or RESEND');
  return {
    userAttributes, finalUserStatus: finalUserStatus as MigratedUser['finalUserStatus'], messageAction: messageAction as MigratedUser['messageAction'],
    desiredDeliveryMediums: optStringList(name, r, 'desiredDeliveryMediums'), forceAliasCreation: optBool(name, r, 'forceAliasCreation'),
  };
}

// ---------------------------------------------------------------- custom authentication

export interface ChallengeResult { challengeName: string; challengeResult: boolean; challengeMetadata?: string }
export interface CustomAuthWho extends Envelope { user?: User; clientId: string; notFound: boolean }

function customRequest(who: CustomAuthWho, extra: object, clientMetadata?: Strings) {
  return { userAttributes: who.user ? userAttributesOf(who.user) : {}, ...extra, clientMetadata: clientMetadata ?? {}, userNotFound: who.notFound };
}

/** DefineAuthChallenge: given the challenges so far, the next one, tokens, or failure. */
export async function defineAuthChallenge(ctx: Ctx, pool: LoadedPool, who: CustomAuthWho, session: ChallengeResult[], clientMetadata?: Strings) {
  const name: TriggerName = 'DefineAuthChallenge';
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, 'DefineAuthChallenge_Authentication', who, customRequest(who, { session }, clientMetadata), {
    challengeName: null, issueTokens: null, failAuthentication: null,
  }));
  return { challengeName: optString(name, r, 'challengeName'), issueTokens: optBool(name, r, 'issueTokens'), failAuthentication: optBool(name, r, 'failAuthentication') };
}

/** CreateAuthChallenge: the parameters shown to the client, those kept for the check, and metadata for the history. */
export async function createAuthChallenge(ctx: Ctx, pool: LoadedPool, who: CustomAuthWho, challengeName: string, session: ChallengeResult[], clientMetadata?: Strings) {
  const name: TriggerName = 'CreateAuthChallenge';
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, 'CreateAuthChallenge_Authentication', who, customRequest(who, { challengeName, session }, clientMetadata), {
    publicChallengeParameters: null, privateChallengeParameters: null, challengeMetadata: null,
  }));
  return {
    publicChallengeParameters: optStrings(name, r, 'publicChallengeParameters') ?? {},
    privateChallengeParameters: optStrings(name, r, 'privateChallengeParameters') ?? {},
    challengeMetadata: optString(name, r, 'challengeMetadata'),
  };
}

/** VerifyAuthChallengeResponse: whether the answer is right. */
export async function verifyAuthChallengeResponse(ctx: Ctx, pool: LoadedPool, who: CustomAuthWho, privateChallengeParameters: Strings, challengeAnswer: string, clientMetadata?: Strings): Promise<boolean> {
  const name: TriggerName = 'VerifyAuthChallengeResponse';
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, 'VerifyAuthChallengeResponse_Authentication', who,
    customRequest(who, { privateChallengeParameters, challengeAnswer }, clientMetadata), { answerCorrect: null }));
  return optBool(name, r, 'answerCorrect');
}

// ---------------------------------------------------------------- messages

/** Why a message goes out: CustomMessage_<source>, CustomEmailSender_<source>, CustomSMSSender_<source>. */
export type MessageSource = 'SignUp' | 'AdminCreateUser' | 'ResendCode' | 'ForgotPassword' | 'UpdateUserAttribute' | 'VerifyUserAttribute' | 'Authentication';

/** A message's text as a CustomMessage trigger rewrites it; `{####}` (and `{username}` in invitations) still to be filled. */
export interface MessageTemplate { subject?: string; email?: string; sms?: string }

const CODE_PARAMETER = '{####}';
const USERNAME_PARAMETER = '{username}';

/**
 * CustomMessage: the text of a code (or, for AdminCreateUser, the invitation with its temporary
 * password). A message the trigger leaves out keeps the pool's template; one it writes must carry
 * the code placeholder it was given, or the user could not read their code.
 */
export async function customMessage(ctx: Ctx, pool: LoadedPool, source: MessageSource, user: User, clientId: string | undefined, clientMetadata?: Strings): Promise<MessageTemplate | undefined> {
  const name: TriggerName = 'CustomMessage';
  if (!ctx.triggers.has(pool, name)) return undefined;
  const invite = source === 'AdminCreateUser';
  const r = await ctx.triggers.invoke(pool, name, event(ctx, pool, `CustomMessage_${source}`, { userName: user.username, clientId }, {
    userAttributes: userAttributesOf(user), codeParameter: CODE_PARAMETER, linkParameter: '{##Click Here##}',
    usernameParameter: invite ? USERNAME_PARAMETER : null, clientMetadata: clientMetadata ?? {},
  }, { smsMessage: null, emailMessage: null, emailSubject: null }));
  const out: MessageTemplate = { subject: optString(name, r, 'emailSubject'), email: optString(name, r, 'emailMessage'), sms: optString(name, r, 'smsMessage') };
  for (const [k, v, max] of [['emailMessage', out.email, 20000], ['smsMessage', out.sms, 1600]] as const) {
    if (v === undefined) continue;
    if (!v.includes(CODE_PARAMETER)) throw invalidResponse(name, `${k} must contain the code parameter ${CODE_PARAMETER}`);
    if (invite && !v.includes(USERNAME_PARAMETER)) throw invalidResponse(name, `${k} must contain the username parameter ${USERNAME_PARAMETER}`);
    if ([...v].length > max) throw invalidResponse(name, `${k} is longer than ${max} characters`);
  }
  if (out.subject !== undefined && [...out.subject].length > 140) throw invalidResponse(name, 'emailSubject is longer than 140 characters');
  return out.subject === undefined && out.email === undefined && out.sms === undefined ? undefined : out;
}

export type SenderTrigger = 'CustomEmailSender' | 'CustomSMSSender';

/**
 * The event a CustomEmailSender / CustomSMSSender trigger gets in place of the message: the code
 * (or temporary password) in clear, where Cognito encrypts it with the pool's KMS key.
 */
export function senderEvent(ctx: Ctx, pool: LoadedPool, trigger: SenderTrigger, source: MessageSource, user: User, clientId: string | undefined, code: string, clientMetadata?: Strings) {
  return event(ctx, pool, `${trigger}_${source}`, { userName: user.username, clientId }, {
    type: trigger === 'CustomEmailSender' ? 'customEmailSenderRequestV1' : 'customSMSSenderRequestV1',
    code, clientMetadata: clientMetadata ?? {}, userAttributes: userAttributesOf(user),
  }, {});
}

/** Who a message is for and why, as the message triggers see it. */
export interface MessageContext { source: MessageSource; user: User; clientId?: string; clientMetadata?: Strings }

/**
 * What the pool's triggers make of a message carrying `code` by `medium`: the sender trigger's call
 * in its place (CustomMessage is not asked then, as in Cognito), or CustomMessage's text, or nothing.
 */
export async function composeMessage(ctx: Ctx, pool: LoadedPool, medium: 'EMAIL' | 'SMS', mc: MessageContext, code: string, text?: MessageTemplate): Promise<Composed> {
  const sender: SenderTrigger = medium === 'EMAIL' ? 'CustomEmailSender' : 'CustomSMSSender';
  if (ctx.triggers.has(pool, sender)) return { sender: { trigger: sender, event: senderEvent(ctx, pool, sender, mc.source, mc.user, mc.clientId, code, mc.clientMetadata) } };
  const template = text ?? await customMessage(ctx, pool, mc.source, mc.user, mc.clientId, mc.clientMetadata);
  return template ? { template } : {};
}
