/**
 * Sending e-mail through SMTP (ADR 032): nodemailer with the URL of C981_SMTP_URL. Infrastructure
 * only — what is sent, when and to whom is the notification sender's (app/services/notification-sender.server.ts).
 */
import nodemailer from "nodemailer";

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export function smtpMailer(url: string): Mailer {
  // A server that does not answer fails this attempt within seconds; the sender retries later.
  const withTimeouts = new URL(url);
  for (const [name, ms] of [
    ["connectionTimeout", 10_000],
    ["greetingTimeout", 10_000],
    ["socketTimeout", 20_000],
  ] as const) {
    if (!withTimeouts.searchParams.has(name)) withTimeouts.searchParams.set(name, String(ms));
  }
  const transport = nodemailer.createTransport(withTimeouts.href);
  return {
    async send(mail) {
      await transport.sendMail(mail);
    },
    close: () => transport.close(),
  };
}
