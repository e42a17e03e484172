// Hosted sign-in: the OAuth 2.0 / OpenID Connect endpoints and the managed login pages, at the
// server's root (the pool found from client_id) and under each domain prefix (CreateUserPoolDomain).
import type { FastifyInstance } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { registerDiscovery, registerEndpoints } from './endpoints.js';
import { registerPages } from './pages.js';
import { registerFederation } from './federation.js';

export function registerHosted(app: FastifyInstance, ctx: Ctx) {
  registerDiscovery(app, ctx);
  // The logo SetUICustomization stored (GetUICustomization's ImageUrl).
  app.get('/:poolId/ui/:clientId/logo', async (req, reply) => {
    const { poolId, clientId } = req.params as { poolId: string; clientId: string };
    const row = await ctx.repo.getUiCustomization(poolId, clientId);
    if (!row?.image) return reply.code(404).send({});
    const bytes = Buffer.from(row.image, 'base64');
    return reply.type(bytes[0] === 0x89 ? 'image/png' : 'image/jpeg').header('cache-control', 'public, max-age=300').header('x-content-type-options', 'nosniff').send(bytes);
  });
  for (const base of ['', '/:domain']) {
    registerEndpoints(app, ctx, base);
    registerPages(app, ctx, base);
    registerFederation(app, ctx, base);
  }
}
