import type { OutcomeClass } from '@waygate/domain';
import type { Delivery } from './delivery';
import type { DeliveryStore } from './delivery-store';
import { numberLimiterKey, pairLimiterKey, type LimiterChange, type LimiterState } from './limiter-state';
import {
  circuitView,
  claimProbe,
  numberIntervalMs,
  onNeedsConfiguration,
  onPairRateExceeded,
  onPairSent,
  onThroughputExceeded,
  onUpstreamAnswered,
  onUpstreamFailure,
  refundSlot,
  reserveSlot,
  type GovernorSettings,
} from './throughput-governor';

/** Whether a send may go out: at `atMs` (wait until then), or not before `retryAtMs` because of `by`. */
export type SendSlot =
  | { readonly granted: true; readonly atMs: number }
  | { readonly granted: false; readonly retryAtMs: number; readonly by: 'number' | 'pair' | 'circuit' };

/** How long a view of the open circuits is reused before it is read again (another replica may have changed one). */
const OPEN_CIRCUITS_TTL_MS = 100;

/**
 * The throughput governor's side of delivery: applies its pure rules (throughput-governor.ts) to the limiter states
 * every replica shares through the store. Before a call it grants a send slot (circuit, pair rate, number rate);
 * after it, it records what the number and the pair learn from the outcome; for the scheduler it names the numbers
 * whose circuit is open (their deliveries are not even claimed).
 *
 * Each of `acquire` and `learn` is ONE store call (one transaction on SQLite): its changes are applied in order and
 * later ones read what earlier ones decided (issue 15: five limiter transactions per message were two).
 */
export class SendPacer {
  /** The numbers' circuits as last read (key -> open until), and when (see openCircuits). */
  private circuits: { readonly readAtMs: number; readonly openUntil: ReadonlyMap<string, number> } | undefined;

  constructor(
    private readonly store: DeliveryStore,
    private readonly governor: GovernorSettings,
    private readonly nowMs: () => number,
  ) {}

  /**
   * Phone number ids whose circuit breaker is open now. The scheduler asks before every claim (per message under
   * load), so the states are read at most every OPEN_CIRCUITS_TTL_MS and again at once after this replica changed a
   * circuit. A circuit another replica opened is seen that much later: the claimed delivery is then postponed by
   * `acquire`, which always reads the current state; one it closed is claimed that much later. Open or not is
   * computed from the state at each call, so a circuit whose cooldown ends is half-open at once.
   */
  async openCircuits(): Promise<string[]> {
    const now = this.nowMs();
    let circuits = this.circuits;
    if (!circuits || now - circuits.readAtMs >= OPEN_CIRCUITS_TTL_MS || now < circuits.readAtMs) {
      const openUntil = new Map<string, number>();
      for (const { key, state } of await this.store.listLimiters('number:')) {
        if (state.openUntilMs) openUntil.set(key.slice('number:'.length), state.openUntilMs);
      }
      circuits = { readAtMs: now, openUntil };
      this.circuits = circuits;
    }
    const open: string[] = [];
    for (const [phoneNumberId, openUntilMs] of circuits.openUntil) {
      if (circuitView({ tatMs: 0, openUntilMs }, now).kind === 'open') open.push(phoneNumberId);
    }
    return open;
  }

