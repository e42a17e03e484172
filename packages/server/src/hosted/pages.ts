// The managed login pages: sign in (then whatever challenge the sign-in state machine asks for, by
// name), sign up and confirm, forgot password. Each page re-checks the authorize request it carries;
// every form is CSRF-protected; the sign-in itself is the same state machine the API drives.
import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CognitoError } from '../errors.js';
import type { Ctx } from '../domain/context.js';
import type { LoadedClient, LoadedPool } from '../domain/pools.js';
import { isUsernameAttribute } from '../domain/pools.js';
import { requiredAttributes } from '../domain/users.js';
import { ssoUser } from '../domain/oauth.js';
import { throttle } from '../domain/limits.js';
import { totpUri } from '../domain/totp.js';
import { hostedFirstFactor, hostedRespond, hostedSignIn, hostedSignInAfterSignUp, otherFirstFactors, type HostedStep } from '../domain/signin/index.js';
import type { ChallengeAnswer } from '../domain/signin/index.js';
import { cookiesOf, csrfHolds, csrfToken, formOf, pageHeaders, queryOf, type Params } from './http.js';
import { callOperation, complete, flowOf, poolOfDomain, refuse, signedIn, ssoCookie, type Flow } from './flow.js';
import { esc, form, links, notice, page, type Field, type Look } from './views.js';

type Req = FastifyRequest<{ Params: { domain?: string } }>;

async function lookOf(ctx: Ctx, pool: LoadedPool, client: LoadedClient): Promise<Look> {
  return (await ctx.repo.getUiCustomization(pool.id, client.id)) ?? (await ctx.repo.getUiCustomization(pool.id, 'ALL')) ?? {};
}

