/** Errors as aws-amplify/auth throws them: `name` is Cognito's exception name or Amplify's validation code. */
export class AuthError extends Error {
  recoverySuggestion?: string;
  underlyingError?: unknown;
  constructor(params: { name: string; message: string; recoverySuggestion?: string; underlyingError?: unknown }) {
    super(params.message);
    this.name = params.name;
    this.recoverySuggestion = params.recoverySuggestion;
    this.underlyingError = params.underlyingError;
  }
}

export function fail(name: string, message: string, recoverySuggestion?: string): never {
  throw new AuthError({ name, message, recoverySuggestion });
}

/** Amplify's input checks (`AuthValidationErrorCode`): same names, thrown before any request. */
export function need(ok: unknown, name: string, message: string): asserts ok {
  if (!ok) fail(name, message);
}

/** Answers that mean the session itself is refused; anything else (network, 5xx, throttling) is transient. */
export const isAuthFailure = (e: unknown) =>
  e instanceof AuthError && /^(NotAuthorizedException|UserNotFoundException|PasswordResetRequiredException|UserNotConfirmedException)$/.test(e.name);
