// The PreSignedUrl of a user import job: `PUT /import/<jobId>?token=<token>` takes the CSV file, as
// the S3 URL Cognito hands out does (`curl -T users.csv "<PreSignedUrl>"`). The body streams into
// the database in chunks, so the file never sits whole in memory and any process can run the job.
// Also starts this process's import runner, and stops it (handing its job back) on close.
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Ctx } from '../domain/context.js';
import { safeEqual } from '../domain/secrets.js';
import { CsvScanner, IMPORT_CHUNK_BYTES, IMPORT_MAX_BYTES, importRunner, loadImportJob, noteListeningPort, uploadToken } from '../domain/user-import.js';

const xml = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Errors as S3 writes them. The connection closes, so an unread body is not read. */
function s3Error(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).header('content-type', 'application/xml').header('connection', 'close')
    .send(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xml(message)}</Message></Error>`);
}

class TooLarge extends Error {}

export function registerImportUpload(app: FastifyInstance, ctx: Ctx) {
  const runner = importRunner(ctx);
  app.addHook('onReady', async () => runner.start());
  app.addHook('onListen', async () => {
    const addr = app.server.address();
    if (addr && typeof addr === 'object') noteListeningPort(ctx, addr.port);
  });
  app.addHook('preClose', async () => runner.stop());

  app.register(async (scope) => {
    // Here the body is not parsed: the handler reads it as a stream.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));

    scope.put('/import/:jobId', async (req, reply) => {
      try {
        return await upload(ctx, req, reply);
      } catch (e) {
        // Logged here, not by the app's error handler: that one logs the URL, which holds the token.
        ctx.log.error('user import upload failed', { error: String((e as Error)?.stack ?? e) });
        return s3Error(reply, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      }
    });
  });
}

/** Takes one upload: checks the token and the job, streams the body into chunks, then commits it. */
async function upload(ctx: Ctx, req: FastifyRequest, reply: FastifyReply) {
  const { jobId } = req.params as { jobId: string };
  const { token } = req.query as { token?: unknown };
  const given = typeof token === 'string' ? token : '';
  // Compared in constant time; a malformed job id gets the same answer as a wrong token.
  const ok = /^import-[0-9a-zA-Z-]{1,48}$/.test(jobId) && safeEqual(given, uploadToken(ctx, jobId));
  const job = ok ? await loadImportJob(ctx, jobId) : undefined;
  if (!ok || !job) return s3Error(reply, 403, 'AccessDenied', 'Invalid or missing upload token.');
  if (job.status !== 'Created') return s3Error(reply, 409, 'InvalidJobState', `The import job is ${job.status}; its file can only be uploaded before it is started.`);
  const declared = Number(req.headers['content-length']);
  if (declared > IMPORT_MAX_BYTES) return s3Error(reply, 413, 'EntityTooLarge', `The file is larger than ${IMPORT_MAX_BYTES} bytes.`);

  const uploadId = crypto.randomUUID();
  const md5 = crypto.createHash('md5');
  const scanner = new CsvScanner();
  let bytes = 0;
  let seq = 0;
  let parts: Buffer[] = [];
  let pending = 0;
  const store = async (data: Buffer) => { await ctx.repo.putImportChunk({ job_id: jobId, upload_id: uploadId, seq: seq++, data }); };
  try {
    const body = req.body as Readable | undefined;
    if (body && typeof body[Symbol.asyncIterator] === 'function') {
      for await (const piece of body as AsyncIterable<Buffer | string>) {
        const buf = typeof piece === 'string' ? Buffer.from(piece) : piece;
        bytes += buf.length;
        if (bytes > IMPORT_MAX_BYTES) throw new TooLarge();
        md5.update(buf);
        await scanner.feed(buf);
        parts.push(buf);
        pending += buf.length;
        while (pending >= IMPORT_CHUNK_BYTES) {
          const all = parts.length === 1 ? parts[0] : Buffer.concat(parts);
          await store(all.subarray(0, IMPORT_CHUNK_BYTES));
          parts = [all.subarray(IMPORT_CHUNK_BYTES)];
          pending -= IMPORT_CHUNK_BYTES;
        }
      }
    }
    if (pending > 0) await store(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    await scanner.end();
  } catch (e) {
    await ctx.repo.deleteImportChunks(jobId, uploadId).catch(() => {});
    if (e instanceof TooLarge) return s3Error(reply, 413, 'EntityTooLarge', `The file is larger than ${IMPORT_MAX_BYTES} bytes.`);
    ctx.log.info('user import upload aborted', { jobId, bytes, error: String((e as Error)?.message ?? e) });
    return s3Error(reply, 400, 'IncompleteBody', 'The upload did not complete.');
  }
  const now = ctx.now();
  const won = await ctx.repo.commitImportUpload(jobId, uploadId, { csv_bytes: bytes, csv_records: scanner.rows, csv_error: scanner.error ?? null, updated_at: now });
  if (!won) return s3Error(reply, 409, 'InvalidJobState', 'The import job was started while the file was uploading; the upload is discarded.');
  ctx.log.info('user import file uploaded', { jobId, poolId: job.pool_id, bytes, rows: scanner.rows, ...(scanner.error ? { problem: scanner.error } : {}) });
  return reply.code(200).header('etag', `"${md5.digest('hex')}"`).send('');
}
