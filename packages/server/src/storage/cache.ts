import type { Repository, Pool, Client } from './repository.js';

/**
 * Keeps pool and client rows for a moment: every request reads both, and they change rarely.
 * Writes through this process clear its copy at once; other processes see a change within ttlMs.
 */
export function withConfigCache(repo: Repository, ttlMs: number, now: () => number = Date.now): Repository {
  const pools = new Map<string, { at: number; row: Pool }>();
  const clients = new Map<string, { at: number; row: Client }>();
  const read = async <T>(cache: Map<string, { at: number; row: T }>, id: string, load: () => Promise<T | undefined>) => {
    const hit = cache.get(id);
    if (hit && now() - hit.at < ttlMs) return hit.row;
    const row = await load();
    if (row) cache.set(id, { at: now(), row });
    else cache.delete(id);
    return row;
  };
  const cached: Partial<Repository> = {
    getPool: (id) => read(pools, id, () => repo.getPool(id)),
    getClient: (id) => read(clients, id, () => repo.getClient(id)),
    updatePool: async (id, patch, ifConfig) => { pools.delete(id); const done = await repo.updatePool(id, patch, ifConfig); pools.delete(id); return done; },
    deletePool: async (id) => { pools.delete(id); clients.clear(); return repo.deletePool(id); },
    updateClient: async (id, patch) => { clients.delete(id); await repo.updateClient(id, patch); clients.delete(id); },
    deleteClient: async (id) => { clients.delete(id); return repo.deleteClient(id); },
  };
  return Object.assign(Object.create(repo), cached) as Repository;
}