function render(reply: FastifyReply, html: string, status = 200, scriptNonce?: string) {
  pageHeaders(reply, scriptNonce);
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** The user's login field, as the pool names users. */
function loginField(pool: LoadedPool, value?: string): Field {
  if (isUsernameAttribute(pool, 'email')) return { name: 'username', label: 'Email address', type: 'email', autocomplete: 'username', value };
  if (isUsernameAttribute(pool, 'phone_number')) return { name: 'username', label: 'Phone number', type: 'tel', autocomplete: 'username', value, hint: 'With country code, such as +12065550100.' };
  return { name: 'username', label: 'Username', autocomplete: 'username', value };
}

const ATTRIBUTE_LABELS: Record<string, [string, string?, string?]> = {
  email: ['Email address', 'email', 'email'], phone_number: ['Phone number', 'tel', 'tel'], name: ['Name', 'text', 'name'],
  given_name: ['Given name', 'text', 'given-name'], family_name: ['Family name', 'text', 'family-name'], birthdate: ['Birth date', 'text', 'bday'],
  preferred_username: ['Preferred username', 'text', 'nickname'], address: ['Address', 'text', 'street-address'],
};
const attributeField = (name: string, fieldName = name): Field => {
  const [label, type, autocomplete] = ATTRIBUTE_LABELS[name] ?? [name.replace(/^custom:/, '').replace(/_/g, ' ')];
  return { name: fieldName, label, type, autocomplete, autofocus: false };
};

/** The code steps of sign-in: which answer key each challenge takes, and how the page asks for it. */
const CODE_CHALLENGES: Record<string, { key: string; label: string }> = {
  SMS_MFA: { key: 'SMS_MFA_CODE', label: 'Code from the text message' },
  SMS_OTP: { key: 'SMS_OTP_CODE', label: 'Code from the text message' },
  EMAIL_OTP: { key: 'EMAIL_OTP_CODE', label: 'Code from the email' },
  SOFTWARE_TOKEN_MFA: { key: 'SOFTWARE_TOKEN_MFA_CODE', label: 'Code from your authenticator app' },
};
const FACTOR_BUTTONS: Record<string, string> = { WEB_AUTHN: 'Sign in with a passkey', EMAIL_OTP: 'Email me a sign-in code', SMS_OTP: 'Text me a sign-in code' };

/** Runs a page's work with its authorize request checked; errors are shown, or sent to the app. */
async function withFlow(ctx: Ctx, req: Req, reply: FastifyReply, work: (flow: Flow, look: Look) => Promise<unknown>) {
  const { params } = queryOf(req);
  let flow: Flow;
  try {
    const domainPool = await poolOfDomain(ctx, req.params.domain);
    flow = await flowOf(ctx, params, req.params.domain !== undefined ? `/${encodeURIComponent(req.params.domain)}` : '', domainPool);
  } catch (e) {
    return refuse(reply, e);
  }
  const look = await lookOf(ctx, flow.pool, flow.client);
  if (req.method === 'POST' && !csrfHolds(ctx, req, formOf(req).params._csrf)) {
    return render(reply, page('Please try again', notice('This form expired or did not come from this site. Go back and try again.') + links([[`${flow.base}/login?${flow.carry}`, 'Back to sign in']]), look), 403);
  }
  return work(flow, look);
}

const url = (flow: Flow, path: string, extra: Record<string, string> = {}) => {
  const more = new URLSearchParams(extra).toString();
  return `${flow.base}/${path}?${flow.carry}${more ? `&${more}` : ''}`;
};

const messageOf = (e: unknown) => (e instanceof CognitoError ? e.message : 'Something went wrong. Please try again.');

export function registerPages(app: FastifyInstance, ctx: Ctx, base: string) {
  const info = (req: FastifyRequest) => ({ ip: req.ip, headers: req.headers });
  const userCtx = (req: FastifyRequest): Ctx => ({ ...ctx, ip: req.ip });

  function loginPage(reply: FastifyReply, req: FastifyRequest, flow: Flow, look: Look, o: { error?: string; info?: string; username?: string } = {}) {
    const { pool } = flow;
    const csrf = csrfToken(ctx, req, reply);
    const signUp = !pool.config.AdminCreateUserConfig?.AllowAdminCreateUserOnly;
    const factors = otherFirstFactors(pool).filter((f) => FACTOR_BUTTONS[f]);
    const others = factors.length
      ? `<form method="post" action="${esc(url(flow, 'login'))}"><fieldset><legend>Or, without a password</legend>`
        + `<input type="hidden" name="_csrf" value="${esc(csrf)}"><label for="f-other-username">${esc(loginField(pool).label)}</label>`
        + `<input id="f-other-username" name="username" autocomplete="username webauthn" value="${esc(o.username ?? flow.req.loginHint ?? '')}" required>`
        + factors.map((f) => `<button type="submit" name="factor" value="${f}">${esc(FACTOR_BUTTONS[f])}</button>`).join('') + `</fieldset></form>`
      : '';
    return render(reply, page('Sign in', notice(o.info, 'info') + form({
      action: url(flow, 'login'), csrf, submit: 'Sign in',
      fields: [loginField(pool, o.username ?? flow.req.loginHint), { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', autofocus: false }],
    }, o.error) + others + links([
      [url(flow, 'forgotPassword'), 'Forgot your password?'],
      ...(signUp ? [[url(flow, 'signup'), 'Need an account? Sign up'] as [string, string]] : []),
    ]), look));
  }

  /** A step of sign-in: signed in (the app gets its code), or the next challenge's page. */
  async function stepDone(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, step: HostedStep, login: string) {
    if (step.user) return signedIn(ctx, req, reply, flow, step.user);
    return challengePage(req, reply, flow, look, step.answer, login);
  }

  function challengePage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, a: ChallengeAnswer, login: string, error?: string) {
    const csrf = csrfToken(ctx, req, reply);
    const p = a.ChallengeParameters ?? {};
    const username = p.USERNAME ?? p.USER_ID_FOR_SRP ?? login;
    const hidden = { session: a.Session, challenge: a.ChallengeName, username, login, params: JSON.stringify(p) };
    const action = url(flow, 'login/challenge');
    const name = a.ChallengeName ?? '';
    const code = CODE_CHALLENGES[name];
    if (code) {
      const to = p.CODE_DELIVERY_DESTINATION ? notice(`We sent a code to ${p.CODE_DELIVERY_DESTINATION}.`, 'info') : '';
      return render(reply, page('Enter your code', to + form({ action, csrf, hidden, submit: 'Sign in', fields: [{ name: 'code', label: code.label, autocomplete: 'one-time-code', inputmode: 'numeric' }] }, error), look));
    }
    if (name === 'NEW_PASSWORD_REQUIRED') {
      const required: string[] = safeJson(p.requiredAttributes, []);
      return render(reply, page('Set a new password', notice('Your password must be changed before you sign in.', 'info') + form({
        action, csrf, hidden, submit: 'Change password and sign in',
        fields: [{ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password' }, ...required.map((r) => attributeField(r.replace(/^userAttributes\./, ''), r))],
      }, error), look));
    }
    if (name === 'SELECT_MFA_TYPE' || name === 'MFA_SETUP') {
      const key = name === 'SELECT_MFA_TYPE' ? 'MFAS_CAN_CHOOSE' : 'MFAS_CAN_SETUP';
      const options: string[] = safeJson(p[key], []);
      const labels: Record<string, string> = { SMS_MFA: 'Text message', SOFTWARE_TOKEN_MFA: 'Authenticator app', EMAIL_OTP: 'Email' };
      if (name === 'MFA_SETUP') {
        // Each factor the user may set up here gets its own form: an authenticator app, email codes.
        const totp = options.includes('SOFTWARE_TOKEN_MFA')
          ? `<form method="post" action="${esc(url(flow, 'login/totp'))}">${hiddenInputs({ _csrf: csrf, session: a.Session, username, login })}<fieldset><legend>Authenticator app</legend>`
            + `<p class="hint">Use an app such as an authenticator or password manager that makes 6-digit codes.</p><button type="submit" id="setup-totp">Set up an authenticator app</button></fieldset></form>`
          : '';
        const email = options.includes('EMAIL_OTP')
          ? `<form method="post" action="${esc(action)}">${hiddenInputs({ _csrf: csrf, ...hidden })}<fieldset><legend>Codes by email</legend>`
            + `<label for="f-email">Email address</label><input id="f-email" name="email" type="email" autocomplete="email" required${error ? ' aria-describedby="error-message" aria-invalid="true"' : ''}>`
            + `<button type="submit" id="setup-email">Send a code</button></fieldset></form>`
          : '';
        const body = totp || email ? notice(error) + notice('Your account needs a second step to sign in. Set one up now.', 'info') + totp + email
          : notice('Set up multi-factor authentication in the application before you sign in here.') + links([[url(flow, 'login'), 'Back to sign in']]);
        return render(reply, page('Set up multi-factor authentication', body, look));
      }
      const radios = options.map((o, i) => `<div><input type="radio" id="mfa-${i}" name="answer" value="${esc(o)}"${i === 0 ? ' checked' : ''}><label for="mfa-${i}" style="display:inline">${esc(labels[o] ?? o)}</label></div>`).join('');
      return render(reply, page('Choose how to verify', notice(error) + `<form method="post" action="${esc(action)}">${hiddenInputs({ _csrf: csrf, ...hidden })}<fieldset><legend>Verification method</legend>${radios}</fieldset><button type="submit">Continue</button></form>`, look));
    }
    if (name === 'CUSTOM_CHALLENGE') {
      return render(reply, page('Verify it is you', form({ action, csrf, hidden, submit: 'Continue', fields: [{ name: 'answer', label: p.prompt ?? 'Answer' }] }, error), look));
    }
    if (name === 'WEB_AUTHN') {
      const nonce = crypto.randomBytes(16).toString('base64url');
      const body = notice(error) + `<p id="passkey-status" role="status">Use your passkey to sign in.</p>`
        + `<form id="passkey-form" method="post" action="${esc(action)}">${hiddenInputs({ _csrf: csrf, ...hidden, options: p.CREDENTIAL_REQUEST_OPTIONS })}<input type="hidden" name="credential" id="credential">`
        + `<button type="submit" id="passkey-button">Use passkey</button></form>`;
      return render(reply, page('Sign in with a passkey', body, look, nonce, PASSKEY_SCRIPT), 200, nonce);
    }
    return render(reply, page('Sign in', notice(`This sign-in step (${name}) is not available on these pages; sign in from the application.`) + links([[url(flow, 'login'), 'Back to sign in']]), look));
  }

  app.get(`${base}/login`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    // Someone already signed in (and not asked to sign in again) goes straight back to the app.
    if (!flow.req.prompt?.split(' ').includes('login')) {
      const sso = await ssoUser(ctx, flow.pool, cookiesOf(req)[ssoCookie(flow.pool)]);
      if (sso) return complete(ctx, reply, flow, sso.user, sso.authTime);
    }
    return loginPage(reply, req, flow, look);
  }));

  app.post(`${base}/login`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const login = (f.username ?? '').trim();
    if (!login) return loginPage(reply, req, flow, look, { error: 'Enter your username.' });
    try {
      await throttle(userCtx(req), flow.client.id, ['signIn']);
      if (f.factor) return await stepDone(req, reply, flow, look, await hostedFirstFactor(userCtx(req), flow.pool, flow.client, login, f.factor), login);
      if (!f.password) return loginPage(reply, req, flow, look, { error: 'Enter your password.', username: login });
      return await stepDone(req, reply, flow, look, await hostedSignIn(userCtx(req), flow.pool, flow.client, login, f.password), login);
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      if (e.name === 'UserNotConfirmedException') return confirmPage(req, reply, flow, look, login, undefined, 'Your account is not confirmed yet. Enter the code we sent you, or ask for a new one.');
      if (e.name === 'PasswordResetRequiredException') return forgotPage(req, reply, flow, look, 'Your password must be reset.', login);
      return loginPage(reply, req, flow, look, { error: messageOf(e), username: login });
    }
  }));

  app.post(`${base}/login/challenge`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const name = f.challenge ?? '';
    const login = f.login ?? f.username ?? '';
    const responses: Record<string, string> = { USERNAME: f.username ?? '' };
    const code = CODE_CHALLENGES[name];
    if (code) responses[code.key] = (f.code ?? '').trim();
    else if (name === 'NEW_PASSWORD_REQUIRED') {
      responses.NEW_PASSWORD = f.new_password ?? '';
      for (const [k, v] of Object.entries(f)) if (k.startsWith('userAttributes.') && v) responses[k] = v;
    } else if (name === 'SELECT_MFA_TYPE' || name === 'CUSTOM_CHALLENGE') responses.ANSWER = f.answer ?? '';
    else if (name === 'MFA_SETUP') responses.EMAIL = f.email ?? '';
    else if (name === 'WEB_AUTHN') responses.CREDENTIAL = f.credential ?? '';
    try {
      await throttle(userCtx(req), flow.client.id, ['signIn']);
      return await stepDone(req, reply, flow, look, await hostedRespond(userCtx(req), flow.pool, flow.client, name, responses, f.session ?? ''), login);
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      // A step that may be tried again (a wrong code) shows again; a dead session starts over.
      const again = !/session/i.test(e.message) && ['CodeMismatchException', 'InvalidPasswordException', 'InvalidParameterException'].includes(e.name);
      if (again) {
        const params = safeJson<Record<string, string>>(f.params, {});
        return challengePage(req, reply, flow, look, { ChallengeName: name as ChallengeAnswer['ChallengeName'], Session: f.session, ChallengeParameters: params }, login, messageOf(e));
      }
      return loginPage(reply, req, flow, look, { error: messageOf(e), username: login });
    }
  }));

  /** The authenticator-app step of MFA_SETUP: its secret as text and as an otpauth:// URI, and a field for the first code. */
  function totpPage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, o: { session: string; username: string; login: string; secret?: string; error?: string }) {
    const secret = o.secret && /^[A-Z2-7]{16,128}$/.test(o.secret) ? o.secret : undefined;
    const uri = secret && totpUri(secret, flow.pool.name, o.login || o.username);
    const body = (secret && uri ? `<p>Add this account to your authenticator app: open or paste the setup link, or type the key.</p>`
      + `<dl><dt>Setup key</dt><dd><code id="totp-secret">${esc(secret.replace(/(.{4})/g, '$1 ').trim())}</code></dd>`
      + `<dt>Setup link</dt><dd><a id="totp-uri" href="${esc(uri)}">${esc(uri)}</a></dd></dl>` : '')
      + form({
        action: url(flow, 'login/totp'), csrf: csrfToken(ctx, req, reply), submit: 'Verify and sign in',
        hidden: { session: o.session, username: o.username, login: o.login, secret },
        fields: [{ name: 'code', label: 'Code from your authenticator app', autocomplete: 'one-time-code', inputmode: 'numeric' }],
      }, o.error);
    return render(reply, page('Set up your authenticator app', body, look));
  }

  // MFA_SETUP with an authenticator app: AssociateSoftwareToken and VerifySoftwareToken with the
  // sign-in's Session (the public operations, as the API flow calls them), then MFA_SETUP answered.
  app.post(`${base}/login/totp`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const username = f.username ?? '';
    const login = f.login ?? username;
    try {
      await throttle(userCtx(req), flow.client.id, ['signIn']);
      if (f.code === undefined) {
        const out = await callOperation(userCtx(req), 'AssociateSoftwareToken', { Session: f.session ?? '' }, info(req));
        return totpPage(req, reply, flow, look, { session: out.Session, username, login, secret: out.SecretCode });
      }
      let verified: { Session: string };
      try {
        verified = await callOperation(userCtx(req), 'VerifySoftwareToken', { Session: f.session ?? '', UserCode: f.code.trim() }, info(req));
      } catch (e) {
        // A wrong or malformed code asks again with the same session (it allows 3 wrong codes); the
        // secret shown again is the form's own, echoed: the server checks codes against the sealed one.
        if (e instanceof CognitoError && ['EnableSoftwareTokenMFAException', 'CodeMismatchException', 'InvalidParameterException'].includes(e.name) && !/session/i.test(e.message)) {
          return totpPage(req, reply, flow, look, { session: f.session ?? '', username, login, secret: f.secret, error: 'That code is not right. Enter the code your app shows now.' });
        }
        throw e;
      }
      return await stepDone(req, reply, flow, look, await hostedRespond(userCtx(req), flow.pool, flow.client, 'MFA_SETUP', { USERNAME: username }, verified.Session), login);
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      return loginPage(reply, req, flow, look, { error: messageOf(e), username: login });
    }
  }));

  function signUpFields(pool: LoadedPool, values: Params = {}): Field[] {
    const asUsername = isUsernameAttribute(pool, 'email') ? 'email' : isUsernameAttribute(pool, 'phone_number') ? 'phone_number' : undefined;
    const extra = requiredAttributes(pool).filter((a) => a !== asUsername && a !== 'sub').map((a) => ({ ...attributeField(a, `attr.${a}`), value: values[`attr.${a}`] }));
    return [loginField(pool, values.username), { name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', autofocus: false }, ...extra];
  }

  function signUpPage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, error?: string, values: Params = {}) {
    if (flow.pool.config.AdminCreateUserConfig?.AllowAdminCreateUserOnly) return render(reply, page('Sign up', notice('Only an administrator can create accounts here.') + links([[url(flow, 'login'), 'Back to sign in']]), look), 403);
    return render(reply, page('Sign up', form({ action: url(flow, 'signup'), csrf: csrfToken(ctx, req, reply), submit: 'Sign up', fields: signUpFields(flow.pool, values) }, error)
      + links([[url(flow, 'login'), 'Have an account? Sign in']]), look));
  }

  function confirmPage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, username: string, destination?: string, error?: string) {
    const sent = destination ? notice(`We sent a code to ${destination}.`, 'info') : '';
    return render(reply, page('Confirm your account', sent + form({
      action: url(flow, 'confirm'), csrf: csrfToken(ctx, req, reply), submit: 'Confirm account', hidden: { username },
      fields: [{ name: 'code', label: 'Confirmation code', autocomplete: 'one-time-code', inputmode: 'numeric' }],
    }, error) + `<form method="post" action="${esc(url(flow, 'confirm'))}">${hiddenInputs({ _csrf: csrfToken(ctx, req, reply), username, resend: '1' })}<button type="submit">Send a new code</button></form>`, look));
  }

  app.get(`${base}/signup`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => signUpPage(req, reply, flow, look)));

  app.post(`${base}/signup`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const { pool, client } = flow;
    const username = (f.username ?? '').trim();
    const attrs = Object.entries(f).filter(([k, v]) => k.startsWith('attr.') && v).map(([k, v]) => ({ Name: k.slice(5), Value: v! }));
    if (isUsernameAttribute(pool, 'email')) attrs.push({ Name: 'email', Value: username });
    else if (isUsernameAttribute(pool, 'phone_number')) attrs.push({ Name: 'phone_number', Value: username });
    try {
      const out = await callOperation(userCtx(req), 'SignUp', { ClientId: client.id, Username: username, Password: f.password ?? '', UserAttributes: attrs }, info(req), client);
      if (out.UserConfirmed) return loginPage(reply, req, flow, look, { info: 'Your account is ready. Sign in.', username });
      return confirmPage(req, reply, flow, look, username, out.CodeDeliveryDetails?.Destination);
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      return signUpPage(req, reply, flow, look, messageOf(e), f);
    }
  }));

  app.get(`${base}/confirm`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => confirmPage(req, reply, flow, look, queryOf(req).params.username ?? '')));

  app.post(`${base}/confirm`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const username = f.username ?? '';
    const { pool, client } = flow;
    try {
      if (f.resend) {
        const out = await callOperation(userCtx(req), 'ResendConfirmationCode', { ClientId: client.id, Username: username }, info(req), client);
        return confirmPage(req, reply, flow, look, username, out.CodeDeliveryDetails?.Destination);
      }
      const out = await callOperation(userCtx(req), 'ConfirmSignUp', { ClientId: client.id, Username: username, ConfirmationCode: (f.code ?? '').trim() }, info(req), client);
      // Confirmed: signed in at once with the confirmation's session, as autoSignIn would.
      if (out.Session) return await stepDone(req, reply, flow, look, await hostedSignInAfterSignUp(userCtx(req), pool, client, username, out.Session), username);
      return loginPage(reply, req, flow, look, { info: 'Your account is confirmed. Sign in.', username });
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      return confirmPage(req, reply, flow, look, username, undefined, messageOf(e));
    }
  }));

  function forgotPage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, error?: string, username?: string) {
    return render(reply, page('Reset your password', notice(error ? undefined : 'We will send you a code to reset your password.', 'info') + form({
      action: url(flow, 'forgotPassword'), csrf: csrfToken(ctx, req, reply), submit: 'Send code', fields: [loginField(flow.pool, username)],
    }, error) + links([[url(flow, 'login'), 'Back to sign in']]), look));
  }

  function resetPage(req: FastifyRequest, reply: FastifyReply, flow: Flow, look: Look, username: string, destination?: string, error?: string) {
    const sent = destination ? notice(`We sent a code to ${destination}.`, 'info') : '';
    return render(reply, page('Choose a new password', sent + form({
      action: url(flow, 'confirmForgotPassword'), csrf: csrfToken(ctx, req, reply), submit: 'Change password', hidden: { username },
      fields: [{ name: 'code', label: 'Code', autocomplete: 'one-time-code', inputmode: 'numeric' }, { name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', autofocus: false }],
    }, error), look));
  }

  app.get(`${base}/forgotPassword`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => forgotPage(req, reply, flow, look)));

  app.post(`${base}/forgotPassword`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const username = (formOf(req).params.username ?? '').trim();
    try {
      const out = await callOperation(userCtx(req), 'ForgotPassword', { ClientId: flow.client.id, Username: username }, info(req), flow.client);
      return resetPage(req, reply, flow, look, username, out.CodeDeliveryDetails?.Destination);
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      return forgotPage(req, reply, flow, look, messageOf(e), username);
    }
  }));

  app.post(`${base}/confirmForgotPassword`, (req: Req, reply) => withFlow(ctx, req, reply, async (flow, look) => {
    const f = formOf(req).params;
    const username = f.username ?? '';
    try {
      await callOperation(userCtx(req), 'ConfirmForgotPassword', { ClientId: flow.client.id, Username: username, ConfirmationCode: (f.code ?? '').trim(), Password: f.password ?? '' }, info(req), flow.client);
      return loginPage(reply, req, flow, look, { info: 'Your password is changed. Sign in with the new one.', username });
    } catch (e) {
      if (!(e instanceof CognitoError)) throw e;
      return resetPage(req, reply, flow, look, username, undefined, messageOf(e));
    }
  }));
}

