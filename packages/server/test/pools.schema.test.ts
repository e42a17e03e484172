// A pool's schema as Cognito keeps it: CreateUserPool's schema rules, AddCustomAttributes, and
// DescribeUserPool's user count. Differences found by trying Gatehouse with boto3 and the AWS CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddCustomAttributesCommand, AdminCreateUserCommand, AdminDeleteUserCommand, AdminGetUserCommand, AdminUpdateUserAttributesCommand,
  CreateUserPoolCommand, DescribeUserPoolCommand, UpdateUserPoolCommand, type SchemaAttributeType,
} from '@aws-sdk/client-cognito-identity-provider';
import { startGatehouse, refusal, type Gatehouse } from './support/harness.js';

let gh: Gatehouse;
before(async () => { gh = await startGatehouse(); });
after(async () => { await gh?.stop(); });


const createPool = (Schema: SchemaAttributeType[]) => gh.admin.send(new CreateUserPoolCommand({ PoolName: 'schema', Schema }));

async function schemaOf(poolId: string) {
  return (await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }))).UserPool!.SchemaAttributes!;
}

test('CreateUserPool: a custom attribute without AttributeDataType is refused', async () => {
  assert.equal(await refusal(createPool([{ Name: 'plan' }])),
    'InvalidParameterException: Invalid AttributeDataType input, consider using the provided AttributeDataType enum.');
});

test('CreateUserPool: standard attributes keep their type and cannot be developer-only', async () => {
  assert.equal(await refusal(createPool([{ Name: 'email', AttributeDataType: 'Number' }])),
    'InvalidParameterException: You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email');
  assert.equal(await refusal(createPool([{ Name: 'email_verified', AttributeDataType: 'String' }])),
    'InvalidParameterException: You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute email_verified');
  assert.equal(await refusal(createPool([{ Name: 'nickname', AttributeDataType: 'String', DeveloperOnlyAttribute: true }])),
    'InvalidParameterException: You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute nickname');
  // Restating a standard attribute's own type is fine.
  const { UserPool } = await createPool([{ Name: 'email', AttributeDataType: 'String', Required: true }]);
  assert.equal((await schemaOf(UserPool!.Id!)).find((a) => a.Name === 'email')!.Required, true);
});

test('CreateUserPool: string constraints are capped at 2048', async () => {
  assert.equal(await refusal(createPool([{ Name: 'bio', AttributeDataType: 'String', StringAttributeConstraints: { MaxLength: '2049' } }])),
    'InvalidParameterException: user.custom:bio: String attributes cannot have a length of more than 2048');
  assert.equal(await refusal(createPool([{ Name: 'name', StringAttributeConstraints: { MinLength: '1', MaxLength: '4096' } }])),
    'InvalidParameterException: user.name: String attributes cannot have a length of more than 2048');
  assert.equal(await refusal(createPool([{ Name: 'bio', AttributeDataType: 'String', StringAttributeConstraints: { MaxLength: 'ten' } }])),
    'InvalidParameterException: Invalid StringAttributeConstraints for schema attribute custom:bio');
  const { UserPool } = await createPool([{ Name: 'bio', AttributeDataType: 'String', StringAttributeConstraints: { MinLength: '0', MaxLength: '2048' } }]);
  assert.deepEqual((await schemaOf(UserPool!.Id!)).find((a) => a.Name === 'custom:bio')!.StringAttributeConstraints, { MinLength: '0', MaxLength: '2048' });
});

test('CreateUserPool: MinLength above MaxLength and MinValue above MaxValue are refused', async () => {
  assert.equal(await refusal(createPool([{ Name: 'code', AttributeDataType: 'String', StringAttributeConstraints: { MinLength: '10', MaxLength: '5' } }])),
    'InvalidParameterException: user.custom:code: Max length cannot be less than min length.');
  assert.equal(await refusal(createPool([{ Name: 'age', AttributeDataType: 'Number', NumberAttributeConstraints: { MinValue: '100', MaxValue: '18' } }])),
    'InvalidParameterException: user.custom:age: Max value cannot be less than min value.');
  const { UserPool } = await createPool([{ Name: 'age', AttributeDataType: 'Number', NumberAttributeConstraints: { MinValue: '-5', MaxValue: '150' } }]);
  const age = (await schemaOf(UserPool!.Id!)).find((a) => a.Name === 'custom:age')!;
  assert.equal(age.AttributeDataType, 'Number');
  assert.deepEqual(age.NumberAttributeConstraints, { MinValue: '-5', MaxValue: '150' });
});

test('AddCustomAttributes adds attributes users can then hold; DescribeUserPool shows them', async () => {
  const { UserPool } = await createPool([{ Name: 'plan', AttributeDataType: 'String' }]);
  const poolId = UserPool!.Id!;
  await gh.admin.send(new AddCustomAttributesCommand({ UserPoolId: poolId, CustomAttributes: [
    { Name: 'tier', AttributeDataType: 'String', Mutable: true, StringAttributeConstraints: { MaxLength: '16' } },
    { Name: 'custom:score', AttributeDataType: 'Number' },
    { Name: 'secret', AttributeDataType: 'String', DeveloperOnlyAttribute: true },
  ] }));
  const names = (await schemaOf(poolId)).map((a) => a.Name);
  for (const n of ['custom:plan', 'custom:tier', 'custom:score', 'dev:custom:secret']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: 'holder', MessageAction: 'SUPPRESS', UserAttributes: [{ Name: 'custom:tier', Value: 'gold' }] }));
  await gh.admin.send(new AdminUpdateUserAttributesCommand({ UserPoolId: poolId, Username: 'holder', UserAttributes: [{ Name: 'custom:score', Value: '7' }] }));
  const attrs = (await gh.admin.send(new AdminGetUserCommand({ UserPoolId: poolId, Username: 'holder' }))).UserAttributes!;
  assert.equal(attrs.find((a) => a.Name === 'custom:tier')?.Value, 'gold');
  assert.equal(attrs.find((a) => a.Name === 'custom:score')?.Value, '7');
});

