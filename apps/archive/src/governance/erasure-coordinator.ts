import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, isE164, NotFoundError, type Clock, type FieldViolation } from '@waygate/domain';
import { sealText, type Keyring } from '@waygate/keyring';
import type { Logger } from '@waygate/telemetry';
import { tenantLogRef } from '@waygate/tenancy';
import { erasureIdOf, isErasurePart, isErasureId, type ErasureRecord, type ErasureStore } from './domain/erasure';

/** Longest reason kept with an erasure. */
export const MAX_REASON_CHARS = 200;
/** The ephemeral keyring purpose the number is sealed under while an erasure runs. */
export const ERASURE_KEY_PURPOSE = 'erasure';
// Control characters and line separators: a reason is shown on one line of the receipt.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The question erasure asks the legal holds (governance/legal-holds.ts implements it). */
export interface LegalHoldChecker {
  /** The active holds covering the customer (its own and the tenant-wide ones); empty when nothing holds it. */
  activeHoldsCovering(tenantId: string, customer: string): Promise<readonly { readonly holdId: string; readonly matter: string }[]>;
  /** Released holds placed on the customer name the pseudonym instead (the hold records stay, the number goes). */
  pseudonymiseReleased(tenantId: string, customer: string, customerRef: string): Promise<number>;
}