function hiddenInputs(values: Record<string, string | undefined>) {
  return Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('');
}

function safeJson<T>(text: string | undefined, fallback: T): T {
  try { return text ? (JSON.parse(text) as T) : fallback; } catch { return fallback; }
}

// The passkey step: the browser's WebAuthn ceremony with the server's request options, its
// assertion sent back as CREDENTIAL (JSON, base64url fields), as Amplify sends it.
const PASSKEY_SCRIPT = `
(function(){
  var form=document.getElementById('passkey-form'),status=document.getElementById('passkey-status');
  function b64u(buf){var s='',b=new Uint8Array(buf);for(var i=0;i<b.length;i++)s+=String.fromCharCode(b[i]);return btoa(s).replace(/\\+/g,'-').replace(/\\//g,'_').replace(/=+$/,'');}
  function unb64u(s){s=s.replace(/-/g,'+').replace(/_/g,'/');while(s.length%4)s+='=';var b=atob(s),a=new Uint8Array(b.length);for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);return a.buffer;}
  form.addEventListener('submit',function(ev){
    if(document.getElementById('credential').value)return;
    ev.preventDefault();
    if(!window.PublicKeyCredential){status.textContent='This browser does not support passkeys.';return;}
    var o=JSON.parse(form.elements.options.value);
    var pk={challenge:unb64u(o.challenge),rpId:o.rpId,timeout:o.timeout,userVerification:o.userVerification,
      allowCredentials:(o.allowCredentials||[]).map(function(c){return {type:c.type,id:unb64u(c.id),transports:c.transports};})};
    navigator.credentials.get({publicKey:pk}).then(function(c){
      var r=c.response;
      document.getElementById('credential').value=JSON.stringify({id:c.id,rawId:b64u(c.rawId),type:c.type,
        authenticatorAttachment:c.authenticatorAttachment||undefined,clientExtensionResults:c.getClientExtensionResults(),
        response:{clientDataJSON:b64u(r.clientDataJSON),authenticatorData:b64u(r.authenticatorData),signature:b64u(r.signature),userHandle:r.userHandle?b64u(r.userHandle):undefined}});
      form.submit();
    },function(e){status.textContent='The passkey was not used: '+e.name+'. Try again.';});
  });
})();`;
