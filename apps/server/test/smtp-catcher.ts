/**
 * A real SMTP server for the tests (smtp-server, listening on loopback): the app's nodemailer transport talks SMTP to
 * it over TCP, with the credentials from SMTP_URL, exactly as it would to a mail relay. Every accepted message is
 * parsed (mailparser) and kept. The server answers 250 only after the message is stored, so once the app's send has
 * resolved (`server.background.drain()`), the mail is in `mails`.
 */
import type { AddressInfo } from "node:net";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

/** One received mail. */
export interface CaughtMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

/** The running catcher. */
export interface SmtpCatcher {
  /** `smtp://<user>:<pass>@127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  mails: CaughtMail[];
  /** Mails to one recipient, oldest first. */
  mailsTo(address: string): CaughtMail[];
  close(): Promise<void>;
}

const USER = "cloakroom";
const PASS = "smtp test password";

/** The first `http(s)://…` link in a mail that contains `path`. */
export function linkIn(mail: CaughtMail | undefined, path: string): string {
  const link = mail?.text.match(/https?:\/\/\S+/g)?.find((l) => l.includes(path));
  if (!link) throw new Error(`no ${path} link in mail: ${mail?.text ?? "(no mail)"}`);
  return link;
}

/** Start the catcher on a free port. */
export async function startSmtpCatcher(): Promise<SmtpCatcher> {
  const mails: CaughtMail[] = [];
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ["STARTTLS"],
    // Plain-text AUTH on loopback only; a real relay would offer STARTTLS (or smtps://) first.
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) callback(null, { user: USER });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (parsed) => {
          mails.push({
            from: parsed.from?.text ?? "",
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://${USER}:${encodeURIComponent(PASS)}@127.0.0.1:${port}`,
    mails,
    mailsTo: (address) => mails.filter((m) => m.to.includes(address)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
