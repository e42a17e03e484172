import { CodeDeliveryFailureException } from '../errors.js';
import nodemailer, { type Transporter } from 'nodemailer';
import crypto from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Repository, OutboxMessage } from '../storage/repository.js';
import type { OutboxTable } from '../storage/schema.js';
import type { Logger } from '../log.js';
import type { Secrets } from './secrets.js';
import type { IssuedCode } from './codes.js';
import type { DecoyCode } from './decoys.js';
import { defaultVerificationTemplate, type LoadedPool } from './pools.js';

export interface CodeDeliveryDetails { Destination: string; DeliveryMedium: 'EMAIL' | 'SMS'; AttributeName: string }
export interface Channel { medium: 'EMAIL' | 'SMS'; attribute: string; to: string }
type Medium = Channel['medium'];

/** Masks a destination the way Cognito shows it: a***@e***, +*******1234. */
export function maskDestination(medium: Medium, value: string): string {
  if (medium === 'SMS') return '+' + '*'.repeat(Math.max(0, value.length - 5)) + value.slice(-4);
  const [local, domain = ''] = value.split('@');
  return `${local[0] ?? ''}***@${domain[0] ?? ''}***`;
}

/**
 * A message as sealed in the outbox. A letter for a sender trigger (CustomEmailSender,
 * CustomSMSSender) carries the trigger's event, code included, in place of the text.
 */
export interface Letter { to: string; subject: string; body: string; sender?: SenderCall }
export interface SenderCall { trigger: 'CustomEmailSender' | 'CustomSMSSender'; event: object }

/** How a message with a sender trigger is delivered (set by the server: it calls the pool's trigger). */
export type SenderDelivery = (poolId: string, call: SenderCall) => Promise<void>;

/** What the triggers made of a code's message: CustomMessage's text, or a sender trigger's call instead of it. */
export interface Composed { template?: CodeTemplate; sender?: SenderCall }

// Delivery runs after the answer, from the outbox, in every process: a claim (conditional update)
// gives each due message to one process, which sends it and deletes it, or makes it due again later.
// A process that stops or dies mid-send leaves its claim to run out, and the message goes again.
const POLL_MS = 1000;
const LEASE_MS = 60_000; // longer than the longest send (SEND_TIMEOUT_MS), so no claim runs out under a send
const SEND_TIMEOUT_MS = 30_000;
const BATCH = 10;
export const OUTBOX_MAX_ATTEMPTS = 10;
/** How long a sign-in waits for its code's transport before the outbox takes the message over. */
const SIGN_IN_SEND_DEADLINE_MS = 3000;
/** Wait before attempt n + 1 after n failed: 1 s, 2 s, 4 s ... at most 5 min (about 8.5 min in all). */
export const retryDelay = (attempts: number) => Math.min(1000 * 2 ** (attempts - 1), 300_000);

/**
 * Queues messages in the outbox, sealed under the master key, and delivers them: mail over SMTP,
 * SMS through a webhook. A medium with no transport keeps its messages (the development outbox,
 * read with `gatehouse outbox`).
 */
export class Messenger {
  private mail?: Transporter;
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private started = false;
  private stopped = false;

  private senders?: SenderDelivery;

  constructor(private repo: Repository, private secrets: Secrets, private log: Logger, private opts: { smtpUrl?: string; emailFrom: string; smsWebhookUrl?: string }) {
    // Bounded, so a stalled mail server cannot hold a claim past its lease.
    if (opts.smtpUrl) this.mail = nodemailer.createTransport(opts.smtpUrl, { connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10000 } as object);
  }

  private hasTransport(medium: Medium) {
    return medium === 'EMAIL' ? !!this.mail : !!this.opts.smsWebhookUrl;
  }

  /** The row for a message: sealed, and bound to its id, pool and channel so it cannot be moved. */
  private row(poolId: string, medium: Medium, letter: Letter, state: 'pending' | 'kept' | 'decoy', now: number, dueAt = now): Insertable<OutboxTable> {
    const id = crypto.randomUUID();
    return {
      id, pool_id: poolId, channel: medium, state, attempts: 0, due_at: dueAt, created_at: now,
      sealed: this.secrets.encrypt(JSON.stringify(letter), sealContext(id, poolId, medium)),
    };
  }

  /** Sender triggers are a transport of their own: their letters are sent whatever SMTP or SMS say. */
  private letterRow(poolId: string, medium: Medium, letter: Letter) {
    const now = Date.now();
    return this.row(poolId, medium, letter, letter.sender || this.hasTransport(medium) ? 'pending' : 'kept', now);
  }

  /** Lets letters for sender triggers go out through `deliver`. */
  deliverSendersWith(deliver: SenderDelivery) { this.senders = deliver; }

