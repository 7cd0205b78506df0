/**
 * ingress as its integration tests run it: a real nats-server, a temp dir with a tenants file, ingress on SQLite
 * started by `startIngress` exactly as main.ts starts it (region eu), a gRPC client, a JetStream connection to
 * publish receipt's and delivery-retry's events, and every log line kept for assertions. Each test file keeps only
 * what is its own (tenants, variables, the services beside ingress).
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { credentials } from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { connectJetStream, publishEvent, regionSubjects, type JetStreamConnection } from '@waygate/nats';
import { InboundMessageReceived, MessagingServiceClient } from '@waygate/proto';
import type { Clock } from '@waygate/domain';
import type { Logger } from '@waygate/telemetry';
import { createLogger } from '@waygate/telemetry-sdk';
import {
  bearerMetadata,
  callUnary,
  createTempDir,
  freePort,
  startNatsServer,
  tenantsYaml,
  waitFor,
  type NatsServerHandle,
  type TestTenant,
  type UnaryMethodOf,
} from '@waygate/testing';
import { loadIngressConfig, type IngressConfig } from '../config';
import { startIngress } from '../server';

/** The region every ingress test runs in. */
const REGION = 'eu';

/** A running ingress, as startIngress returns it. */
export type RunningIngress = Awaited<ReturnType<typeof startIngress>>;

/** A MessagingService RPC, by its client method name. */
export type MessagingMethod = UnaryMethodOf<MessagingServiceClient>;

/** What a service started beside ingress needs to know. */
export interface HarnessSetup {
  readonly natsUrl: string;
  readonly tenantsFile: string;
  /** The test's temp dir (ingress's data is under `data/`). */
  readonly dir: string;
}

/** A service the test runs beside ingress (e.g. media-store): started before ingress, stopped after it. */
export interface BesideIngress {
  /** Variables for ingress, e.g. WAYGATE_MEDIA_STORE_ADDRESS. */
  readonly env: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

export interface IngressHarnessOptions {
  /** The tenants file; the first tenant's API key is the default caller. */
  readonly tenants: readonly TestTenant[];
  /** Variables over the harness's (e.g. WAYGATE_DELIVERY_ADDRESS of a server the test runs). */
  readonly env?: Readonly<Record<string, string>>;
  /** Starts what ingress talks to in this test (a media-store process, a delivery-retry stand-in). */
  readonly startBeside?: (setup: HarnessSetup) => Promise<BesideIngress>;
  /** The clock ingress reads (verification expiry and limits); the system clock by default. */
  readonly clock?: Clock;
}

/** An inbound message as receipt publishes it (InboundMessageReceived); its window closes 24 hours after `at`. */
export interface CustomerMessage {
  readonly tenantId: string;
  readonly phoneNumberId: string;
  /** The customer (E.164). */
  readonly from: string;
  /** Default: a fresh `wamid.in-<n>`. */
  readonly waMessageId?: string;
  /** When the customer wrote; default now. */
  readonly at?: Date;
}

const DAY_MS = 24 * 3_600_000;

/** One ingress under test with what it runs on; see {@link startIngressHarness}. */
export class IngressHarness {
  /** Every line ingress logged, for tests that look at the logs. */
  readonly logLines: string[] = [];
  /** The logger ingress runs with (it writes into `logLines`). */
  readonly logger: Logger = createLogger({
    service: 'ingress-test',
    destination: new Writable({ write: (chunk, _encoding, done) => (this.logLines.push(String(chunk)), done()) }),
  });
  private runningIngress: RunningIngress | undefined;
  private runningClient: MessagingServiceClient | undefined;
  private ingressConfig: IngressConfig | undefined;
  private natsServer: NatsServerHandle | undefined;
  private eventsConnection: JetStreamConnection | undefined;
  private beside: BesideIngress | undefined;
  private inboundCount = 0;
  private readonly dir = createTempDir();

  /** The ingress started last (a restart replaces it). */
  get ingress(): RunningIngress {
    return started(this.runningIngress);
  }

  /** A client of the ingress started last. */
  get client(): MessagingServiceClient {
    return started(this.runningClient);
  }

  /** The configuration ingress runs with (a second replica may start on it: same store, its own gRPC port). */
  get config(): IngressConfig {
    return started(this.ingressConfig);
  }

  /** nats-server's store directory (for byte searches of what the streams hold). */
  get natsStoreDir(): string {
    return started(this.natsServer).storeDir;
  }

  /** A JetStream connection of the test's, to publish what receipt and delivery-retry publish. */
  get events(): JetStreamConnection {
    return started(this.eventsConnection);
  }

  constructor(private readonly options: IngressHarnessOptions) {}

