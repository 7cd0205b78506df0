/**
 * What ingress knows of the messages customers sent to a tenant's numbers, from receipt's InboundMessageReceived
 * events (the customer view keeps it, with the customer-service windows). A reply or a reaction may name an inbound
 * message by its wamid; the index says whether it is this tenant's and who sent it.
 */
export interface InboundMessageRef {
  readonly tenantId: string;
  readonly waMessageId: string;
  /** The customer, E.164. */
  readonly customer: string;
  /** The tenant's business number the customer wrote to. */
  readonly phoneNumberId: string;
  readonly occurredAt: Date;
}

export interface InboundMessageIndex {
  /** The tenant's inbound message with this wamid; another tenant's is undefined, exactly like an unknown one. */
  findInbound(tenantId: string, waMessageId: string): Promise<InboundMessageRef | undefined>;
}
