import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';

/** Call metadata carrying `apiKey` as a bearer credential, as Waygate's public APIs expect it. */
export function bearerMetadata(apiKey: string): Metadata {
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

/** A unary RPC of a generated grpc-js client, by its method name. */
export type UnaryMethodOf<C extends Client> = Exclude<keyof C, keyof Client>;

/**
 * Calls the unary RPC `method` of `client` with `metadata` and resolves with its response, or rejects with the
 * ServiceError (its code, details and metadata intact for the test's assertions).
 */
export function callUnary<C extends Client, Response>(
  client: C,
  method: UnaryMethodOf<C>,
  request: object,
  metadata: Metadata,
): Promise<Response> {
  const call = (client[method] as (...args: unknown[]) => unknown).bind(client) as (
    request: object,
    metadata: Metadata,
    callback: (error: ServiceError | null, response: Response) => void,
  ) => void;
  return new Promise((resolve, reject) => call(request, metadata, (error, response) => (error ? reject(error) : resolve(response))));
}
