import type { MessageStatus as DomainStatus } from '@waygate/domain';
import { MessageStatus as ProtoStatus, StatusSource } from '@waygate/proto';

const TO_PROTO: Readonly<Record<DomainStatus, ProtoStatus>> = {
  ACCEPTED: ProtoStatus.MESSAGE_STATUS_ACCEPTED,
  SENT: ProtoStatus.MESSAGE_STATUS_SENT,
  DELIVERED: ProtoStatus.MESSAGE_STATUS_DELIVERED,
  READ: ProtoStatus.MESSAGE_STATUS_READ,
  FAILED: ProtoStatus.MESSAGE_STATUS_FAILED,
  EXPIRED: ProtoStatus.MESSAGE_STATUS_EXPIRED,
  CANCELED: ProtoStatus.MESSAGE_STATUS_CANCELED,
};

/** The wire enum for a domain status. */
export function toProtoStatus(status: DomainStatus): ProtoStatus {
  return TO_PROTO[status];
}

/** The domain status for a wire enum; undefined for UNSPECIFIED or values this build does not know. */
export function fromProtoStatus(status: ProtoStatus): DomainStatus | undefined {
  return (Object.keys(TO_PROTO) as DomainStatus[]).find((key) => TO_PROTO[key] === status);
}

/** Status sources on the wire and in the domain. */
export type StatusSourceName = 'delivery' | 'webhook';

export function toProtoSource(source: StatusSourceName): StatusSource {
  return source === 'delivery' ? StatusSource.STATUS_SOURCE_DELIVERY : StatusSource.STATUS_SOURCE_WEBHOOK;
}

export function fromProtoSource(source: StatusSource): StatusSourceName | undefined {
  if (source === StatusSource.STATUS_SOURCE_DELIVERY) return 'delivery';
  if (source === StatusSource.STATUS_SOURCE_WEBHOOK) return 'webhook';
  return undefined;
}
