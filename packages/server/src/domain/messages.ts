import nodemailer, { type Transporter } from 'nodemailer';
import crypto from 'node:crypto';
import { CodeDeliveryFailureException } from '../errors.js';
import type { Repository } from '../storage/repository.js';
import type { Logger } from '../log.js';
import { defaultVerificationTemplate, type LoadedPool } from './pools.js';

export interface CodeDeliveryDetails { Destination: string; DeliveryMedium: 'EMAIL' | 'SMS'; AttributeName: string }

/** Masks a destination the way Cognito shows it: a***@e***, +*******1234. */
export function maskDestination(medium: 'EMAIL' | 'SMS', value: string): string {
  if (medium === 'SMS') return '+' + '*'.repeat(Math.max(0, value.length - 5)) + value.slice(-4);
  const [local, domain = ''] = value.split('@');
  return `${local[0] ?? ''}***@${domain[0] ?? ''}***`;
}

/** Sends mail over SMTP and SMS through a webhook; with neither set, keeps messages in the outbox. */
export class Messenger {
  private mail?: Transporter;
  constructor(private repo: Repository, private log: Logger, private opts: { smtpUrl?: string; emailFrom: string; smsWebhookUrl?: string }) {
    // Bounded, so a stalled mail server fails the request instead of holding it (and shutdown) for minutes.
    if (opts.smtpUrl) this.mail = nodemailer.createTransport(opts.smtpUrl, { connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10000 } as object);
  }

  async send(poolId: string, medium: 'EMAIL' | 'SMS', to: string, subject: string, body: string): Promise<void> {
    try {
      if (medium === 'EMAIL' && this.mail) {
        await this.mail.sendMail({ from: this.opts.emailFrom, to, subject, text: body, html: body.includes('<') ? body : undefined });
      } else if (medium === 'SMS' && this.opts.smsWebhookUrl) {
        const res = await fetch(this.opts.smsWebhookUrl, {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phoneNumber: to, message: body }), signal: AbortSignal.timeout(5000),
        });
        if (!res.ok) throw new Error(`SMS webhook answered ${res.status}`);
      } else {
        await this.repo.addOutbox({ id: crypto.randomUUID(), pool_id: poolId, channel: medium, destination: to, subject, body, created_at: Date.now() });
        this.log.info('message kept in outbox (no transport configured); read it with `npx gatehouse outbox`', { poolId, medium });
      }
    } catch (e) {
      this.log.error('message delivery failed', { poolId, medium, error: String((e as Error).message) });
      throw new CodeDeliveryFailureException('Unable to deliver the verification code.');
    }
  }

  /** Sends a code with the pool's verification template and answers CodeDeliveryDetails. */
  async sendCode(pool: LoadedPool, channel: { medium: 'EMAIL' | 'SMS'; attribute: string; to: string }, code: string, template?: { subject?: string; email?: string; sms?: string }): Promise<CodeDeliveryDetails> {
    const t = { ...defaultVerificationTemplate, ...pool.config.VerificationMessageTemplate };
    const fill = (s: string) => s.replaceAll('{####}', code);
    if (channel.medium === 'EMAIL') await this.send(pool.id, 'EMAIL', channel.to, template?.subject ?? t.EmailSubject, fill(template?.email ?? t.EmailMessage));
    else await this.send(pool.id, 'SMS', channel.to, '', fill(template?.sms ?? t.SmsMessage));
    return { Destination: maskDestination(channel.medium, channel.to), DeliveryMedium: channel.medium, AttributeName: channel.attribute };
  }
}