  /**
   * After a commit: starts delivery now, or notes a kept message (never its text) at debug level:
   * an info line per message would make a real user's request cost more than an unknown one's.
   */
  private queued(poolId: string, medium: Medium, viaTrigger = false) {
    if (viaTrigger || this.hasTransport(medium)) this.wake();
    else this.log.debug('message kept in outbox', { poolId, medium });
  }

  /** Queues a message (invitations), or its sender trigger's call; it is sent after the answer. */
  async send(poolId: string, medium: Medium, to: string, subject: string, body: string, sender?: SenderCall): Promise<void> {
    await this.repo.addOutbox(this.letterRow(poolId, medium, sender ? { to, subject: '', body: '', sender } : { to, subject, body }));
    this.queued(poolId, medium, !!sender);
  }

  /** For a login that names no user: what send does, on a decoy row that is never sent and is swept after `expiresAt`. */
  async sendDecoy(poolId: string, medium: Medium, to: string, subject: string, body: string, expiresAt: number): Promise<void> {
    await this.repo.addOutbox(this.row(poolId, medium, { to, subject, body }, 'decoy', Date.now(), expiresAt));
  }

  /**
   * Stores an issued code with its message (the pool's verification template, or the CustomMessage
   * trigger's text), or its sender trigger's call, in one transaction.
   */
  async sendCode(pool: LoadedPool, channel: Channel, issued: IssuedCode, composed: Composed = {}): Promise<CodeDeliveryDetails> {
    const letter = composed.sender ? { to: channel.to, subject: '', body: '', sender: composed.sender } : codeLetter(pool, channel, issued.code, composed.template);
    await this.repo.putCode(issued.row, this.letterRow(pool.id, channel.medium, letter));
    this.queued(pool.id, channel.medium, !!composed.sender);
    return deliveryDetails(channel);
  }

