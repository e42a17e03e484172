// Handlers are typed from Cognito's model: src/shapes.ts is generated from it and must be current,
// whether a call is signed follows the model (the wire sheet's 32 unsigned operations), and a
// handler whose answer drifts from the output shape does not compile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { renderShapes, SHAPES_FILE } from '../../../scripts/shapes.js';
import { UNSIGNED_OPERATIONS } from '../src/shapes.js';
import '../src/ops/index.js';
import { operations } from '../src/wire/operations.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('src/shapes.ts is up to date with the model (run npm run shapes)', () => {
  assert.ok(fs.readFileSync(SHAPES_FILE, 'utf8') === renderShapes(), 'src/shapes.ts is out of date: run `npm run shapes` and commit it');
});

// docs: /work/shared/docs/cognito-wire.md, "Transport".
const WIRE_SHEET_UNSIGNED = [
  'AssociateSoftwareToken', 'ChangePassword', 'CompleteWebAuthnRegistration', 'ConfirmDevice', 'ConfirmForgotPassword', 'ConfirmSignUp',
  'DeleteUser', 'DeleteUserAttributes', 'DeleteWebAuthnCredential', 'ForgetDevice', 'ForgotPassword', 'GetDevice',
  'GetTokensFromRefreshToken', 'GetUser', 'GetUserAttributeVerificationCode', 'GetUserAuthFactors', 'GlobalSignOut', 'InitiateAuth',
  'ListDevices', 'ListWebAuthnCredentials', 'ResendConfirmationCode', 'RespondToAuthChallenge', 'RevokeToken', 'SetUserMFAPreference',
  'SetUserSettings', 'SignUp', 'StartWebAuthnRegistration', 'UpdateAuthEventFeedback', 'UpdateDeviceStatus', 'UpdateUserAttributes',
  'VerifySoftwareToken', 'VerifyUserAttribute',
];

test('exactly the wire sheet\'s 32 unsigned operations are served without a signature; every other one needs SigV4', () => {
  assert.deepEqual([...UNSIGNED_OPERATIONS].sort(), [...WIRE_SHEET_UNSIGNED].sort());
  assert.ok(operations.size > 50);
  for (const [name, op] of operations) assert.equal(op.signed, !WIRE_SHEET_UNSIGNED.includes(name), name);
});

/** Type-checks `source` as if it were a file beside this test, and returns its error messages. */
function compileErrors(source: string): string[] {
  const file = path.join(here, '__handler_drift__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  const getSource = host.getSourceFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? source : read(f));
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  host.getSourceFile = (f, v, ...rest) => (path.resolve(f) === file ? ts.createSourceFile(f, source, v) : getSource(f, v, ...rest));
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
    .map((d) => `${sf.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

test('a handler answering a member the model lacks, or leaving out a required one, does not compile', () => {
  const errors = compileErrors([
    "import { op } from '../src/wire/operations.js';",
    "op('SignUp', async () => ({ UserConfirmed: false, UserSub: 's' }));", // fits: no error
    "op('SignUp', async () => ({ UserConfirmed: false }));", // UserSub is required
    "op('SignUp', async () => ({ UserConfirmed: false, UserSub: 's', Secret: 'x' }));",
    "op('AdminGetUser', async () => ({ Username: 'u', UserAttributes: [{ Name: 'a', Value: 'b', Extra: 1 }] }));",
    "op('ListUsers', async (_ctx, input) => ({ Users: [], Limit: input.Limit }));",
    "op('InitiateAuth', async (_ctx, input) => ({ ChallengeName: 'NOT_A_CHALLENGE' as const, Session: input.ClientId }));",
    "op('NotAnOperation', async () => ({}));",
    "op('GetUser', async (_ctx, input) => ({ Username: input.Username, UserAttributes: [] }));", // GetUser's input has no Username
  ].join('\n'));
  const on = (line: number) => errors.filter((e) => e.startsWith(`${line}: `)).join('\n');
  assert.equal(on(2), '', errors.join('\n'));
  assert.match(on(3), /UserSub/);
  assert.match(on(4), /membersTheModelLacks: "\.Secret"/);
  assert.match(on(5), /membersTheModelLacks: "\.UserAttributes\[\]\.Extra"/);
  assert.match(on(6), /membersTheModelLacks: "\.Limit"/);
  assert.match(on(7), /NOT_A_CHALLENGE/);
  assert.match(on(8), /NotAnOperation/);
  assert.match(on(9), /Property 'Username' does not exist on type 'GetUserRequest'/);
  assert.deepEqual([...new Set(errors.map((e) => Number(e.split(':')[0])))], [3, 4, 5, 6, 7, 8, 9], errors.join('\n'));
});
