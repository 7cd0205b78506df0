import { status, type ServerWritableStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { ArchiveLogServiceServer, GovernanceServiceServer } from '@waygate/proto';

/**
 * Issue 14's two gRPC services on the archive process, composed from their parts so that each part (legal holds,
 * erasure and customer export, the access log, the archive log) lives in its own module. A part not wired yet answers
 * UNIMPLEMENTED.
 */
export interface GovernanceHandlerParts {
  /** PlaceLegalHold, ReleaseLegalHold, ListLegalHolds (governance/legal-holds.handler.ts). */
  readonly holds?: Pick<GovernanceServiceServer, 'placeLegalHold' | 'releaseLegalHold' | 'listLegalHolds'>;
  /** EraseCustomer, GetErasureStatus, ExportCustomerData (governance/erasure.handler.ts). */
  readonly erasure?: Pick<GovernanceServiceServer, 'eraseCustomer' | 'getErasureStatus' | 'exportCustomerData'>;
  /** ListAccessLog (governance/access-log.handler.ts). */
  readonly accessLog?: Pick<GovernanceServiceServer, 'listAccessLog'>;
}

function unimplementedUnary(method: string) {
  return (_call: unknown, callback: sendUnaryData<never>) =>
    callback({ code: status.UNIMPLEMENTED, details: `${method} is not available on this archive` }, null);
}

function unimplementedStream(method: string) {
  return (call: ServerWritableStream<unknown, unknown>) =>
    call.emit('error', { code: status.UNIMPLEMENTED, details: `${method} is not available on this archive` });
}

/** GovernanceService from its parts. */
export function createGovernanceHandler(parts: GovernanceHandlerParts): GovernanceServiceServer & UntypedServiceImplementation {
  return {
    placeLegalHold: parts.holds?.placeLegalHold ?? unimplementedUnary('PlaceLegalHold'),
    releaseLegalHold: parts.holds?.releaseLegalHold ?? unimplementedUnary('ReleaseLegalHold'),
    listLegalHolds: parts.holds?.listLegalHolds ?? unimplementedUnary('ListLegalHolds'),
    eraseCustomer: parts.erasure?.eraseCustomer ?? unimplementedUnary('EraseCustomer'),
    getErasureStatus: parts.erasure?.getErasureStatus ?? unimplementedUnary('GetErasureStatus'),
    exportCustomerData: parts.erasure?.exportCustomerData ?? unimplementedStream('ExportCustomerData'),
    listAccessLog: parts.accessLog?.listAccessLog ?? unimplementedUnary('ListAccessLog'),
  };
}

/** ArchiveLogService (the tamper-evident log, governance/archive-log.handler.ts); UNIMPLEMENTED until wired. */
export function createArchiveLogHandler(implementation?: ArchiveLogServiceServer): ArchiveLogServiceServer & UntypedServiceImplementation {
  return (
    implementation ?? {
      getCheckpoint: unimplementedUnary('GetCheckpoint'),
      getLogPublicKey: unimplementedUnary('GetLogPublicKey'),
      getInclusionProof: unimplementedUnary('GetInclusionProof'),
      getConsistencyProof: unimplementedUnary('GetConsistencyProof'),
    }
  );
}