  /** Reserves a send slot for the delivery: the circuit lets it through, then the pair rate, then the number rate. */
  async acquire(delivery: Delivery, throughputMps: number): Promise<SendSlot> {
    const governor = this.governor;
    const numberKey = numberLimiterKey(delivery.phoneNumberId);
    const pairKey = pairLimiterKey(delivery.phoneNumberId, delivery.to);
    const pairRule = { intervalMs: governor.pairIntervalMs, burst: governor.pairBurst, horizonMs: 0 };
    // Applied in order in one transaction; each step runs only if the previous one granted (a skipped step leaves its
    // state as it is), and the pair's slot goes back when the number refuses (the message was not sent).
    let slot: SendSlot | undefined;
    let pairReserved = false;
    const unchanged = (state: LimiterState | undefined) => ({ next: state ?? { tatMs: 0 }, result: undefined });
    await this.store.changeLimiters<undefined>([
      {
        key: numberKey,
        change: (state) => {
          const { next, result } = claimProbe(state, this.nowMs(), governor);
          if (!result.granted) slot = { granted: false, retryAtMs: result.retryAtMs, by: 'circuit' };
          return { next, result: undefined };
        },
      },
      {
        key: pairKey,
        change: (state) => {
          if (slot) return unchanged(state);
          const { next, result } = reserveSlot(state, this.nowMs(), pairRule);
          if (result.granted) pairReserved = true;
          else slot = { granted: false, retryAtMs: result.retryAtMs, by: 'pair' };
          return { next, result: undefined };
        },
      },
      {
        key: numberKey,
        change: (state) => {
          if (slot) return unchanged(state);
          const now = this.nowMs();
          const rule = {
            intervalMs: numberIntervalMs(state, now, throughputMps, governor),
            burst: 1,
            horizonMs: governor.reservationHorizonMs,
          };
          const { next, result } = reserveSlot(state, now, rule);
          slot = result.granted ? { granted: true, atMs: result.atMs } : { granted: false, retryAtMs: result.retryAtMs, by: 'number' };
          return { next, result: undefined };
        },
      },
      {
        key: pairKey,
        change: (state) =>
          pairReserved && slot?.granted === false
            ? { next: refundSlot(state, governor.pairIntervalMs), result: undefined }
            : unchanged(state),
      },
    ]);
    if (!slot) throw new Error('the limiter changes were not applied');
    return slot;
  }

  /**
   * Records what the number's and the pair's limiters learn from a call's outcome. Returns the earliest time the
   * pair may be messaged again after a 131056 (Meta's 4^X-seconds backoff), otherwise undefined.
   */
  async learn(delivery: Delivery, outcome: OutcomeClass): Promise<number | undefined> {
    const governor = this.governor;
    const numberKey = numberLimiterKey(delivery.phoneNumberId);
    const pairKey = pairLimiterKey(delivery.phoneNumberId, delivery.to);
    const now = this.nowMs();
    const changes: { key: string; change: LimiterChange<number | undefined> }[] = [];
    if (outcome.kind === 'needs-configuration') {
      changes.push({ key: numberKey, change: (state) => ({ next: onNeedsConfiguration(state, now, governor), result: undefined }) });
    } else if (outcome.kind === 'retry' && outcome.reason === 'upstream') {
      changes.push({ key: numberKey, change: (state) => ({ next: onUpstreamFailure(state, now, governor), result: undefined }) });
    } else {
      changes.push({
        key: numberKey,
        change: (state) => {
          const next =
            outcome.kind === 'retry' && outcome.reason === 'throughput'
              ? onThroughputExceeded(onUpstreamAnswered(state), now, governor)
              : onUpstreamAnswered(state);
          // This replica closed the circuit: the scheduler's view of open circuits is read again.
          if (next.openUntilMs !== state?.openUntilMs) this.circuits = undefined;
          return { next, result: undefined };
        },
      });
      if (outcome.kind === 'retry' && outcome.reason === 'pair-rate') {
        changes.push({
          key: pairKey,
          change: (state) => {
            const { next, retryAtMs } = onPairRateExceeded(state, now, governor);
            return { next, result: retryAtMs };
          },
        });
      } else if (outcome.kind === 'sent') {
        changes.push({ key: pairKey, change: (state) => ({ next: onPairSent(state), result: undefined }) });
      }
    }
    const results = await this.store.changeLimiters(changes);
    // A failure may have opened the circuit: read it again before the next claim.
    if (outcome.kind === 'needs-configuration' || (outcome.kind === 'retry' && outcome.reason === 'upstream')) this.circuits = undefined;
    return results[1];
  }
}
