import { z } from 'zod';

/** Configuration could not be parsed; the message names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses environment variables once, at startup, into a frozen typed object. Each key of `shape` is the name of
 * an environment variable; a failure lists every bad variable by name so the operator can fix them in one go.
 */
export function parseEnv<Shape extends z.ZodRawShape>(
  shape: Shape,
  env: NodeJS.ProcessEnv = process.env,
): Readonly<z.infer<z.ZodObject<Shape>>> {
  const result = z.object(shape).safeParse(env);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join('.');
        const value = env[name];
        return `${name}: ${issue.message}${value === undefined ? ' (not set)' : ''}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

const INTERNAL_SERVICE_TOKEN_MIN_LENGTH = 32;

/** Common variable schemas, so every service spells and validates them the same way. */
export const envSchemas = {
  region: z.enum(['eu', 'us'], { message: 'must be "eu" or "us"' }),
  port: (defaultPort: number) => z.coerce.number().int().min(0).max(65535).default(defaultPort),
  host: z.string().min(1).default('127.0.0.1'),
  natsUrl: z
    .string()
    .regex(/^(nats|tls):\/\/\S+$/, 'must be a nats:// or tls:// URL')
    .default('nats://127.0.0.1:4222'),
  storage: z.enum(['sqlite', 'mongodb'], { message: 'must be "sqlite" or "mongodb"' }).default('sqlite'),
  dataDir: z.string().min(1).default('.data'),
  mongoUri: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL')
    .optional(),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  tenantsFile: z.string().min(1, 'must name the tenants YAML file'),
  durationMs: (defaultMs: number) => z.coerce.number().int().positive().default(defaultMs),
  /**
   * WAYGATE_INTERNAL_SERVICE_TOKEN where a service needs it: the region-internal service token with which services of
   * a region call each other's internal APIs. At least 32 characters; `usedFor` says why it is required when unset.
   */
  internalServiceToken: (usedFor: string) =>
    z
      .string({ message: `required: ${usedFor}` })
      .min(
        INTERNAL_SERVICE_TOKEN_MIN_LENGTH,
        `must be at least ${INTERNAL_SERVICE_TOKEN_MIN_LENGTH} characters, e.g. the output of \`openssl rand -hex 32\``,
      ),
} as const;

/** Variables every service reads, with their defaults. */
export const commonEnvShape = {
  WAYGATE_REGION: envSchemas.region,
  WAYGATE_NATS_URL: envSchemas.natsUrl,
  WAYGATE_TENANTS_FILE: envSchemas.tenantsFile,
  WAYGATE_LOG_LEVEL: envSchemas.logLevel,
  WAYGATE_GRPC_HOST: envSchemas.host,
} as const;
