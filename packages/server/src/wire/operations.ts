import type { Input } from './input.js';
import type { Ctx } from '../domain/context.js';

export interface RequestInfo { ip: string; headers: Record<string, string | string[] | undefined> }
export type Handler = (ctx: Ctx, input: Input, req: RequestInfo) => Promise<object>;
export interface Operation { signed: boolean; handler: Handler }

/** The operation table: name -> handler, and whether it needs an AWS signature. */
export const operations = new Map<string, Operation>();

export function publicOp(name: string, handler: Handler) { operations.set(name, { signed: false, handler }); }
export function adminOp(name: string, handler: Handler) { operations.set(name, { signed: true, handler }); }
