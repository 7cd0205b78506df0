/**
 * The customer data export protocol between the archive (GovernanceService.ExportCustomerData) and every service's
 * participant: core NATS request/reply, JSON, never stored (the subjects lie outside every stream).
 *
 * 1. The archive sends `start` to `waygate.<region>.rpc.customer-export.<service>` (a queue group: one replica
 *    answers). The customer's number travels sealed under a short-lived keyring key of purpose `export`.
 * 2. That replica opens a session (the participant's exportCustomer iterator) and answers the first page with the
 *    subject of its own session inbox (`...customer-export.<service>.<instance>`); the archive asks that replica for
 *    each next page (`next`) until a page says `done`, or ends it (`cancel`).
 * 3. A page holds jsonl fragments per section (bundle file), at most {@link MAX_PAGE_TEXT_BYTES} of text: a record
 *    longer than that is split across pages, and a record ends with its newline. The archive only asks for the next
 *    page when it has written the last one: that is the backpressure.
 *
 * A session left idle for {@link SESSION_IDLE_MS} is closed (its iterator returned).
 */

/** The protocol version every message carries. */
export const EXPORT_PROTOCOL_VERSION = 1;
/** Text per page (UTF-16 code units of the fragments, so at most 3x this in UTF-8, well below NATS's 1 MiB). */
export const MAX_PAGE_TEXT_BYTES = 192 * 1024;
/** A session with no request for this long is closed. */
export const SESSION_IDLE_MS = 120_000;
/** How long the archive waits for one page. */
export const PAGE_TIMEOUT_MS = 60_000;
/** Sessions one replica serves at once; more are refused (`busy`), the archive fails the export as unavailable. */
export const MAX_SESSIONS = 8;
/** A bundle file name a participant may use for a section. */
export const SECTION_NAME = /^[a-z0-9][a-z0-9_-]{0,62}\.jsonl$/;
/** The services that hold customer data, in bundle order (each is a folder of the bundle). */
export const CUSTOMER_DATA_SERVICES = ['ingress', 'delivery-retry', 'receipt', 'media-store', 'archive'] as const;

/** archive -> participant. */
export type ExportRequestMessage =
  | {
      readonly v: 1;
      readonly op: 'start';
      readonly tenantId: string;
      /** The customer's number, keyring sealed text under an ephemeral `export` key. */
      readonly customerSealed: string;
      readonly customerRef: string;
    }
  | { readonly v: 1; readonly op: 'next' | 'cancel'; readonly session: string };

/** One jsonl fragment of a section (file) of the service's folder. */
export interface ExportFragment {
  readonly section: string;
  readonly text: string;
}

/** participant -> archive. */
export type ExportReplyMessage =
  | {
      readonly v: 1;
      readonly ok: true;
      readonly session: string;
      /** Where to send `next` and `cancel` (this replica's session inbox). */
      readonly next: string;
      readonly fragments: readonly ExportFragment[];
      readonly done: boolean;
    }
  | {
      readonly v: 1;
      readonly ok: false;
      /** `busy`, `unknown_session`, `bad_request`, `failed`. */
      readonly error: string;
    };

/** The subject a service's participants answer `start` on (a queue group). */
export function exportStartSubject(prefix: string, service: string): string {
  return `${prefix}.${service}`;
}
