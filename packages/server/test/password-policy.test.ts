import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkPassword,
  defaultPasswordPolicy,
  passwordPolicyOf,
  type PasswordPolicy,
} from '../src/domain/password-policy.js';
import { InvalidParameterException, InvalidPasswordException } from '../src/errors.js';
import { cognitoModel } from '../src/wire/model.js';

const policyError = (why: string) => ({ name: 'InvalidPasswordException', message: `Password did not conform with policy: ${why}` });
const none: PasswordPolicy = { ...defaultPasswordPolicy, MinimumLength: 6, RequireUppercase: false, RequireLowercase: false, RequireNumbers: false, RequireSymbols: false };

test('default policy is Cognito’s', () => {
  assert.deepEqual(defaultPasswordPolicy, {
    MinimumLength: 8,
    RequireUppercase: true,
    RequireLowercase: true,
    RequireNumbers: true,
    RequireSymbols: true,
    TemporaryPasswordValidityDays: 7,
  });
});

test('passwordPolicyOf fills defaults', () => {
  assert.deepEqual(passwordPolicyOf(undefined), defaultPasswordPolicy);
  assert.deepEqual(passwordPolicyOf({}), defaultPasswordPolicy);
  assert.deepEqual(passwordPolicyOf({ MinimumLength: 12, RequireSymbols: false, PasswordHistorySize: 3 }), {
    ...defaultPasswordPolicy,
    MinimumLength: 12,
    RequireSymbols: false,
    PasswordHistorySize: 3,
  });
  // Returned object is a fresh copy.
  const p = passwordPolicyOf(undefined);
  p.MinimumLength = 20;
  assert.equal(defaultPasswordPolicy.MinimumLength, 8);
});

// Ranges and types of PasswordPolicy are the model's: refused at the wire before any handler.
const model = cognitoModel();
const policyBody = (PasswordPolicy: unknown) => ({ PoolName: 'p', Policies: { PasswordPolicy } });

test('password policy ranges are refused at the wire with Cognito\'s message', () => {
  for (const [k, v] of [
    ['MinimumLength', 5], ['MinimumLength', 100],
    ['TemporaryPasswordValidityDays', -1], ['TemporaryPasswordValidityDays', 366],
    ['PasswordHistorySize', -1], ['PasswordHistorySize', 25],
  ] as const)
    assert.throws(() => model.validateInput('CreateUserPool', policyBody({ [k]: v })), InvalidParameterException, `${k}=${v}`);
  assert.throws(() => model.validateInput('CreateUserPool', policyBody({ MinimumLength: 5 })), {
    message: "1 validation error detected: Value '5' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value greater than or equal to 6",
  });
  for (const [k, v] of [
    ['MinimumLength', 6], ['MinimumLength', 99],
    ['TemporaryPasswordValidityDays', 0], ['TemporaryPasswordValidityDays', 365],
    ['PasswordHistorySize', 0], ['PasswordHistorySize', 24],
  ] as const)
    assert.doesNotThrow(() => model.validateInput('CreateUserPool', policyBody({ [k]: v })), `${k}=${v}`);
});

test('password policy members of the wrong JSON type are SerializationExceptions', () => {
  for (const bad of ['x', 8, [], { MinimumLength: '8' }, { MinimumLength: 8.5 }, { RequireNumbers: 'true' }, { RequireSymbols: 1 }, { PasswordHistorySize: true }])
    assert.throws(() => model.validateInput('CreateUserPool', policyBody(bad)), { name: 'SerializationException' }, JSON.stringify(bad));
});

test('checkPassword accepts a conforming password', () => {
  assert.doesNotThrow(() => checkPassword('Passw0rd!', defaultPasswordPolicy));
  assert.doesNotThrow(() => checkPassword('abcdef', none));
});

test('checkPassword reports the first failed rule with Cognito’s wording', () => {
  assert.throws(() => checkPassword('Pa0!', defaultPasswordPolicy), policyError('Password not long enough'));
  assert.throws(() => checkPassword('password0!', defaultPasswordPolicy), policyError('Password must have uppercase characters'));
  assert.throws(() => checkPassword('PASSWORD0!', defaultPasswordPolicy), policyError('Password must have lowercase characters'));
  assert.throws(() => checkPassword('Password!!', defaultPasswordPolicy), policyError('Password must have numeric characters'));
  assert.throws(() => checkPassword('Password00', defaultPasswordPolicy), policyError('Password must have symbol characters'));
  assert.throws(() => checkPassword('Password00', defaultPasswordPolicy), InvalidPasswordException);
});

test('only basic Latin letters and digits count', () => {
  assert.throws(() => checkPassword('Éécole0!', defaultPasswordPolicy), policyError('Password must have uppercase characters'));
  assert.throws(() => checkPassword('ÀÉ0!ÀÉÀA', defaultPasswordPolicy), policyError('Password must have lowercase characters'));
  assert.throws(() => checkPassword('Passwor٣!', defaultPasswordPolicy), policyError('Password must have numeric characters'));
});

test('every Cognito symbol satisfies RequireSymbols, others do not', () => {
  for (const s of '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+-')
    assert.doesNotThrow(() => checkPassword(`Passw0rd${s}`, defaultPasswordPolicy), s);
  assert.doesNotThrow(() => checkPassword('Pass w0rd', defaultPasswordPolicy), 'inner space');
  for (const s of ['€', '§', '£', 'é'])
    assert.throws(() => checkPassword(`Passw0rd${s}`, defaultPasswordPolicy), policyError('Password must have symbol characters'), s);
});

test('length counts code points', () => {
  const p = { ...none, MinimumLength: 6 };
  assert.throws(() => checkPassword('😀😀😀', p), policyError('Password not long enough')); // 6 UTF-16 units
  assert.doesNotThrow(() => checkPassword('😀😀😀😀😀😀', p));
  assert.doesNotThrow(() => checkPassword('😀'.repeat(256), p)); // 512 UTF-16 units
  assert.throws(() => checkPassword('😀'.repeat(257), p), InvalidParameterException);
});

test('leading/trailing whitespace and >256 are model errors (InvalidParameterException)', () => {
  const pattern = "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\S]+.*[\\S]+$";
  for (const pw of [' Passw0rd!', 'Passw0rd! ', '\tPassw0rd!', 'Passw0rd!\n', 'Pass\nw0rd!'])
    assert.throws(() => checkPassword(pw, defaultPasswordPolicy), { name: 'InvalidParameterException', message: pattern }, JSON.stringify(pw));
  assert.throws(() => checkPassword(' x', defaultPasswordPolicy, 'proposedPassword'), { message: /Value at 'proposedPassword'/ });
  assert.throws(() => checkPassword('Aa0!'.repeat(65), defaultPasswordPolicy), {
    name: 'InvalidParameterException',
    message: "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 256",
  });
  assert.throws(() => checkPassword(' ' + 'a'.repeat(300), defaultPasswordPolicy), { message: /^2 validation errors detected: / });
  assert.doesNotThrow(() => checkPassword('Aa0!'.repeat(64), defaultPasswordPolicy));
  // Java's \S only excludes ASCII whitespace, so a non-breaking space at the end passes the model.
  assert.doesNotThrow(() => checkPassword('Passw0rd!\u00a0', defaultPasswordPolicy));
  // The model check runs before the policy: an empty password is a model error.
  assert.throws(() => checkPassword('', defaultPasswordPolicy), InvalidParameterException);
});
