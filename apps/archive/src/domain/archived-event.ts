import type { MessageStatus } from '@waygate/domain';

/** Which part of the platform observed a status (mirrors the wire enum without importing generated types). */
export type StatusSource = 'delivery' | 'webhook';

/** Fields every archived event has. */
interface ArchivedEventBase {
  /** De-duplication key within the tenant: recording it again has no effect. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly messageId: string;
  readonly status: MessageStatus;
  /** When it happened (ingress's acceptance time, or the status's own time). */
  readonly occurredAt: Date;
  /** When the archive first recorded it; a duplicate keeps the first time. */
  readonly recordedAt: Date;
}

/** Ingress accepted the message (from MessageAccepted). The archive is the tenant's own, so it keeps content. */
export interface AcceptedArchivedEvent extends ArchivedEventBase {
  readonly kind: 'accepted';
  readonly status: 'ACCEPTED';
  /** E.164. Personal data: never logged. */
  readonly recipient: string;
  readonly phoneNumberId: string;
  /** The text sent; undefined for content kinds this version does not archive. Personal data: never logged. */
  readonly textBody?: string;
}

/** A status observed by delivery-retry or receipt (from MessageStatusChanged). */
export interface StatusArchivedEvent extends ArchivedEventBase {
  readonly kind: 'status';
  readonly source: StatusSource;
  readonly waMessageId?: string;
  readonly errorCode?: number;
  readonly errorTitle?: string;
}

/** One recorded event about a message. */
export type ArchivedEvent = AcceptedArchivedEvent | StatusArchivedEvent;

/** What an event looks like before the archive stamps `recordedAt` on it. */
export type IncomingEvent = DistributiveOmit<AcceptedArchivedEvent, 'recordedAt'> | DistributiveOmit<StatusArchivedEvent, 'recordedAt'>;

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
