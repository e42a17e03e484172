// Hosted sign-in: the OAuth 2.0 / OpenID Connect endpoints and the managed login pages, at the
// server's root (the pool found from client_id) and under each domain prefix (CreateUserPoolDomain).
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { registerDiscovery, registerEndpoints } from './endpoints.js';
import { registerPages } from './pages.js';

export function registerHosted(app: FastifyInstance, ctx: Ctx) {
  registerDiscovery(app, ctx);
  for (const base of ['', '/:domain']) {
    registerEndpoints(app, ctx, base);
    registerPages(app, ctx, base);
  }
}
