/**
 * The e-mail outbox's sender (ADR 032): notifications with email_status pending are sent one at a
 * time, each claimed with FOR UPDATE SKIP LOCKED inside its own transaction, so several portal
 * instances never send one twice and never wait for each other. A failure is recorded on the row
 * (attempts, last error) and tried again with backoff; after MAX_EMAIL_ATTEMPTS it is failed.
 * Delivery bookkeeping, not an audited event: the notification itself was written with its event.
 */
import { sql } from "drizzle-orm";
import { emailRetryDelaySeconds, emailText, MAX_EMAIL_ATTEMPTS } from "../domain/notifications";
import type { Db } from "../utils/db.server";
import type { Mailer } from "../utils/mail.server";

export interface SenderOptions {
  from: string;
  /** The portal's address for the links (C981_PUBLIC_URL). */
  publicUrl: string;
}

export type SendOutcome = { id: number; outcome: "sent" | "retry" | "failed" | "not_sent"; error?: string };

/**
 * Sends one due e-mail, if any: claims the oldest pending row whose time has come, sends it while
 * holding the claim, and records the outcome in the same transaction. Null when none was due.
 */
export async function sendOneDueEmail(db: Db, mailer: Mailer, options: SenderOptions): Promise<SendOutcome | null> {
  return db.transaction(async (tx) => {
    const [row] = await tx.execute<{
      id: number;
      email_to: string;
      title: string;
      body: string;
      link: string;
      email_attempts: number;
      still_addressed: boolean;
    }>(sql`
      select n.id, n.email_to, n.title, n.body, n.link, n.email_attempts, (u.active and u.email is not distinct from n.email_to) as still_addressed
        from notifications n join users u on u.id = n.recipient_id
       where n.email_status = 'pending' and (n.email_next_attempt_at is null or n.email_next_attempt_at <= now())
       order by n.id limit 1
       for update of n skip locked`);
    if (!row) return null;
    // Queued with the address the recipient had then: once they changed or removed it, or their
    // account was deactivated, the e-mail is not sent (a retry could otherwise reach the old address hours later).
    if (!row.still_addressed) {
      const error = "not sent: the recipient's e-mail address changed or their account was deactivated after it was queued";
      await tx.execute(sql`update notifications set email_status = 'not_sent', email_next_attempt_at = null, email_last_error = ${error} where id = ${row.id}`);
      return { id: row.id, outcome: "not_sent" as const, error };
    }
    const attempts = row.email_attempts + 1;
    try {
      await mailer.send({
        from: options.from,
        to: row.email_to,
        subject: `[C-981] ${row.title}`,
        text: emailText({ body: row.body, link: row.link }, options.publicUrl),
      });
      await tx.execute(sql`
        update notifications set email_status = 'sent', email_attempts = ${attempts}, email_sent_at = now(), email_last_error = null
         where id = ${row.id}`);
      return { id: row.id, outcome: "sent" as const };
    } catch (error) {
      const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
      const failed = attempts >= MAX_EMAIL_ATTEMPTS;
      await tx.execute(sql`
        update notifications set email_status = ${failed ? "failed" : "pending"}, email_attempts = ${attempts}, email_last_error = ${message},
               email_next_attempt_at = ${failed ? null : sql`now() + make_interval(secs => ${emailRetryDelaySeconds(attempts)})`}
         where id = ${row.id}`);
      return { id: row.id, outcome: failed ? ("failed" as const) : ("retry" as const), error: message };
    }
  });
}

/**
 * Sends what is due now, up to `limit` e-mails; stops at the first failure (the server is likely
 * down), and before the next e-mail once `stopping()` says so (a shutdown waits for one e-mail,
 * not for a whole round of them).
 */
export async function sendDueEmails(db: Db, mailer: Mailer, options: SenderOptions, limit = 50, stopping: () => boolean = () => false): Promise<SendOutcome[]> {
  const out: SendOutcome[] = [];
  while (out.length < limit && !stopping()) {
    const outcome = await sendOneDueEmail(db, mailer, options);
    if (!outcome) break;
    out.push(outcome);
    if (outcome.outcome !== "sent" && outcome.outcome !== "not_sent") break;
  }
  return out;
}

export interface NotificationSender {
  /** Sends now rather than at the next poll (a NOTIFY on c981_notifications). */
  wake(): void;
  /** Stops polling and waits for the e-mail in progress (the rest of its round stays pending). */
  stop(): Promise<void>;
}

/**
 * Polls the outbox every `pollMs` (and whenever woken) until stopped. Never throws: a database or
 * SMTP error is logged and the next round tries again.
 */
export function startNotificationSender(
  db: Db,
  mailer: Mailer,
  options: SenderOptions & { pollMs?: number; log: (line: string, level?: "info" | "warn" | "error") => void },
): NotificationSender {
  const pollMs = options.pollMs ?? 5_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  const round = async () => {
    try {
      const outcomes = await sendDueEmails(db, mailer, options, 50, () => stopped);
      for (const o of outcomes) {
        if (o.outcome === "retry") options.log(`C-981: notification e-mail ${o.id} not sent (${o.error}); trying again later`, "warn");
        if (o.outcome === "failed") options.log(`C-981: notification e-mail ${o.id} failed for good after ${MAX_EMAIL_ATTEMPTS} attempts: ${o.error}`, "error");
      }
    } catch (error) {
      options.log(`C-981: notification sender: ${(error as Error).message}; next round in ${pollMs / 1000} s`, "warn");
    }
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
    timer.unref();
  };
  const tick = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = round().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        schedule(0);
      } else schedule(pollMs);
    });
  };
  schedule(0);
  return {
    wake: () => schedule(0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      mailer.close();
    },
  };
}
