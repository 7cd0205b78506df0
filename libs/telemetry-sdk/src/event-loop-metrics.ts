import { monitorEventLoopDelay } from 'node:perf_hooks';
import { metrics } from '@opentelemetry/api';

/** How long one window of event-loop delay samples lasts before the histogram starts afresh. */
const WINDOW_MS = 10_000;

/**
 * Event-loop delay of this process in seconds as gauges, `nodejs_eventloop_delay_p99` and `nodejs_eventloop_delay_max`
 * on `/metrics` (OpenTelemetry's `nodejs.eventloop.delay.*` names, unit `s`): the 99th percentile and the maximum of the delays sampled
 * (every 20 ms) in the current window of up to 10 s. A loop that is blocked by synchronous work (commits, logging,
 * JSON) shows here before it shows as latency; the benchmark's soak reads it from every service. Returns a stop
 * function (the timer is unref'd, so it never keeps a process alive).
 */
export function startEventLoopMetrics(): () => void {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  const reset = setInterval(() => histogram.reset(), WINDOW_MS);
  reset.unref();
  const meter = metrics.getMeter('waygate.runtime');
  const seconds = (nanoseconds: number) => (Number.isFinite(nanoseconds) ? nanoseconds / 1e9 : 0);
  meter
    .createObservableGauge('nodejs.eventloop.delay.p99', {
      unit: 's',
      description: 'event-loop delay, 99th percentile of the last window (up to 10 s)',
    })
    .addCallback((result) => result.observe(histogram.count > 0 ? seconds(histogram.percentile(99)) : 0));
  meter
    .createObservableGauge('nodejs.eventloop.delay.max', {
      unit: 's',
      description: 'event-loop delay, maximum of the last window (up to 10 s)',
    })
    .addCallback((result) => result.observe(histogram.count > 0 ? seconds(histogram.max) : 0));
  return () => {
    clearInterval(reset);
    histogram.disable();
  };
}
