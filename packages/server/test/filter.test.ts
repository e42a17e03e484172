import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseUserFilter } from '../src/domain/filter.js';
import { InvalidParameterException } from '../src/errors.js';

test('empty or missing filter means no filter', () => {
  assert.equal(parseUserFilter(undefined), undefined);
  assert.equal(parseUserFilter(''), undefined);
  assert.equal(parseUserFilter('   \t'), undefined);
});

test('exact and prefix matches, with or without spaces around the operator', () => {
  const email = { attribute: 'email', op: 'eq', value: 'a@b.c' };
  assert.deepEqual(parseUserFilter('email="a@b.c"'), email);
  assert.deepEqual(parseUserFilter('email = "a@b.c"'), email);
  assert.deepEqual(parseUserFilter('  email   =   "a@b.c"  '), email);
  assert.deepEqual(parseUserFilter('phone_number ^= "+4474"'), { attribute: 'phone_number', op: 'prefix', value: '+4474' });
  assert.deepEqual(parseUserFilter('family_name^="Red"'), { attribute: 'family_name', op: 'prefix', value: 'Red' });
});

test('every searchable attribute is accepted', () => {
  for (const a of ['username', 'email', 'phone_number', 'name', 'given_name', 'family_name', 'preferred_username', 'cognito:user_status', 'status', 'sub'])
    assert.equal(parseUserFilter(`${a} = "x"`)?.attribute, a);
  assert.deepEqual(parseUserFilter('cognito:user_status = "FORCE_CHANGE_PASSWORD"'), {
    attribute: 'cognito:user_status',
    op: 'eq',
    value: 'FORCE_CHANGE_PASSWORD',
  });
  assert.deepEqual(parseUserFilter('status = "Disabled"'), { attribute: 'status', op: 'eq', value: 'Disabled' });
});

test('values keep inner spaces and honour backslash escapes', () => {
  assert.equal(parseUserFilter('name = "Jane  Doe "')?.value, 'Jane  Doe ');
  assert.equal(parseUserFilter('name = "say \\"hi\\""')?.value, 'say "hi"');
  assert.equal(parseUserFilter('name = "back\\\\slash"')?.value, 'back\\slash');
  assert.equal(parseUserFilter('name = "a=b ^= c"')?.value, 'a=b ^= c');
  assert.equal(parseUserFilter('email ^= ""')?.value, '');
});

test('non-searchable attributes are rejected', () => {
  for (const f of ['custom:tier = "gold"', 'email_verified = "true"', 'Email = "a@b.c"', 'address = "x"'])
    assert.throws(() => parseUserFilter(f), { name: 'InvalidParameterException', message: /^Invalid search attribute/ }, f);
});

test('malformed filters are rejected like Cognito', () => {
  const bad = [
    'foo',
    'preferred_username=nickname0', // unquoted value
    "email = 'a@b.c'", // single quotes
    'email == "a@b.c"',
    'email != "a@b.c"',
    'email "a@b.c"',
    'email = "a@b.c',
    'email = "a"b"',
    'email = "a@b.c" and name = "x"',
    '= "x"',
    'email ^ = "x"',
    'email = "ends with backslash\\"',
  ];
  for (const f of bad) {
    assert.throws(() => parseUserFilter(f), InvalidParameterException, f);
    assert.throws(() => parseUserFilter(f), { message: 'Error while parsing filter.' }, f);
  }
});
