import type { JetStreamConnection } from '@waygate/nats';
import { regionSubjects } from '@waygate/nats';
import {
  EXPORT_PROTOCOL_VERSION,
  exportStartSubject,
  PAGE_TIMEOUT_MS,
  SECTION_NAME,
  type ExportFragment,
  type ExportReplyMessage,
  type ExportRequestMessage,
} from './customer-export-protocol';

/** A service's participant could not be reached or failed its export (the export as a whole fails: UNAVAILABLE). */
export class CustomerExportUnavailableError extends Error {
  constructor(
    readonly service: string,
    readonly reason: string,
  ) {
    super(`${service} did not deliver its part of the customer export: ${reason}`);
    this.name = 'CustomerExportUnavailableError';
  }
}

export interface CustomerExportRequest {
  readonly nats: Pick<JetStreamConnection, 'nc'>;
  readonly region: string;
  readonly service: string;
  readonly tenantId: string;
  /** The customer's number as keyring sealed text (an ephemeral key the caller destroys once the export ended). */
  readonly customerSealed: string;
  readonly customerRef: string;
  readonly pageTimeoutMs?: number;
}

async function ask(
  request: CustomerExportRequest,
  subject: string,
  body: ExportRequestMessage,
): Promise<Extract<ExportReplyMessage, { ok: true }>> {
  let reply: ExportReplyMessage;
  try {
    const message = await request.nats.nc.request(subject, Buffer.from(JSON.stringify(body), 'utf8'), {
      timeout: request.pageTimeoutMs ?? PAGE_TIMEOUT_MS,
    });
    reply = JSON.parse(Buffer.from(message.data).toString('utf8')) as ExportReplyMessage;
  } catch (error) {
    // "no responders" (the service is not running) or a timeout: the name and message only.
    throw new CustomerExportUnavailableError(request.service, error instanceof Error ? error.message.slice(0, 200) : 'request failed');
  }
  if (!reply || reply.v !== EXPORT_PROTOCOL_VERSION) throw new CustomerExportUnavailableError(request.service, 'unknown reply');
  if (!reply.ok) throw new CustomerExportUnavailableError(request.service, String(reply.error).slice(0, 50));
  for (const fragment of reply.fragments) {
    if (!SECTION_NAME.test(fragment.section) || typeof fragment.text !== 'string')
      throw new CustomerExportUnavailableError(request.service, 'a fragment names an invalid section');
  }
  return reply;
}

/**
 * One service's part of a customer export, page by page (customer-export-protocol.ts): the next page is asked for
 * only when the consumer pulls, so a slow consumer slows the participant. Ending the iteration early (a cancelled
 * export) cancels the participant's session.
 */
export async function* requestCustomerExport(request: CustomerExportRequest): AsyncGenerator<readonly ExportFragment[]> {
  const prefix = regionSubjects(request.region).customerExport;
  let page = await ask(request, exportStartSubject(prefix, request.service), {
    v: EXPORT_PROTOCOL_VERSION,
    op: 'start',
    tenantId: request.tenantId,
    customerSealed: request.customerSealed,
    customerRef: request.customerRef,
  });
  let finished = false;
  try {
    for (;;) {
      yield page.fragments;
      if (page.done) {
        finished = true;
        return;
      }
      page = await ask(request, page.next, { v: EXPORT_PROTOCOL_VERSION, op: 'next', session: page.session });
    }
  } finally {
    if (!finished) {
      // Best effort: an unanswered cancel only means the session expires on its own.
      const cancel: ExportRequestMessage = { v: EXPORT_PROTOCOL_VERSION, op: 'cancel', session: page.session };
      await request.nats.nc.request(page.next, Buffer.from(JSON.stringify(cancel), 'utf8'), { timeout: 5000 }).catch(() => undefined);
    }
  }
}
