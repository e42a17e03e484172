// The operation table. Each handler is typed from Cognito's API model (src/shapes.ts, generated):
// its input is the operation's request shape, already checked by the validator and stripped of
// members the model does not have; its answer must be the response shape, so a handler that leaves
// out a required member, or answers one the model lacks, does not compile. Whether a call must be
// signed comes from the model too (its 32 `authtype: none` operations), never from the handler.
import type { Ctx } from '../domain/context.js';
import { UNSIGNED_OPERATIONS, type OperationName, type OperationShapes } from '../shapes.js';

export interface RequestInfo { ip: string; headers: Record<string, string | string[] | undefined> }
export type OperationInput<N extends OperationName> = OperationShapes[N]['input'];
export type OperationOutput<N extends OperationName> = OperationShapes[N]['output'];
export type Handler<N extends OperationName, R = OperationOutput<N>> = (ctx: Ctx, input: OperationInput<N>, req: RequestInfo) => Promise<R>;

/** Paths (".User.Extra", ".Users[].Extra") of members an answer `R` has and the model's shape `T` lacks. */
type Extra<R, T, P extends string = ''> =
  R extends readonly (infer RI)[] ? (T extends readonly (infer TI)[] ? Extra<RI, TI, `${P}[]`> : never)
  : R extends object ? { [K in keyof R]-?: K extends keyof T ? Extra<R[K], NonNullable<T[K]>, `${P}.${K & string}`> : `${P}.${K & string}` }[keyof R]
  : never;
/** TypeScript checks excess members only on object literals it assigns directly; answers are checked whole here. */
type Exact<R, T> = [Extra<R, T>] extends [never] ? unknown : { membersTheModelLacks: Extra<R, T> };

/** A registered operation; the server hands its handler the input readInput made of the body. */
export interface Operation { name: OperationName; signed: boolean; handler: (ctx: Ctx, input: object, req: RequestInfo) => Promise<object> }

/** name -> handler, and whether it needs an AWS signature. */
export const operations = new Map<string, Operation>();
const unsigned = new Set<string>(UNSIGNED_OPERATIONS);

/** Registers an operation: `op('SignUp', async (ctx, input, req) => ({ UserConfirmed: false, UserSub }))`. */
export function op<N extends OperationName, R extends OperationOutput<N>>(name: N, handler: Handler<N, R> & Exact<R, OperationOutput<N>>) {
  if (operations.has(name)) throw new Error(`operation ${name} is registered twice`);
  operations.set(name, { name, signed: !unsigned.has(name), handler: handler as unknown as Operation['handler'] });
}
