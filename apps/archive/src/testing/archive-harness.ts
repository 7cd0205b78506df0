/**
 * The archive as its integration tests run it: a real nats-server, a temp dir with a tenants file, the archive on
 * SQLite started by `startArchive` exactly as main.ts starts it (region eu), an ArchiveService client, a JetStream
 * connection to publish the events the archive consumes (ingress's MessageAccepted, the MessageStatusChanged of
 * receipt and delivery-retry, receipt's InboundMessageReceived), and every log line kept for assertions. Each test
 * file keeps only what is its own (tenants, the events it scripts, its RPC calls and assertions).
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { credentials, type Metadata } from '@grpc/grpc-js';
import { connectJetStream, publishEvent, regionStreams, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import {
  ArchiveServiceClient,
  ContentType,
  InboundMessageReceived,
  MessageAccepted,
  MessageStatusChanged,
  StatusSource,
} from '@waygate/proto';
import type { Clock } from '@waygate/domain';
import type { Logger } from '@waygate/telemetry';
import { createLogger } from '@waygate/telemetry-sdk';
import {
  bearerMetadata,
  callUnary,
  createTempDir,
  startNatsServer,
  tenantsYaml,
  waitForConsumersCaughtUp,
  type NatsServerHandle,
  type TestTenant,
  type UnaryMethodOf,
} from '@waygate/testing';
import { loadArchiveConfig, type ArchiveConfig } from '../config';
import type { ArchiveServiceDeps } from '../domain/archive-service';
import { startArchive } from '../server';

/** The region every archive test runs in. */
const REGION = 'eu';
const subjects = regionSubjects(REGION);
const streams = regionStreams(REGION);
const DAY_MS = 24 * 3_600_000;
/** The customer of an event that names none: a reserved-looking number no test asserts on. */
const DEFAULT_CUSTOMER = '+4915100000000';

/** A running archive, as startArchive returns it. */
export type RunningArchive = Awaited<ReturnType<typeof startArchive>>;

/** An ArchiveService RPC, by its client method name. */
export type ArchiveMethod = UnaryMethodOf<ArchiveServiceClient>;

export interface ArchiveHarnessOptions {
  /** The tenants file (with each tenant's `archive` settings); the first tenant's API key is the default caller. */
  readonly tenants: readonly TestTenant[];
  /** Variables over the harness's. */
  readonly env?: Readonly<Record<string, string>>;
  /** The text analyser the archive scores customer texts with; by default the real one (eld + nlp.js). */
  readonly analyzeText?: ArchiveServiceDeps['analyzeText'];
  /** The clock the archive runs on (retention); default the system clock. */
  readonly clock?: Clock;
  /** The archive's log level; default `debug`, so tests see every line the archive can write. */
  readonly logLevel?: 'debug' | 'info';
}

/**
 * MessageAccepted as ingress publishes it. Defaults: the tenant's first number, a fixed customer, expiry a day after
 * `acceptedAt`; `text` is shorthand for a text content (type text, summary `text`).
 */
export type AcceptedFields = Partial<MessageAccepted> &
  Pick<MessageAccepted, 'tenantId' | 'messageId'> & { readonly acceptedAt: Date; readonly text?: string };

/**
 * MessageStatusChanged as receipt (source WEBHOOK, the default) or delivery-retry (source DELIVERY) publishes it, on
 * that service's subject. Default wamid: `wamid.<messageId>`.
 */
export type StatusFields = Partial<MessageStatusChanged> &
  Pick<MessageStatusChanged, 'eventId' | 'tenantId' | 'messageId' | 'status'> & { readonly occurredAt: Date };

/**
 * InboundMessageReceived as receipt publishes it. Defaults: event id `wa:in:<wamid>`, the tenant's first number, a
 * fixed customer, type `text`, content JSON `{"body": text}` when `text` is given, the window closing a day later.
 */
export type InboundFields = Partial<InboundMessageReceived> &
  Pick<InboundMessageReceived, 'tenantId' | 'waMessageId'> & { readonly occurredAt: Date };

/** One archive under test with what it runs on; see {@link startArchiveHarness}. */
export class ArchiveHarness {
  /** Every line the archive logged, for tests that look at the logs. */
  readonly logLines: string[] = [];
  /** The logger the archive runs with (it writes into `logLines`). */
  readonly logger: Logger;
  private runningArchive: RunningArchive | undefined;
  private runningClient: ArchiveServiceClient | undefined;
  private archiveConfig: ArchiveConfig | undefined;
  private natsServer: NatsServerHandle | undefined;
  private eventsConnection: JetStreamConnection | undefined;
  private readonly dir = createTempDir();

  constructor(private readonly options: ArchiveHarnessOptions) {
    this.logger = createLogger({
      service: 'archive-test',
      level: options.logLevel ?? 'debug',
      destination: new Writable({ write: (chunk, _encoding, done) => (this.logLines.push(String(chunk)), done()) }),
    });
  }

  /** The archive started last (a restart replaces it). */
  get archive(): RunningArchive {
    return started(this.runningArchive);
  }

  /** A client of the archive started last. */
  get client(): ArchiveServiceClient {
    return started(this.runningClient);
  }

  /** The configuration the archive runs with (its SQLite file is `config.storage.file`). */
  get config(): ArchiveConfig {
    return started(this.archiveConfig);
  }

  /** A JetStream connection of the test's, to publish what ingress, receipt and delivery-retry publish. */
  get events(): JetStreamConnection {
    return started(this.eventsConnection);
  }