  /**
   * A sign-in code (MFA by SMS or email): the user waits for it, and the challenge goes out only if it
   * can arrive, so it is sent at once rather than after the answer. A transport that fails within
   * `deadlineMs` gives CodeDeliveryFailureException, nothing queued. One still sending at the deadline
   * hands the message to the outbox, due once that send would have timed out: deleted if the send
   * succeeds, due at once if it fails, so it arrives once and is never lost. With no transport the
   * message is kept in the development outbox, as every other one.
   */
  async sendNow(poolId: string, medium: Medium, letter: Letter, deadlineMs = SIGN_IN_SEND_DEADLINE_MS): Promise<void> {
    if (!this.hasTransport(medium)) {
      await this.repo.addOutbox(this.letterRow(poolId, medium, letter));
      this.queued(poolId, medium);
      return;
    }
    const sending = withTimeout(this.transmit(medium, letter), SEND_TIMEOUT_MS);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), deadlineMs); });
    const outcome = await Promise.race([sending.then(() => 'sent' as const, (e: unknown) => e), late]).finally(() => clearTimeout(timer));
    if (outcome === 'sent') return;
    if (outcome !== 'late') {
      this.log.warn('sign-in code delivery failed', { poolId, medium, error: String((outcome as Error)?.message ?? outcome) });
      throw new CodeDeliveryFailureException('Unable to deliver the authentication code.');
    }
    const now = Date.now();
    const row = this.row(poolId, medium, letter, 'pending', now, now + SEND_TIMEOUT_MS + 1000);
    await this.repo.addOutbox(row);
    sending.then(() => this.repo.deleteOutbox(row.id), () => this.repo.retryOutbox(row.id, 0, Date.now()).then(() => this.wake()))
      .catch((e) => this.log.warn('outbox: settling a late sign-in code failed', { poolId, medium, error: String((e as Error)?.message ?? e) }));
  }

  /** For a user who does not exist: what sendCode does, on decoy rows that are never sent. */
  async sendDecoyCode(pool: LoadedPool, channel: Channel, decoy: DecoyCode, template?: CodeTemplate): Promise<CodeDeliveryDetails> {
    const now = Date.now();
    const message = this.row(pool.id, channel.medium, codeLetter(pool, channel, decoy.code, template), 'decoy', now, decoy.row.expires_at);
    await this.repo.putDecoyCode(decoy.row, message);
    return deliveryDetails(channel);
  }

  /** Starts delivering: polls for due messages (retries, other processes' messages) besides the wake-ups. */
  start() {
    const kept = (['EMAIL', 'SMS'] as const).filter((m) => !this.hasTransport(m));
    if (kept.length) this.log.info('messages with no transport configured are kept in the development outbox; read them with `npx gatehouse outbox`', { mediums: kept });
    if (this.started || (kept.length === 2 && !this.senders)) return;
    this.started = true;
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  /** Stops claiming at once. A send under way is not waited for: its claim runs out and the message goes again. */
  stop() {
    this.stopped = true;
    clearInterval(this.timer);
  }

  private wake() {
    if (!this.started || this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain().finally(() => { this.running = false; });
  }

  private async drain() {
    try {
      do {
        this.again = false;
        const now = Date.now();
        const batch = await this.repo.claimOutbox(now, now + LEASE_MS, BATCH);
        // In parallel across destinations, in order to each one: a user who asked twice gets the newest code last.
        const queues = new Map<string, { m: OutboxMessage; letter?: Letter }[]>();
        for (const m of batch) {
          let letter: Letter | undefined;
          try { letter = openOutboxMessage(this.secrets, m); } catch { /* fails below, and is retried */ }
          const key = letter ? `${m.channel}|${letter.to}` : m.id;
          queues.set(key, [...(queues.get(key) ?? []), { m, letter }]);
        }
        await Promise.all([...queues.values()].map(async (queue) => {
          for (const { m, letter } of queue) await this.deliverOne(m, letter);
        }));
        if (batch.length === BATCH) this.again = true;
      } while (this.again && !this.stopped);
    } catch (e) {
      if (!this.stopped) this.log.warn('outbox: claiming messages failed', { error: String((e as Error)?.message ?? e) });
    }
  }

  private async deliverOne(m: OutboxMessage, letter: Letter | undefined) {
    const medium = m.channel as Medium;
    try {
      if (!letter) throw new Error('the message cannot be opened with this master key');
      if (letter.sender && !this.senders) throw new Error('no sender trigger delivery in this process');
      await withTimeout(letter.sender ? this.senders!(m.pool_id, letter.sender) : this.transmit(medium, letter), SEND_TIMEOUT_MS);
    } catch (e) {
      const error = String((e as Error)?.message ?? e);
      if (this.stopped) return;
      try {
        if (m.attempts >= OUTBOX_MAX_ATTEMPTS) {
          await this.repo.deleteOutbox(m.id);
          this.log.error('message given up after repeated delivery failures', { poolId: m.pool_id, medium, attempts: m.attempts, error });
        } else {
          await this.repo.retryOutbox(m.id, m.attempts, Date.now() + retryDelay(m.attempts));
          this.log.warn('message delivery failed; will retry', { poolId: m.pool_id, medium, attempts: m.attempts, error });
        }
      } catch (e2) {
        this.log.warn('outbox: recording a failed delivery failed', { error: String((e2 as Error)?.message ?? e2) });
      }
      return;
    }
    try {
      await this.repo.deleteOutbox(m.id);
    } catch (e) {
      // Sent but still listed: it would go again once the claim runs out.
      if (!this.stopped) this.log.error('outbox: a sent message could not be deleted', { poolId: m.pool_id, medium, error: String((e as Error)?.message ?? e) });
    }
  }

  private async transmit(medium: Medium, { to, subject, body }: Letter) {
    if (medium === 'EMAIL' && this.mail) {
      await this.mail.sendMail({ from: this.opts.emailFrom, to, subject, text: body, html: body.includes('<') ? body : undefined });
    } else if (medium === 'SMS' && this.opts.smsWebhookUrl) {
      const res = await fetch(this.opts.smsWebhookUrl, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: to, message: body }), signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) throw new Error(`SMS webhook answered ${res.status}`);
    } else {
      throw new Error(`no transport for ${medium}`);
    }
  }
}

/** Reads the outbox for the CLI: each message opened with the master key. */
export function openOutboxMessage(secrets: Secrets, m: OutboxMessage): Letter {
  return JSON.parse(secrets.decrypt(m.sealed, sealContext(m.id, m.pool_id, m.channel)).toString('utf8')) as Letter;
}

export interface CodeTemplate { subject?: string; email?: string; sms?: string }

function codeLetter(pool: LoadedPool, channel: Channel, code: string, template?: CodeTemplate): Letter {
  const t = { ...defaultVerificationTemplate, ...pool.config.VerificationMessageTemplate };
  const fill = (s: string) => s.replaceAll('{####}', code);
  return channel.medium === 'EMAIL'
    ? { to: channel.to, subject: template?.subject ?? t.EmailSubject, body: fill(template?.email ?? t.EmailMessage) }
    : { to: channel.to, subject: '', body: fill(template?.sms ?? t.SmsMessage) };
}

function deliveryDetails(channel: Channel): CodeDeliveryDetails {
  return { Destination: maskDestination(channel.medium, channel.to), DeliveryMedium: channel.medium, AttributeName: channel.attribute };
}

function sealContext(id: string, poolId: string, channel: string) {
  return `outbox|${id}|${poolId}|${channel}`;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms); });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
