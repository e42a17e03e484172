// The model-driven validator on its own: Cognito's messages for each kind of constraint.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledModel, cognitoModel, compilePattern, checkDepth } from '../src/wire/model.js';

const model = cognitoModel();

function failure(op: string, body: unknown): { name: string; message: string } {
  try {
    model.validateInput(op, body);
  } catch (e) {
    return { name: (e as Error).name, message: (e as Error).message };
  }
  assert.fail(`${op} accepted ${JSON.stringify(body)}`);
}

test('one violation: Cognito message with the lower-camel member path', () => {
  assert.deepEqual(failure('AdminGetUser', { UserPoolId: 'YOUR_USER_POOL_ID!', Username: 'a' }), {
    name: 'InvalidParameterException',
    message: "1 validation error detected: Value 'YOUR_USER_POOL_ID!' at 'userPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
  });
});

test('several violations are counted and joined with "; "', () => {
  const { message } = failure('AdminGetUser', {});
  assert.equal(message, "2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null; Value at 'username' failed to satisfy constraint: Member must not be null");
});

test('sensitive values are left out of messages', () => {
  const { message } = failure('SignUp', { ClientId: 'c', Username: 'x'.repeat(129), Password: 'has space' });
  assert.match(message, /^2 validation errors detected: /);
  assert.ok(message.includes("Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128"), message);
  assert.ok(message.includes("Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+"), message);
  assert.ok(!message.includes('xxxx') && !message.includes('has space'), message);
});

test('members of a sensitive structure are hidden too', () => {
  const { message } = failure('InitiateAuth', { ClientId: 'c', AuthFlow: 'USER_SRP_AUTH', UserContextData: { IpAddress: 'secret\u0000' } });
  assert.equal(message, "1 validation error detected: Value at 'userContextData.ipAddress' failed to satisfy constraint: Member must not contain the character U+0000");
});

test('list members are named as Cognito names them (userAttributes.1.member.name)', () => {
  const { message } = failure('AdminUpdateUserAttributes', { UserPoolId: 'local_abc', Username: 'u', UserAttributes: [{ Name: 'email', Value: 'a' }, { Value: 'b' }, { Name: 'n'.repeat(33) }] });
  assert.equal(message, "2 validation errors detected: Value null at 'userAttributes.2.member.name' failed to satisfy constraint: Member must not be null; Value 'nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn' at 'userAttributes.3.member.name' failed to satisfy constraint: Member must have length less than or equal to 32");
});

test('lists of strings report the member constraints at the list', () => {
  const { message } = failure('ListUsers', { UserPoolId: 'local_abc', AttributesToGet: ['email', 'x'.repeat(33)] });
  assert.equal(message, `1 validation error detected: Value '[email, ${'x'.repeat(33)}]' at 'attributesToGet' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 32, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r ]+]`);
});

test('enums, integer ranges and list sizes', () => {
  assert.equal(failure('InitiateAuth', { ClientId: 'c', AuthFlow: 'PLAIN' }).message,
    "1 validation error detected: Value 'PLAIN' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]");
  assert.equal(failure('ListUsers', { UserPoolId: 'local_abc', Limit: 61 }).message,
    "1 validation error detected: Value '61' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60");
  assert.equal(failure('CreateUserPoolClient', { UserPoolId: 'local_abc', ClientName: 'c', AllowedOAuthFlows: ['code', 'code', 'code', 'code'] }).message,
    "1 validation error detected: Value '[code, code, code, code]' at 'allowedOAuthFlows' failed to satisfy constraint: Member must have length less than or equal to 3");
});

test('nested structures are checked (policies.passwordPolicy.minimumLength)', () => {
  assert.equal(failure('CreateUserPool', { PoolName: 'p', Policies: { PasswordPolicy: { MinimumLength: 5 } } }).message,
    "1 validation error detected: Value '5' at 'policies.passwordPolicy.minimumLength' failed to satisfy constraint: Member must have value greater than or equal to 6");
});

test('string length counts characters, not UTF-16 units', () => {
  // 32 astral characters are 64 UTF-16 units: within a 32-character limit.
  model.validateInput('AdminDeleteUserAttributes', { UserPoolId: 'local_abc', Username: 'u', UserAttributeNames: ['\u{1F600}'.repeat(32)] });
  assert.match(failure('AdminDeleteUserAttributes', { UserPoolId: 'local_abc', Username: 'u', UserAttributeNames: ['\u{1F600}'.repeat(33)] }).message, /less than or equal to 32/);
});

