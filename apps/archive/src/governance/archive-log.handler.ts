import { unaryHandler } from '@waygate/grpc';
import { InvalidArgumentError } from '@waygate/domain';
import type { ArchiveLogServiceServer } from '@waygate/proto';
import type { TenantDirectory } from '@waygate/tenancy';
import type { Logger } from '@waygate/telemetry';
import type { ArchiveLogService } from '../domain/archive-log-service';

/** An int64 field (ts-proto gives it as a decimal string) as a non-negative safe integer, else INVALID_ARGUMENT. */
function size(field: string, value: string): number {
  const parsed = value === '' ? 0 : Number(value);
  if (!/^\d{0,16}$/.test(value) || !Number.isSafeInteger(parsed))
    throw new InvalidArgumentError([{ field, reason: 'OUT_OF_RANGE', description: 'must be a non-negative integer' }]);
  return parsed;
}

/** gRPC ArchiveLogService over the archive log service: proto <-> domain only; tenant scoping from the API key. */
export function createArchiveLogServiceHandler(deps: {
  readonly log: ArchiveLogService;
  readonly tenants: TenantDirectory;
  readonly logger: Logger;
}): ArchiveLogServiceServer {
  const { log, tenants, logger } = deps;
  return {
    getCheckpoint: unaryHandler(tenants, logger, async (_request, tenant) => {
      const checkpoint = await log.checkpoint(tenant.id);
      return { checkpoint: checkpoint.note, treeSize: String(checkpoint.treeSize), rootHash: checkpoint.rootHash };
    }),
    getLogPublicKey: unaryHandler(tenants, logger, async (_request, tenant) => log.publicKey(tenant.id)),
    getInclusionProof: unaryHandler(tenants, logger, async (request, tenant) => {
      const treeSize = size('tree_size', request.treeSize);
      const proof = await log.inclusionProof(tenant.id, request.recordId, treeSize);
      return {
        leafIndex: String(proof.leafIndex),
        treeSize: String(proof.treeSize),
        leafHash: proof.leafHash,
        auditPath: proof.auditPath,
        entry: proof.entry.toString('hex'),
      };
    }),
    getConsistencyProof: unaryHandler(tenants, logger, async (request, tenant) => {
      const proof = await log.consistencyProof(tenant.id, size('first_size', request.firstSize), size('second_size', request.secondSize));
      return { firstSize: String(proof.firstSize), secondSize: String(proof.secondSize), proof: proof.proof };
    }),
  };
}
