/** A protobuf message type as ts-proto generates it. */
interface Decodable<T> {
  decode(input: Uint8Array): T;
}

/**
 * Decodes an event from NATS, or returns undefined when the bytes are not a valid message of that type (a poison
 * message the consumer should terminate rather than retry forever).
 */
export function decodeEvent<T>(type: Decodable<T>, data: Uint8Array): T | undefined {
  try {
    return type.decode(data);
  } catch {
    return undefined;
  }
}
