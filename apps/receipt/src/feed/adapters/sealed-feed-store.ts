import type { CustomerSealer } from '@waygate/keyring';
import type { TenantFeedStore } from '../domain/feed-store';
import type { NewTenantEvent, TenantEvent } from '../domain/tenant-event';

type Args<K extends keyof TenantFeedStore> = TenantFeedStore[K] extends (...args: infer A) => unknown ? A : never;

/** An inbound event's fields that carry what the customer said: sealed at rest. */
const INBOUND_CONTENT = ['text', 'contentJson'] as const;

/**
 * The tenant feed's inbound events at rest under the customer's data key (issue 14): wraps a TenantFeedStore (SQLite,
 * MongoDB) and seals an inbound message's text and content before the log stores them, opening them on every read
 * (WatchEvents, ListEvents, the callback outbox's rendering). Once the customer's key is destroyed (erasure) they read
 * as absent. Everything else passes through: status events carry no text of the customer (their content summary, of
 * the business's message, stays as stored until erasure rewrites it), and callback bodies are stored as they will be
 * posted (erasure deletes the customer's).
 */
export class SealedFeedStore implements TenantFeedStore {
  constructor(
    private readonly inner: TenantFeedStore,
    private readonly cipher: CustomerSealer,
  ) {}

  async appendEvent(event: NewTenantEvent): Promise<TenantEvent | undefined> {
    if (event.type !== 'inbound') return this.inner.appendEvent(event);
    const inbound = { ...event.inbound };
    for (const field of INBOUND_CONTENT) {
      const value = inbound[field];
      if (value !== undefined) inbound[field] = await this.cipher.seal(event.tenantId, event.inbound.from, value);
    }
    const stored = await this.inner.appendEvent({ ...event, inbound });
    // The caller renders callbacks from what it appended: it gets the plaintext back, with the log's sequence.
    return stored && { ...event, sequence: stored.sequence };
  }

  async readEvents(...args: Args<'readEvents'>): Promise<TenantEvent[]> {
    const events = await this.inner.readEvents(...args);
    return Promise.all(events.map((event) => this.open(event)));
  }

  applyToMessage(...args: Args<'applyToMessage'>): ReturnType<TenantFeedStore['applyToMessage']> {
    return this.inner.applyToMessage(...args);
  }

  lastSequence(...args: Args<'lastSequence'>): ReturnType<TenantFeedStore['lastSequence']> {
    return this.inner.lastSequence(...args);
  }

  firstSequence(...args: Args<'firstSequence'>): ReturnType<TenantFeedStore['firstSequence']> {
    return this.inner.firstSequence(...args);
  }

  eraseCustomer(...args: Args<'eraseCustomer'>): ReturnType<TenantFeedStore['eraseCustomer']> {
    return this.inner.eraseCustomer(...args);
  }

  prune(...args: Args<'prune'>): ReturnType<TenantFeedStore['prune']> {
    return this.inner.prune(...args);
  }

  initEndpoint(...args: Args<'initEndpoint'>): ReturnType<TenantFeedStore['initEndpoint']> {
    return this.inner.initEndpoint(...args);
  }

  getEndpoint(...args: Args<'getEndpoint'>): ReturnType<TenantFeedStore['getEndpoint']> {
    return this.inner.getEndpoint(...args);
  }

  enqueueDeliveries(...args: Args<'enqueueDeliveries'>): ReturnType<TenantFeedStore['enqueueDeliveries']> {
    return this.inner.enqueueDeliveries(...args);
  }

  claimDeliveries(...args: Args<'claimDeliveries'>): ReturnType<TenantFeedStore['claimDeliveries']> {
    return this.inner.claimDeliveries(...args);
  }

  completeDelivery(...args: Args<'completeDelivery'>): ReturnType<TenantFeedStore['completeDelivery']> {
    return this.inner.completeDelivery(...args);
  }

  nextAttemptAt(...args: Args<'nextAttemptAt'>): ReturnType<TenantFeedStore['nextAttemptAt']> {
    return this.inner.nextAttemptAt(...args);
  }

  parkExpired(...args: Args<'parkExpired'>): ReturnType<TenantFeedStore['parkExpired']> {
    return this.inner.parkExpired(...args);
  }

  getDelivery(...args: Args<'getDelivery'>): ReturnType<TenantFeedStore['getDelivery']> {
    return this.inner.getDelivery(...args);
  }

  recordEndpointSuccess(...args: Args<'recordEndpointSuccess'>): ReturnType<TenantFeedStore['recordEndpointSuccess']> {
    return this.inner.recordEndpointSuccess(...args);
  }

  recordEndpointFailure(...args: Args<'recordEndpointFailure'>): ReturnType<TenantFeedStore['recordEndpointFailure']> {
    return this.inner.recordEndpointFailure(...args);
  }

  tryTakeProbe(...args: Args<'tryTakeProbe'>): ReturnType<TenantFeedStore['tryTakeProbe']> {
    return this.inner.tryTakeProbe(...args);
  }

  listDeadLetters(...args: Args<'listDeadLetters'>): ReturnType<TenantFeedStore['listDeadLetters']> {
    return this.inner.listDeadLetters(...args);
  }

  replayDeadLetters(...args: Args<'replayDeadLetters'>): ReturnType<TenantFeedStore['replayDeadLetters']> {
    return this.inner.replayDeadLetters(...args);
  }

  close(...args: Args<'close'>): ReturnType<TenantFeedStore['close']> {
    return this.inner.close(...args);
  }

  private async open(event: TenantEvent): Promise<TenantEvent> {
    if (event.type !== 'inbound') return event;
    const inbound: { -readonly [K in keyof typeof event.inbound]: (typeof event.inbound)[K] } = { ...event.inbound };
    for (const field of INBOUND_CONTENT) {
      const value = inbound[field];
      if (value === undefined) continue;
      const opened = await this.cipher.open(event.tenantId, value);
      if (opened === undefined) delete inbound[field];
      else inbound[field] = opened;
    }
    return { ...event, inbound };
  }
}