  /** Starts everything; on failure, stops what it started and throws. */
  async start(): Promise<this> {
    try {
      this.natsServer = await startNatsServer();
      const tenantsFile = path.join(this.dir.path, 'tenants.yaml');
      writeFileSync(tenantsFile, tenantsYaml(this.options.tenants));
      this.beside = await this.options.startBeside?.({ natsUrl: this.natsServer.url, tenantsFile, dir: this.dir.path });
      this.ingressConfig = loadIngressConfig({
        WAYGATE_REGION: REGION,
        WAYGATE_NATS_URL: this.natsServer.url,
        WAYGATE_TENANTS_FILE: tenantsFile,
        WAYGATE_GRPC_PORT: '0',
        WAYGATE_STORAGE: 'sqlite',
        WAYGATE_DATA_DIR: path.join(this.dir.path, 'data'),
        // Nothing listens there unless a test says otherwise; both channels connect lazily.
        WAYGATE_DELIVERY_ADDRESS: `127.0.0.1:${await freePort()}`,
        WAYGATE_MEDIA_STORE_ADDRESS: `127.0.0.1:${await freePort()}`,
        WAYGATE_INTERNAL_SERVICE_TOKEN: 'internal-token-0123456789abcdef0123456789',
        ...this.beside?.env,
        ...this.options.env,
      });
      await this.startIngress();
      this.eventsConnection = await connectJetStream(this.natsServer.url, 'ingress-test-publisher');
      return this;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops ingress and starts it again on the same configuration and store (a new gRPC port and client). */
  async restart(): Promise<void> {
    await this.stopIngress();
    await this.startIngress();
  }

  /** Stops everything the harness started, in reverse order; safe after a partial start. */
  async stop(): Promise<void> {
    await this.stopIngress();
    await this.eventsConnection?.nc.close();
    await this.beside?.stop();
    await this.natsServer?.stop();
    this.dir.remove();
  }

  /** Calls a unary MessagingService RPC as the tenant with `apiKey` (default: the first tenant's). */
  unary<Response>(method: MessagingMethod, request: object, apiKey = this.options.tenants[0]?.apiKey ?? ''): Promise<Response> {
    return callUnary(this.client, method, request, bearerMetadata(apiKey));
  }

  /** Publishes receipt's InboundMessageReceived for the message; returns when the customer's window closes. */
  async customerWrites(message: CustomerMessage): Promise<Date> {
    const events = this.events;
    const at = message.at ?? new Date();
    const closesAt = new Date(at.getTime() + DAY_MS);
    const waMessageId = message.waMessageId ?? `wamid.in-${++this.inboundCount}`;
    const event = InboundMessageReceived.fromPartial({
      eventId: `wa:in:${waMessageId}`,
      tenantId: message.tenantId,
      phoneNumberId: message.phoneNumberId,
      from: message.from,
      waMessageId,
      occurredAt: at,
      type: 'text',
      text: 'hi',
      serviceWindowClosesAt: closesAt,
    });
    await publishEvent(events.js, regionSubjects(REGION).inboundEvents, InboundMessageReceived.encode(event).finish(), event.eventId);
    return closesAt;
  }

  /**
   * Waits until ingress's customer view holds `count` windows, read from its SQLite file: for tests where a probe
   * send would be counted or listed.
   */
  async waitForCustomerWindows(count: number): Promise<void> {
    const config = this.config;
    if (config.storage.kind !== 'sqlite') throw new Error('the harness runs ingress on SQLite');
    const view = new Database(path.join(path.dirname(config.storage.file), 'ingress-customers.sqlite'), { readonly: true });
    try {
      await waitFor(() => view.prepare('SELECT COUNT(*) FROM customer_windows').pluck().get() === count, {
        what: `${count} customer window(s) in ingress's view`,
      });
    } finally {
      view.close();
    }
  }

  /** Starts ingress (again) on the same configuration and store, after {@link stopIngress}. */
  async startIngress(): Promise<void> {
    this.runningIngress = await startIngress(this.config, this.logger, this.options.clock);
    this.runningClient = new MessagingServiceClient(`127.0.0.1:${this.runningIngress.grpcPort}`, credentials.createInsecure());
  }

  /** Stops ingress only (NATS and the rest keep running), e.g. to queue events for it while it is down. */
  async stopIngress(): Promise<void> {
    this.runningClient?.close();
    this.runningClient = undefined;
    await this.runningIngress?.stop();
    this.runningIngress = undefined;
  }
}

function started<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the ingress harness is not started (or already stopped)');
  return value;
}

/** Starts an {@link IngressHarness}: call it in `before`, and `stop()` it in `after`. */
export function startIngressHarness(options: IngressHarnessOptions): Promise<IngressHarness> {
  return new IngressHarness(options).start();
}
