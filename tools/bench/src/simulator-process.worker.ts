/**
 * The WhatsApp simulator in a process of its own, for the benchmarks (started by `simulator-process.ts` with an IPC
 * channel): its CPU is then measured apart from the load generator's, and its HTTP handling does not wait behind the
 * load generator's event loop. It receives the options once, answers with its URL, forwards the events of the types
 * asked for with the moment they happened, and stops on a `stop` message, SIGTERM or when the benchmark goes away.
 */
import { performance } from 'node:perf_hooks';
import { startSimulator, type SimulatorEvent } from '@waygate/whatsapp-simulator';
import type { SimulatorProcessMessage, SimulatorProcessStart } from './simulator-process';

const send = (message: SimulatorProcessMessage) => {
  if (process.connected) process.send?.(message);
};

// Events of one event-loop turn go out as one IPC message: one serialisation instead of one per event.
let queued: [SimulatorEvent, number][] = [];
let flushScheduled = false;
function forward(event: SimulatorEvent): void {
  // Wall-clock milliseconds with performance.now()'s resolution; the benchmark maps them onto its own clock.
  queued.push([event, performance.timeOrigin + performance.now()]);
  if (flushScheduled) return;
  flushScheduled = true;
  setImmediate(() => {
    flushScheduled = false;
    const events = queued;
    queued = [];
    send({ type: 'events', events });
  });
}

process.once('message', (start: SimulatorProcessStart) => {
  const forwarded = new Set<string>(start.forward);
  startSimulator({ ...start.options, onEvent: (event) => forwarded.has(event.type) && forward(event) }).then(
    (simulator) => {
      let stopping: Promise<void> | undefined;
      const stop = () => {
        stopping ??= simulator.stop().finally(() => process.exit(0));
        return stopping;
      };
      process.on('message', (message: { type: string }) => {
        if (message.type === 'stop') void stop();
      });
      process.on('disconnect', () => void stop());
      process.on('SIGTERM', () => void stop());
      send({ type: 'ready', url: simulator.url });
    },
    (error: Error) => {
      send({ type: 'failed', error: error.message });
      process.exit(1);
    },
  );
});
