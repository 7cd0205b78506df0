import { performance } from 'node:perf_hooks';
import { AckPolicy, DeliverPolicy, nanos } from 'nats';
import { connectJetStream, ensureRegionStreams, regionStreams, regionSubjects } from '@waygate/nats';
import { startNatsServer } from '@waygate/testing';
import type { BenchProfile } from '../bench-options';
import { withCleanup } from '../cleanup';
import { describePhase, warmupOf, type BenchmarkResult, type ProgressLog } from '../benchmark-result';
import type { CompletionTracker } from '../completion-tracker';
import { MAX_OUTSTANDING_SENDS, runPhase, standardPhases, type PhaseResult, type Sender } from '../phase';
import { CpuMeter, SELF } from '../process-stats';

/** A region name of its own, so the streams are exactly Waygate's (same spec, same config) but named apart. */
const REGION = 'bench';
const DURABLE = 'bench-baseline';
/** About the size of an encoded MessageAccepted with a short text. */
const PAYLOAD_BYTES = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The key goes first, padded to a realistic event size; the consumer reads it back to find the item. */
function payloadFor(key: string): Uint8Array {
  return encoder.encode(`${key} `.padEnd(PAYLOAD_BYTES, 'x'));
}

function keyOf(data: Uint8Array): string {
  const text = decoder.decode(data.subarray(0, 40));
  return text.slice(0, text.indexOf(' '));
}

/**
 * The floor under every platform path: publish to a file-backed JetStream stream (awaiting the PubAck, with a
 * Nats-Msg-Id as Waygate's publishers set) and consume it with a durable pull consumer (explicit ack, same limits
 * as `startConsumer`), both in this process, no tracing, no storage, no work per message.
 */
export async function runJetStreamBaseline(profile: BenchProfile, log: ProgressLog): Promise<BenchmarkResult> {
  const started = performance.now();
  const phases: PhaseResult[] = [];
  const result = (extra: Partial<BenchmarkResult>): BenchmarkResult => ({
    name: 'baseline',
    title: 'Baseline: raw JetStream publish -> consume',
    method: [
      `One nats-server (JetStream, file store in a temp folder). Stream ${regionStreams(REGION).outbound.name} created by ensureRegionStreams (file storage, limits retention, 5 min duplicate window), the same config as every Waygate stream.`,
      `Item = one ${PAYLOAD_BYTES}-byte message published with js.publish (awaits the PubAck, Nats-Msg-Id set); end = the message arriving at a durable pull consumer (explicit ack, max_ack_pending 1000) in the same process, which then acks it.`,
      'Latency = scheduled publish time -> consumed; throughput = consumed per second from the first scheduled publish to the last consumption.',
    ],
    setup: {
      stream: regionStreams(REGION).outbound.name,
      payloadBytes: PAYLOAD_BYTES,
      consumer: 'durable pull, explicit ack',
      process: 'in-process',
    },
    phases,
    elapsedMs: Math.round(performance.now() - started),
    ...extra,
  });

  const nats = await startNatsServer();
  const stopNats = withCleanup(() => nats.stop());
  let connection: Awaited<ReturnType<typeof connectJetStream>> | undefined;
  try {
    connection = await connectJetStream(nats.url, 'bench-baseline');
    // The floor under the platform's CPU per message: nats-server, and this process publishing and consuming.
    const cpuMeter = new CpuMeter([{ name: 'nats-server', pid: () => nats.pid }, SELF]);
    await ensureRegionStreams(connection.jsm, REGION);
    const subject = regionSubjects(REGION).outboundAccepted;
    const stream = regionStreams(REGION).outbound.name;
    await connection.jsm.consumers.add(stream, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: subject,
      ack_wait: nanos(30_000),
      max_ack_pending: 1000,
    });
    const consumer = await connection.js.consumers.get(stream, DURABLE);
    const messages = await consumer.consume({ max_messages: 256 });
    let current: CompletionTracker | undefined;
    const consuming = (async () => {
      for await (const message of messages) {
        current?.complete(keyOf(message.data));
        message.ack();
      }
    })();

    const js = connection.js;
    let phaseNumber = 0;
    const sender =
      (tag: string): Sender =>
      async (index, scheduledAt, { follow, tracker }) => {
        const key = `${tag}-${index}`;
        follow(key);
        try {
          await js.publish(subject, payloadFor(key), { msgID: key });
          tracker.answered(scheduledAt);
        } catch (error) {
          tracker.fail(key, `publish: ${(error as Error).message}`);
        }
      };
    const observe = (tracker: CompletionTracker | undefined) => {
      current = tracker;
    };

    log(`Baseline: warmup ${profile.warmupMs} ms at ${profile.warmupRatePerSec}/s`);
    const warmup = await runPhase(
      {
        id: 'warmup',
        label: 'warmup',
        load: { kind: 'open-loop', ratePerSec: profile.warmupRatePerSec, maxOutstanding: MAX_OUTSTANDING_SENDS },
        durationMs: profile.warmupMs,
        drainTimeoutMs: profile.drainTimeoutMs,
      },
      sender('w'),
      observe,
    );
    for (const spec of standardPhases({
      rates: profile.rates,
      durationMs: profile.phaseMs,
      drainTimeoutMs: profile.drainTimeoutMs,
      closedLoopConcurrency: profile.closedLoopConcurrency,
    })) {
      const phase = await runPhase(spec, sender(`p${phaseNumber++}`), observe, cpuMeter);
      phases.push(phase);
      log(describePhase(phase));
    }
    messages.stop();
    await consuming;
    return result({ warmup: warmupOf(warmup, profile.warmupRatePerSec) });
  } catch (error) {
    return result({ error: (error as Error).message });
  } finally {
    await connection?.nc.close();
    await stopNats();
  }
}
