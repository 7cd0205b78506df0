import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Tenant } from './tenant';
import { TenantDirectory } from './tenant-directory';

/** Meta's default throughput for a business phone number, in messages per second. */
export const DEFAULT_THROUGHPUT_MPS = 80;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Callbacks carry customers' data, so they must use TLS; plain http is only allowed to this machine (tests, demos). */
function isAllowedCallbackUrl(url: string): boolean {
  const parsed = new URL(url);
  return parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname));
}

/** `${NAME}` in a secret field is read from the environment, so secrets need not sit in the file. */
const ENV_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

function secret(env: NodeJS.ProcessEnv) {
  return z
    .string()
    .min(1)
    .transform((value, context) => {
      const reference = ENV_REFERENCE.exec(value);
      if (!reference) return value;
      const resolved = env[reference[1]];
      if (!resolved) {
        context.addIssue({ code: 'custom', message: `environment variable ${reference[1]} is not set` });
        return z.NEVER;
      }
      return resolved;
    });
}

function tenantsFileSchema(env: NodeJS.ProcessEnv) {
  const tenant = z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
    name: z.string().min(1),
    homeRegion: z.enum(['eu', 'us']),
    apiKeys: z.array(z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256') })).min(1),
    whatsapp: z.object({
      wabaId: z.string().min(1),
      appSecret: secret(env),
      verifyToken: secret(env),
      phoneNumbers: z
        .array(
          z.object({
            id: z.string().min(1),
            displayPhoneNumber: z.string().min(1),
            accessToken: secret(env),
            throughputMps: z.number().int().min(1).max(1000).default(DEFAULT_THROUGHPUT_MPS),
          }),
        )
        .min(1),
    }),
    callbacks: z
      .array(
        z.object({
          id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
          url: z.url().refine(isAllowedCallbackUrl, 'must be an https URL (http only for localhost/127.0.0.1/[::1])'),
          signingSecret: secret(env),
        }),
      )
      .default([])
      .refine((callbacks) => new Set(callbacks.map((c) => c.id)).size === callbacks.length, 'callback ids must be unique'),
  });
  return z.object({ tenants: z.array(tenant) });
}

/** Parses tenants from YAML text; throws an Error naming the bad path on invalid input. */
export function parseTenants(yamlText: string, env: NodeJS.ProcessEnv = process.env): TenantDirectory {
  const parsed = tenantsFileSchema(env).safeParse(parseYaml(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid tenants file:\n  - ${problems.join('\n  - ')}`);
  }
  const tenants: Tenant[] = parsed.data.tenants.map((t) => ({
    id: t.id,
    name: t.name,
    homeRegion: t.homeRegion,
    apiKeySha256: t.apiKeys.map((key) => key.sha256),
    whatsapp: t.whatsapp,
    callbacks: t.callbacks,
  }));
  return new TenantDirectory(tenants);
}

/** Loads the tenants YAML file named by WAYGATE_TENANTS_FILE. */
export function loadTenantsFile(file: string, env: NodeJS.ProcessEnv = process.env): TenantDirectory {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read tenants file ${file}: ${(error as Error).message}`);
  }
  return parseTenants(text, env);
}
