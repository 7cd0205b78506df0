import { createHmac } from 'node:crypto';
import type { Clock, MessageContent } from '@waygate/domain';
import { isSealedText, sealText, type Keyring } from '@waygate/keyring';
import type { ParameterSealer } from '../domain/parameter-sealer';

/** Sealed authentication parameters use the tenant's ephemeral keys of this purpose. */
export const SEALED_PARAMETER_PURPOSE = 'sealed';
/** One sealing key per tenant per 15 minutes. */
export const SEALING_EPOCH_MS = 15 * 60_000;
/**
 * How long after its epoch a sealing key is kept: a message sealed at the end of an epoch is valid at most 15 minutes
 * (MAX_AUTHENTICATION_VALIDITY_SECONDS), plus 5 minutes for an attempt in flight and clock skew between replicas.
 */
export const SEALING_KEY_GRACE_MS = 15 * 60_000 + 5 * 60_000;

/** The epoch a sealing key belongs to at `now`. */
export function sealingEpoch(now: Date): number {
  return Math.floor(now.getTime() / SEALING_EPOCH_MS);
}

/** The first epoch whose key must still exist at `now`; every older one may be destroyed. */
export function oldestLiveSealingEpoch(now: Date): number {
  return Math.floor((now.getTime() - SEALING_KEY_GRACE_MS) / SEALING_EPOCH_MS);
}

/**
 * The ParameterSealer on the regional keyring: every text parameter of an authentication template is sealed
 * (AES-256-GCM, libs/keyring sealed-text) under the tenant's sealing key of the current 15-minute epoch;
 * delivery-retry opens it with the same keyring at send time. The keys are destroyed 20 minutes after their epoch
 * ends ({@link startSealingKeySweeper}), which wipes every copy of the code left in stores and streams.
 */
export function createKeyringParameterSealer(deps: { keyring: Keyring; clock: Clock; hashSecret: () => Buffer }): ParameterSealer {
  return {
    async seal(tenantId, content) {
      const scope = { tenantId, ephemeral: { purpose: SEALED_PARAMETER_PURPOSE, epoch: sealingEpoch(deps.clock.now()) } };
      const components = await Promise.all(
        content.components.map(async (component) => ({
          ...component,
          parameters: await Promise.all(
            component.parameters.map(async (parameter) =>
              parameter.value.type === 'text'
                ? { ...parameter, value: { type: 'text' as const, text: await sealText(deps.keyring, scope, parameter.value.text) } }
                : parameter,
            ),
          ),
        })),
      );
      return { ...content, components } satisfies MessageContent;
    },
    isSealed: isSealedText,
    keyedRequestHash(requestHash) {
      return createHmac('sha256', deps.hashSecret()).update(`waygate.request-hash.v1:${requestHash}`).digest('hex');
    },
  };
}

/** Destroys sealing keys past their lifetime every `intervalMs` (and once at start); returns a stop function. */
export function startSealingKeySweeper(deps: {
  keyring: Keyring;
  clock: Clock;
  intervalMs: number;
  onError: (error: unknown) => void;
  onDestroyed: (count: number) => void;
}): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();
  const sweep = () => {
    running = deps.keyring
      .destroyEphemeralKeys(SEALED_PARAMETER_PURPOSE, oldestLiveSealingEpoch(deps.clock.now()))
      .then((count) => count > 0 && deps.onDestroyed(count), deps.onError)
      .then(() => undefined);
  };
  sweep();
  const timer = setInterval(sweep, deps.intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