test('AddCustomAttributes refuses names already taken, standard names and CreateUserPool\'s schema mistakes', async () => {
  const { UserPool } = await createPool([{ Name: 'plan', AttributeDataType: 'String' }]);
  const add = (CustomAttributes: SchemaAttributeType[]) => refusal(gh.admin.send(new AddCustomAttributesCommand({ UserPoolId: UserPool!.Id!, CustomAttributes })));
  assert.equal(await add([{ Name: 'plan', AttributeDataType: 'String' }]), 'InvalidParameterException: custom:plan: Existing attribute already has name custom:plan.');
  assert.equal(await add([{ Name: 'custom:plan', AttributeDataType: 'Number' }]), 'InvalidParameterException: custom:plan: Existing attribute already has name custom:plan.');
  assert.equal(await add([{ Name: 'fresh', AttributeDataType: 'String' }, { Name: 'fresh', AttributeDataType: 'String' }]),
    'InvalidParameterException: custom:fresh: Existing attribute already has name custom:fresh.');
  assert.match(await add([{ Name: 'email', AttributeDataType: 'String' }]), /^InvalidParameterException: custom:email: Existing attribute already has name email\./);
  assert.equal(await add([{ Name: 'untyped' }]), 'InvalidParameterException: Invalid AttributeDataType input, consider using the provided AttributeDataType enum.');
  assert.equal(await add([{ Name: 'long', AttributeDataType: 'String', StringAttributeConstraints: { MaxLength: '5000' } }]),
    'InvalidParameterException: user.custom:long: String attributes cannot have a length of more than 2048');
  // A refused call adds nothing, not even its valid entries.
  assert.ok(!(await schemaOf(UserPool!.Id!)).some((a) => a.Name === 'custom:fresh'));
});

test('AddCustomAttributes: a pool holds at most 50 custom attributes', async () => {
  const batch = (from: number) => Array.from({ length: 25 }, (_, i) => ({ Name: `a${from + i}`, AttributeDataType: 'String' as const }));
  const { UserPool } = await createPool(batch(0));
  const poolId = UserPool!.Id!;
  await gh.admin.send(new AddCustomAttributesCommand({ UserPoolId: poolId, CustomAttributes: batch(25) }));
  assert.match(await refusal(gh.admin.send(new AddCustomAttributesCommand({ UserPoolId: poolId, CustomAttributes: [{ Name: 'one_more', AttributeDataType: 'String' }] }))),
    /^InvalidParameterException: .*at most 50 custom attributes/);
  assert.equal((await schemaOf(poolId)).filter((a) => a.Name!.startsWith('custom:')).length, 50);
});

test('lost update: parallel AddCustomAttributes and UpdateUserPool calls all take effect', async () => {
  const { UserPool } = await createPool([{ Name: 'base', AttributeDataType: 'String' }]);
  const poolId = UserPool!.Id!;
  await Promise.all([
    ...Array.from({ length: 8 }, (_, i) => gh.admin.send(new AddCustomAttributesCommand({ UserPoolId: poolId, CustomAttributes: [{ Name: `p${i}`, AttributeDataType: 'String' }] }))),
    gh.admin.send(new UpdateUserPoolCommand({ UserPoolId: poolId, UserPoolTags: { team: 'identity' } })),
  ]);
  const pool = (await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }))).UserPool!;
  const names = pool.SchemaAttributes!.map((a) => a.Name);
  for (let i = 0; i < 8; i++) assert.ok(names.includes(`custom:p${i}`), `custom:p${i} kept`);
  assert.ok(names.includes('custom:base'));
  assert.deepEqual(pool.UserPoolTags, { team: 'identity' });
});

test('DescribeUserPool counts the pool\'s users in EstimatedNumberOfUsers', async () => {
  const { UserPool } = await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'counted' }));
  const poolId = UserPool!.Id!;
  assert.equal(UserPool!.EstimatedNumberOfUsers, 0);
  const count = async () => (await gh.admin.send(new DescribeUserPoolCommand({ UserPoolId: poolId }))).UserPool!.EstimatedNumberOfUsers;
  assert.equal(await count(), 0);
  for (const u of ['c1', 'c2', 'c3']) await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: u, MessageAction: 'SUPPRESS' }));
  // Another pool's users are not counted.
  const other = (await gh.admin.send(new CreateUserPoolCommand({ PoolName: 'other' }))).UserPool!.Id!;
  await gh.admin.send(new AdminCreateUserCommand({ UserPoolId: other, Username: 'c1', MessageAction: 'SUPPRESS' }));
  assert.equal(await count(), 3);
  await gh.admin.send(new AdminDeleteUserCommand({ UserPoolId: poolId, Username: 'c2' }));
  assert.equal(await count(), 2);
});