/** What the coordinator needs. */
export interface ErasureCoordinatorDeps {
  readonly store: ErasureStore;
  readonly keyring: Keyring;
  readonly holds: LegalHoldChecker;
  /** Stores ErasureRequested on the GOVERNANCE stream (resolves once stored; idempotent by erasure id). */
  readonly publishRequested: (record: ErasureRecord) => Promise<void>;
  /** Signs the receipt text as a C2SP signed note with the region's log key (libs/tlog). */
  readonly signReceipt: (text: string) => string;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A part's completion as reported by a service (ErasurePartCompleted). */
export interface PartCompletion {
  readonly erasureId: string;
  readonly tenantId: string;
  readonly service: string;
  readonly completedAt: Date;
  readonly counts: Readonly<Record<string, number>>;
}

export interface ErasureCoordinator {
  /**
   * EraseCustomer: validates, refuses while a legal hold covers the customer (FailedPreconditionError naming each
   * hold), records the erasure, destroys the customer's data key, publishes ErasureRequested. Asking again for the
   * same customer returns the same erasure (and drives it on if an earlier call stopped half-way).
   */
  erase(tenantId: string, request: { readonly customer: string; readonly reason: string }, requestedBy: string): Promise<ErasureRecord>;
  /** GetErasureStatus. NotFoundError for an id the tenant does not have; InvalidArgumentError for a malformed one. */
  status(tenantId: string, erasureId: string): Promise<ErasureRecord>;
  /** Records one service's completion; completes the erasure when it was the last part. Idempotent. */
  partCompleted(completion: PartCompletion): Promise<void>;
  /** Drives every erasure left in progress (after a restart): key destroyed, request published, completion. */
  resume(): Promise<number>;
  /** The customer's salted hash in erasure records (recompute it to answer "was this number erased?"). */
  customerHash(tenantId: string, customer: string): Promise<string>;
}

/**
 * The receipt's text: one fact per line, the record without content. Its hash is what the region key signs; anyone
 * with GetLogPublicKey's key can verify it, and the tenant can recompute `customer-hash` from the number.
 */
export function receiptText(record: ErasureRecord, completedAt: Date): string {
  const lines = [
    'waygate erasure receipt v1',
    `erasure ${record.erasureId}`,
    `tenant ${record.tenantId}`,
    `customer-hash ${record.customerHash}`,
    `requested-by ${record.requestedBy}`,
    `requested-at ${record.requestedAt.toISOString()}`,
    `completed-at ${completedAt.toISOString()}`,
    ...record.parts.map((part) => {
      const counts = Object.entries(part.counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([kind, count]) => `${kind}=${count}`)
        .join(',');
      return `part ${part.service} ${part.completedAt?.toISOString() ?? '-'} ${counts || '-'}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** Builds the archive's erasure coordinator (issue 14, docs/governance.md "Erasure: what it reaches"). */
export function createErasureCoordinator(deps: ErasureCoordinatorDeps): ErasureCoordinator {
  const { store, keyring, clock, logger } = deps;

  async function customerHash(tenantId: string, customer: string): Promise<string> {
    // A secret of the tenant's own (from its keyring key), so the hash cannot be recomputed without the keyring.
    const tenantKey = await keyring.dataKeyFor({ tenantId });
    const secret = createHmac('sha256', tenantKey.key).update('waygate.erasure.customer-hash.v1', 'utf8').digest();
    return createHmac('sha256', secret).update(customer, 'utf8').digest('hex');
  }

  function erasureKey(record: Pick<ErasureRecord, 'tenantId' | 'keyEpoch'>) {
    return { tenantId: record.tenantId, ephemeral: { purpose: ERASURE_KEY_PURPOSE, epoch: record.keyEpoch } };
  }

  async function finishIfDone(record: ErasureRecord): Promise<ErasureRecord> {
    if (record.completedAt || record.parts.some((part) => !part.completedAt)) return record;
    // The sealed number in the stream and in the record becomes unreadable for good.
    await keyring.destroyKey(erasureKey(record));
    const completedAt = clock.now();
    const receipt = deps.signReceipt(receiptText(record, completedAt));
    const completed = (await store.complete(record.tenantId, record.erasureId, completedAt, receipt)) ?? record;
    logger.info({ tenant: tenantLogRef(record.tenantId), erasure_id: record.erasureId }, 'erasure complete');
    return completed;
  }

  /** Each step once, in order; every step is idempotent, so a call that stopped half-way is continued here. */
  async function drive(record: ErasureRecord): Promise<ErasureRecord> {
    if (record.completedAt) return record;
    let current = record;
    if (!current.parts.find((part) => part.service === 'keyring')?.completedAt) {
      // FIRST: whatever is still sealed under the customer's key (streams, backups, in-flight events) is shredded.
      const destroyed = await keyring.destroyKey({ tenantId: current.tenantId, customerRef: current.customerRef });
      current =
        (await store.completePart(current.tenantId, current.erasureId, 'keyring', clock.now(), { data_keys: destroyed ? 1 : 0 })) ??
        current;
    }
    if (!current.publishedAt) {
      await deps.publishRequested(current);
      await store.markPublished(current.tenantId, current.erasureId, clock.now());
      current = (await store.byId(current.tenantId, current.erasureId)) ?? current;
    }
    return finishIfDone(current);
  }

  return {
    customerHash,

    async erase(tenantId, request, requestedBy) {
      const violations: FieldViolation[] = [];
      if (!isE164(request.customer))
        violations.push({ field: 'customer', description: 'must be an E.164 number with a leading +', reason: 'INVALID_FORMAT' });
      if (request.reason.length > MAX_REASON_CHARS)
        violations.push({ field: 'reason', description: `must be at most ${MAX_REASON_CHARS} characters`, reason: 'TOO_LONG' });
      else if (CONTROL_CHARACTERS.test(request.reason))
        violations.push({ field: 'reason', description: 'must not contain control characters or line breaks', reason: 'INVALID_FORMAT' });
      if (violations.length > 0) throw new InvalidArgumentError(violations);

      const holds = await deps.holds.activeHoldsCovering(tenantId, request.customer);
      if (holds.length > 0)
        throw new FailedPreconditionError(
          `a legal hold covers this customer: ${holds.map((hold) => `${hold.holdId} (${hold.matter})`).join(', ')}`,
          holds.map((hold) => ({
            type: 'LEGAL_HOLD',
            subject: `legalHolds/${hold.holdId}`,
            description: `matter: ${hold.matter}`,
          })),
        );

      // No hold covers the customer now, so every hold that named them is released: it keeps its matter and times
      // under the pseudonym (a second request changes nothing).
      await deps.holds.pseudonymiseReleased(tenantId, request.customer, await keyring.customerRef(tenantId, request.customer));
      const hash = await customerHash(tenantId, request.customer);
      // An erasure under way is the answer to asking again; after it completed, a new request erases what was stored
      // since (a customer who came back and asks again).
      const existing = await store.byCustomer(tenantId, hash);
      if (existing && !existing.completedAt) return drive(existing);

      const now = clock.now();
      // One ephemeral key per erasure (a random epoch), so that completing one erasure never shreds another's.
      const keyEpoch = randomInt(2 ** 47);
      const candidate: ErasureRecord = {
        erasureId: erasureIdOf(now, randomBytes(7).toString('hex')),
        tenantId,
        customerHash: hash,
        customerRef: await keyring.customerRef(tenantId, request.customer),
        customerSealed: await sealText(keyring, erasureKey({ tenantId, keyEpoch }), request.customer),
        keyEpoch,
        requestedBy,
        reason: request.reason,
        requestedAt: now,
        parts: [],
      };
      const { record, created } = await store.create(candidate);
      if (!created)
        await keyring.destroyKey(erasureKey(candidate)); // a concurrent request won: our key is unused
      else logger.info({ tenant: tenantLogRef(tenantId), erasure_id: record.erasureId, requested_by: requestedBy }, 'erasure requested');
      return drive(record);
    },

    async status(tenantId, erasureId) {
      if (!isErasureId(erasureId))
        throw new InvalidArgumentError([
          { field: 'erasure_id', description: 'must be er_ and 26 hex characters', reason: 'INVALID_FORMAT' },
        ]);
      const record = await store.byId(tenantId, erasureId);
      if (!record) throw new NotFoundError('erasure', erasureId);
      return record;
    },

    async partCompleted(completion) {
      if (!isErasurePart(completion.service) || completion.service === 'keyring') {
        logger.warn(
          { service: completion.service.slice(0, 40), erasure_id: completion.erasureId },
          'completion from an unknown part ignored',
        );
        return;
      }
      const record = await store.completePart(
        completion.tenantId,
        completion.erasureId,
        completion.service,
        completion.completedAt,
        completion.counts,
      );
      if (!record) {
        logger.warn({ erasure_id: completion.erasureId, service: completion.service }, 'completion of an unknown erasure ignored');
        return;
      }
      await finishIfDone(record);
    },

    async resume() {
      const open = await store.inProgress(1000);
      for (const record of open) await drive(record);
      return open.length;
    },
  };
}
