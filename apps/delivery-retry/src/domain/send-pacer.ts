import type { OutcomeClass } from '@waygate/domain';
import type { Delivery } from './delivery';
import type { DeliveryStore } from './delivery-store';
import { numberLimiterKey, pairLimiterKey, type LimiterChange } from './limiter-state';
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
  type Reservation,
} from './throughput-governor';

/** Whether a send may go out: at `atMs` (wait until then), or not before `retryAtMs` because of `by`. */
export type SendSlot =
  | { readonly granted: true; readonly atMs: number }
  | { readonly granted: false; readonly retryAtMs: number; readonly by: 'number' | 'pair' | 'circuit' };

/**
 * The throughput governor's side of delivery: applies its pure rules (throughput-governor.ts) to the limiter states
 * every replica shares through the store. Before a call it grants a send slot (circuit, pair rate, number rate);
 * after it, it records what the number and the pair learn from the outcome; for the scheduler it names the numbers
 * whose circuit is open (their deliveries are not even claimed).
 */
export class SendPacer {
  constructor(
    private readonly store: DeliveryStore,
    private readonly governor: GovernorSettings,
    private readonly nowMs: () => number,
  ) {}

  private async change<R>(key: string, change: LimiterChange<R>): Promise<R> {
    return (await this.store.changeLimiters([{ key, change }]))[0];
  }

  /** Phone number ids whose circuit breaker is open now. */
  async openCircuits(): Promise<string[]> {
    const now = this.nowMs();
    return (await this.store.listLimiters('number:'))
      .filter(({ state }) => circuitView(state, now).kind === 'open')
      .map(({ key }) => key.slice('number:'.length));
  }

  /** Reserves a send slot for the delivery: the circuit lets it through, then the pair rate, then the number rate. */
  async acquire(delivery: Delivery, throughputMps: number): Promise<SendSlot> {
    const governor = this.governor;
    const numberKey = numberLimiterKey(delivery.phoneNumberId);
    const pairKey = pairLimiterKey(delivery.phoneNumberId, delivery.to);
    const probe = await this.change(numberKey, (state) => claimProbe(state, this.nowMs(), governor));
    if (!probe.granted) return { granted: false, retryAtMs: probe.retryAtMs, by: 'circuit' };
    const pairRule = { intervalMs: governor.pairIntervalMs, burst: governor.pairBurst, horizonMs: 0 };
    const pair = await this.change<Reservation>(pairKey, (state) => reserveSlot(state, this.nowMs(), pairRule));
    if (!pair.granted) return { granted: false, retryAtMs: pair.retryAtMs, by: 'pair' };
    const slot = await this.change<Reservation>(numberKey, (state) => {
      const now = this.nowMs();
      const rule = {
        intervalMs: numberIntervalMs(state, now, throughputMps, governor),
        burst: 1,
        horizonMs: governor.reservationHorizonMs,
      };
      return reserveSlot(state, now, rule);
    });
    if (!slot.granted) {
      // The pair's slot goes back: the message was not sent.
      await this.change(pairKey, (state) => ({ next: refundSlot(state, governor.pairIntervalMs), result: undefined }));
      return { granted: false, retryAtMs: slot.retryAtMs, by: 'number' };
    }
    return { granted: true, atMs: slot.atMs };
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
    if (outcome.kind === 'needs-configuration') {
      await this.change(numberKey, (state) => ({ next: onNeedsConfiguration(state, now, governor), result: undefined }));
      return undefined;
    }
    if (outcome.kind === 'retry' && outcome.reason === 'upstream') {
      await this.change(numberKey, (state) => ({ next: onUpstreamFailure(state, now, governor), result: undefined }));
      return undefined;
    }
    await this.change(numberKey, (state) => ({
      next:
        outcome.kind === 'retry' && outcome.reason === 'throughput'
          ? onThroughputExceeded(onUpstreamAnswered(state), now, governor)
          : onUpstreamAnswered(state),
      result: undefined,
    }));
    if (outcome.kind === 'retry' && outcome.reason === 'pair-rate') {
      return this.change(pairKey, (state) => {
        const { next, retryAtMs } = onPairRateExceeded(state, now, governor);
        return { next, result: retryAtMs };
      });
    }
    if (outcome.kind === 'sent') await this.change(pairKey, (state) => ({ next: onPairSent(state), result: undefined }));
    return undefined;
  }
}
