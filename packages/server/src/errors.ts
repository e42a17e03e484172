// Errors named after Cognito's error types. The wire layer writes `name` to x-amzn-errortype
// and `__type`, and `message` to the body; the status is 400 unless the class says otherwise.
export class CognitoError extends Error {
  readonly status: number = 400;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

function kind(name: string, status = 400) {
  const C = class extends CognitoError {
    override readonly status = status;
  };
  Object.defineProperty(C, 'name', { value: name });
  return C;
}

export const InvalidParameterException = kind('InvalidParameterException');
export const InvalidPasswordException = kind('InvalidPasswordException');
export const NotAuthorizedException = kind('NotAuthorizedException');
export const UserNotFoundException = kind('UserNotFoundException');
export const UserNotConfirmedException = kind('UserNotConfirmedException');
export const UsernameExistsException = kind('UsernameExistsException');
export const AliasExistsException = kind('AliasExistsException');
export const CodeMismatchException = kind('CodeMismatchException');
export const ExpiredCodeException = kind('ExpiredCodeException');
export const PasswordResetRequiredException = kind('PasswordResetRequiredException');
export const ResourceNotFoundException = kind('ResourceNotFoundException');
export const GroupExistsException = kind('GroupExistsException');
export const DuplicateProviderException = kind('DuplicateProviderException');
export const LimitExceededException = kind('LimitExceededException');
export const TooManyRequestsException = kind('TooManyRequestsException');
export const TooManyFailedAttemptsException = kind('TooManyFailedAttemptsException');
export const InvalidUserPoolConfigurationException = kind('InvalidUserPoolConfigurationException');
export const UnsupportedOperationException = kind('UnsupportedOperationException');
export const UnsupportedTokenTypeException = kind('UnsupportedTokenTypeException');
export const CodeDeliveryFailureException = kind('CodeDeliveryFailureException');
export const InvalidLambdaResponseException = kind('InvalidLambdaResponseException');
export const UserLambdaValidationException = kind('UserLambdaValidationException');
export const UnexpectedLambdaException = kind('UnexpectedLambdaException');
export const UnsupportedUserStateException = kind('UnsupportedUserStateException');
export const MFAMethodNotFoundException = kind('MFAMethodNotFoundException');
export const EnableSoftwareTokenMFAException = kind('EnableSoftwareTokenMFAException');
export const SoftwareTokenMFANotFoundException = kind('SoftwareTokenMFANotFoundException');
export const PasswordHistoryPolicyViolationException = kind('PasswordHistoryPolicyViolationException');
export const FeatureUnavailableInTierException = kind('FeatureUnavailableInTierException');
export const WebAuthnNotEnabledException = kind('WebAuthnNotEnabledException');
export const WebAuthnConfigurationMissingException = kind('WebAuthnConfigurationMissingException');
export const WebAuthnChallengeNotFoundException = kind('WebAuthnChallengeNotFoundException');
export const WebAuthnClientMismatchException = kind('WebAuthnClientMismatchException');
export const WebAuthnOriginNotAllowedException = kind('WebAuthnOriginNotAllowedException');
export const WebAuthnRelyingPartyMismatchException = kind('WebAuthnRelyingPartyMismatchException');
export const WebAuthnCredentialNotSupportedException = kind('WebAuthnCredentialNotSupportedException');
export const ConcurrentModificationException = kind('ConcurrentModificationException');
/** A console request whose caller is not an operator, or that did not come from the console (AWS's name for a refused authorization). */
export const AccessDeniedException = kind('AccessDeniedException', 403);
// Wire-level errors (AWS JSON protocol).
export const SerializationException = kind('SerializationException');
export const UnknownOperationException = kind('UnknownOperationException');
export const UnrecognizedClientException = kind('UnrecognizedClientException');
export const InvalidSignatureException = kind('InvalidSignatureException');
export const MissingAuthenticationTokenException = kind('MissingAuthenticationTokenException');
export const RequestEntityTooLargeException = kind('RequestEntityTooLargeException', 413);
export const InternalErrorException = kind('InternalErrorException', 500);
