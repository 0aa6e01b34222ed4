import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface SmtpSink {
  url: string;
  /** Messages the sink accepted, in the order it accepted them. */
  received: ParsedMail[];
  envelopes: string[][];
  /** Message-ID of every message the sink refused at the end of DATA (`failFirst`). */
  refused: string[];
  close(): Promise<void>;
}

/**
 * A real SMTP listener on loopback that keeps what it receives. A recipient `full@…` is
 * refused (552); `delayMs` holds each message before accepting it (a slow server, which
 * widens the window in which concurrent senders could overlap); `failFirst` refuses the
 * first delivery of each Message-ID after reading it (451), so a retry can be compared.
 */
export async function startSmtp(options: { delayMs?: number; failFirst?: boolean } = {}): Promise<SmtpSink> {
  const received: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const refused: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address.startsWith('full@')) return callback(Object.assign(new Error('552 mailbox full'), { responseCode: 552 }));
      return callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (mail) => {
          if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
          const id = mail.messageId ?? '';
          if (options.failFirst && !refused.includes(id)) {
            refused.push(id);
            return callback(Object.assign(new Error('451 try again later'), { responseCode: 451 }));
          }
          received.push(mail);
          envelopes.push(session.envelope.rcptTo.map((r) => r.address));
          callback();
        })
        .catch(callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { url: `smtp://127.0.0.1:${port}`, received, envelopes, refused, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