test('wrong JSON types are SerializationExceptions worded as AWS JSON 1.1 words them', () => {
  assert.deepEqual(failure('SignUp', { ClientId: 5, Username: 'u', Password: 'p' }),
    { name: 'SerializationException', message: 'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String' });
  assert.equal(failure('SignUp', { ClientId: true }).message, 'class java.lang.Boolean can not be converted to an String');
  assert.equal(failure('SignUp', { ClientId: {} }).message, 'Start of structure or map found where not expected.');
  assert.equal(failure('SignUp', { ClientId: [] }).message, 'Start of list found where not expected.');
  assert.equal(failure('ListUsers', { UserPoolId: 'local_abc', Limit: '5' }).message, 'STRING_VALUE can not be converted to an Integer');
  assert.equal(failure('ListUsers', { UserPoolId: 'local_abc', Limit: 1.5 }).message, 'NUMBER_VALUE can not be converted to an Integer');
  assert.equal(failure('AdminDisableProviderForUser', { UserPoolId: 'local_abc', User: 'x' }).message, 'STRING_VALUE can not be converted to a Structure');
  assert.equal(failure('CreateUserPoolClient', { UserPoolId: 'local_abc', ClientName: 'c', GenerateSecret: 'true' }).message, 'STRING_VALUE can not be converted to a Boolean');
  assert.equal(failure('InitiateAuth', { ClientId: 'c', AuthFlow: 'USER_SRP_AUTH', AuthParameters: { USERNAME: 1 } }).message,
    'class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String');
  // A type error wins over constraint violations found before it.
  assert.equal(failure('SignUp', { Username: '', ClientId: 1 }).name, 'SerializationException');
});

test('unknown members are ignored, null members count as absent', () => {
  model.validateInput('AdminGetUser', { UserPoolId: 'local_abc', Username: 'u', Whatever: { deep: [1, 2] } });
  model.validateInput('ListUsers', { UserPoolId: 'local_abc', Limit: null, Filter: null });
});

test('NUL is refused in strings, map keys and map values', () => {
  assert.match(failure('AdminGetUser', { UserPoolId: 'local_abc', Username: 'a\u0000b' }).message, /Value at 'username' failed to satisfy constraint: Member must not contain the character U\+0000/);
  assert.match(failure('SignUp', { ClientId: 'c', Username: 'u', Password: 'p', ClientMetadata: { 'k\u0000': 'v' } }).message, /at 'clientMetadata' failed to satisfy constraint: Member must not contain the character U\+0000/);
});

test('over-deep JSON is refused without recursion', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(() => checkDepth(deep), { name: 'SerializationException' });
  assert.throws(() => model.validateInput('AdminGetUser', { UserPoolId: 'local_abc', Username: 'u', X: deep }), { name: 'SerializationException' });
});

test('Java patterns translate: \\p classes, (?s), lookbehind, whole-value match', () => {
  assert.ok(compilePattern('[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+').test('Zoë_1'));
  assert.ok(!compilePattern('[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+').test('a b'));
  assert.ok(compilePattern('(?s).*').test('a\nb'));
  assert.ok(!compilePattern('^[0-9A-Za-z\\.\\-_]*(?<!\\.)$').test('abc.'));
  assert.ok(!compilePattern('[\\w-]+_[0-9a-zA-Z]+').test('x_y z'));
  // Every pattern of the model compiles.
  for (const name of Object.keys(model.model.shapes)) model.shape(name);
  assert.ok(new CompiledModel(model.model));
});

test('response check: wrong types, missing required members and members the model lacks are drifts', () => {
  assert.deepEqual(model.checkOutput('AdminGetUser', { Username: 'u', UserStatus: 'CONFIRMED', Enabled: true, UserCreateDate: 1.5 }), []);
  assert.deepEqual(model.checkOutput('AdminGetUser', { UserStatus: 'WEIRD', Enabled: 'yes', UserCreateDate: '2020', Extra: 1 }), [
    'AdminGetUser: member Extra is not in AdminGetUserResponse',
    'AdminGetUser: required member Username of AdminGetUserResponse is missing',
    'AdminGetUser.Enabled: expected boolean BooleanType, got string',
    'AdminGetUser.UserCreateDate: expected number (timestamp) DateType, got string',
    'AdminGetUser.UserStatus: a value outside enum UserStatusType',
  ]);
  assert.deepEqual(model.checkOutput('GlobalSignOut', {}), []);
});

test('a list shown whole in its message is hidden when its items may carry sensitive values', () => {
  const m = new CompiledModel({
    metadata: {}, operations: { Op: { name: 'Op', input: { shape: 'In' } } },
    shapes: {
      In: { type: 'structure', members: { Items: { shape: 'Items' } } },
      Items: { type: 'list', max: 1, member: { shape: 'Item' } },
      Item: { type: 'structure', members: { Secret: { shape: 'Secret' } } },
      Secret: { type: 'string', sensitive: true },
    },
  });
  assert.throws(() => m.validateInput('Op', { Items: [{ Secret: 'hunter2' }, { Secret: 'hunter3' }] }), {
    message: "1 validation error detected: Value at 'items' failed to satisfy constraint: Member must have length less than or equal to 1",
  });
});
