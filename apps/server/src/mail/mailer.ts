/**
 * Outgoing mail through nodemailer: over SMTP when SMTP_URL is set, otherwise into a development outbox (one `.eml`
 * file per mail under DATA_DIR/outbox/, plus one log line naming the file), so `npm start` needs no mail server.
 * Log lines name the kind of mail and never its content: the links in it carry single-use tokens.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import nodemailer from "nodemailer";
import type { Logger } from "pino";

/** What a mail is for; logged instead of its subject or body. */
export type MailKind = "password_reset" | "password_changed" | "verify_email" | "registration_attempt";

/** One plain-text mail to one recipient. */
export interface MailMessage {
  kind: MailKind;
  to: string;
  subject: string;
  text: string;
}

/** Sends mail. */
export interface Mailer {
  /** `smtp` (SMTP_URL) or `outbox` (the development folder). */
  readonly transport: "smtp" | "outbox";
  /** @throws {Error} when the SMTP server refuses or cannot be reached (the caller logs it; nothing is retried) */
  send(message: MailMessage): Promise<void>;
  /** Close the SMTP connections. */
  close(): void;
}

/** Options of {@link createMailer}. */
export interface MailerOptions {
  /** `smtp://…` or `smtps://…` with credentials in the URL; `null` for the development outbox. */
  smtpUrl: string | null;
  /** The From header, e.g. `Cloakroom <no-reply@example.com>`. */
  from: string;
  /** The outbox is `dataDir/outbox`. */
  dataDir: string;
  logger: Logger;
}

/** The folder the development outbox writes to. */
export function outboxDir(dataDir: string): string {
  return path.join(dataDir, "outbox");
}

/**
 * Build the mailer for a configuration.
 * @example
 * const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, dataDir: config.dataDir, logger });
 * await mailer.send({ kind: "password_changed", to: user.email, subject, text });
 */
export function createMailer(options: MailerOptions): Mailer {
  const { logger } = options;
  if (options.smtpUrl) {
    const smtp = nodemailer.createTransport(options.smtpUrl, { from: options.from });
    return {
      transport: "smtp",
      async send(message) {
        await smtp.sendMail({ to: message.to, subject: message.subject, text: message.text });
        logger.info({ event: "mail.sent", kind: message.kind }, "mail sent");
      },
      close: () => smtp.close(),
    };
  }
  // nodemailer builds the same RFC 5322 message it would send, and hands it back as a buffer instead.
  const stream = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "unix" }, { from: options.from });
  const dir = outboxDir(options.dataDir);
  return {
    transport: "outbox",
    async send(message) {
      const info = await stream.sendMail({ to: message.to, subject: message.subject, text: message.text });
      await fs.promises.mkdir(dir, { recursive: true, mode: 0o700 });
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${message.kind}-${randomBytes(4).toString("hex")}.eml`);
      // The file holds the link and its token: readable by the server's user only, like the development secret.
      await fs.promises.writeFile(file, info.message as Buffer, { mode: 0o600 });
      logger.info({ event: "mail.outbox", kind: message.kind, file }, "mail written to the development outbox (SMTP_URL is not set)");
    },
    close: () => stream.close(),
  };
}
