// Operation handlers, one module per area. To add an operation, register it in its area's module
// (imported here): `op('Name', async (ctx, input, req) => answer)`. `input` is the model's request
// shape, already validated and stripped to the model's members; the answer must fit the response
// shape (tsc refuses a missing required member or one the model lacks); refusals are the classes of
// errors.ts. Check here only what the model cannot say. Signing follows the model, not the handler.
import './auth.js';
import './signup.js';
import './self.js';
import './admin-users.js';
import './pools.js';
import './groups.js';
import './auth-events.js';
import './user-import.js';
import './hosted.js';
import './identity-providers.js';
import './mfa.js';
import './devices.js';
import './webauthn.js';
import './auth-factors.js';