  /** Starts everything; on failure, stops what it started and throws. */
  async start(): Promise<this> {
    try {
      this.natsServer = await startNatsServer();
      const tenantsFile = path.join(this.dir.path, 'tenants.yaml');
      writeFileSync(tenantsFile, tenantsYaml(this.options.tenants));
      this.archiveConfig = loadArchiveConfig({
        WAYGATE_REGION: REGION,
        WAYGATE_NATS_URL: this.natsServer.url,
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_GRPC_PORT: '0',
        WAYGATE_STORAGE: 'sqlite',
        WAYGATE_DATA_DIR: path.join(this.dir.path, 'data'),
        WAYGATE_INTERNAL_SERVICE_TOKEN: 'archive-test-internal-token-0123456789abcdef',
        ...this.options.env,
      });
      await this.startArchive();
      this.eventsConnection = await connectJetStream(this.natsServer.url, 'archive-test-publisher');
      return this;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /**
   * Stops the archive, runs `whileDown` (e.g. publishes events nobody consumes yet), and starts it again on the same
   * configuration and store (a new gRPC port and client).
   */
  async restart(whileDown?: () => Promise<void>): Promise<void> {
    await this.stopArchive();
    await whileDown?.();
    await this.startArchive();
  }

  /** Stops everything the harness started, in reverse order; safe after a partial start. */
  async stop(): Promise<void> {
    await this.stopArchive();
    await this.eventsConnection?.nc.close();
    await this.natsServer?.stop();
    this.dir.remove();
  }

  /** Call metadata with the bearer `apiKey` (default: the first tenant's), for streaming RPCs. */
  metadata(apiKey = this.options.tenants[0]?.apiKey ?? ''): Metadata {
    return bearerMetadata(apiKey);
  }

  /** Calls a unary ArchiveService RPC as the tenant with `apiKey` (default: the first tenant's). */
  unary<Response>(method: ArchiveMethod, request: object, apiKey?: string): Promise<Response> {
    return callUnary(this.client, method, request, this.metadata(apiKey));
  }

  /** Publishes ingress's MessageAccepted on the outbound subject (message id `accepted:<messageId>` by default). */
  async publishAccepted({ text, ...fields }: AcceptedFields, msgId = `accepted:${fields.messageId}`): Promise<void> {
    const event = MessageAccepted.fromPartial({
      to: DEFAULT_CUSTOMER,
      phoneNumberId: this.phoneNumberOf(fields.tenantId),
      ...(text === undefined
        ? {}
        : {
            content: { $case: 'text', value: { body: text, previewUrl: false } },
            contentType: ContentType.CONTENT_TYPE_TEXT,
            contentSummary: 'text',
          }),
      expiresAt: new Date(fields.acceptedAt.getTime() + DAY_MS),
      ...fields,
    });
    await publishEvent(this.events.js, subjects.outboundAccepted, MessageAccepted.encode(event).finish(), msgId);
  }

  /** Publishes a MessageStatusChanged on receipt's or delivery-retry's subject (by its source; message id: the event id). */
  async publishStatus(fields: StatusFields, msgId = fields.eventId): Promise<void> {
    const event = MessageStatusChanged.fromPartial({
      source: StatusSource.STATUS_SOURCE_WEBHOOK,
      waMessageId: `wamid.${fields.messageId}`,
      ...fields,
    });
    const subject = event.source === StatusSource.STATUS_SOURCE_DELIVERY ? subjects.deliveryEvents : subjects.receiptEvents;
    await publishEvent(this.events.js, subject, MessageStatusChanged.encode(event).finish(), msgId);
  }

  /** Publishes receipt's InboundMessageReceived on the inbound subject (message id: the event id). */
  async publishInbound(fields: InboundFields): Promise<void> {
    const event = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${fields.waMessageId}`,
      phoneNumberId: this.phoneNumberOf(fields.tenantId),
      from: DEFAULT_CUSTOMER,
      type: 'text',
      ...(fields.text === undefined ? {} : { contentJson: JSON.stringify({ body: fields.text }) }),
      serviceWindowClosesAt: new Date(fields.occurredAt.getTime() + DAY_MS),
      ...fields,
    });
    await publishEvent(this.events.js, subjects.inboundEvents, InboundMessageReceived.encode(event).finish(), event.eventId);
  }

  /** Waits until both archive consumers have processed (acknowledged or rejected) everything published so far. */
  waitUntilCaughtUp(options: { timeoutMs?: number } = {}): Promise<void> {
    return waitForConsumersCaughtUp(
      this.events.jsm,
      [
        [streams.outbound.name, 'archive-outbound'],
        [streams.events.name, 'archive-events'],
      ],
      options,
    );
  }

  private phoneNumberOf(tenantId: string): string {
    const tenant = this.options.tenants.find((candidate) => candidate.id === tenantId);
    return tenant?.phoneNumberIds?.[0] ?? `pn-${tenantId}`;
  }

  private async startArchive(): Promise<void> {
    const analyzeText = this.options.analyzeText;
    this.runningArchive = await startArchive(this.config, this.logger, {
      ...(analyzeText ? { analyzeText } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    this.runningClient = new ArchiveServiceClient(`127.0.0.1:${this.runningArchive.grpcPort}`, credentials.createInsecure());
  }

  private async stopArchive(): Promise<void> {
    this.runningClient?.close();
    this.runningClient = undefined;
    await this.runningArchive?.stop();
    this.runningArchive = undefined;
  }
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the archive harness is not started (or already stopped)');
  return value;
}

/** Starts an {@link ArchiveHarness}: call it in `before`, and `stop()` it in `after`. */
export function startArchiveHarness(options: ArchiveHarnessOptions): Promise<ArchiveHarness> {
  return new ArchiveHarness(options).start();
}
