import { readFileSync, statSync } from 'node:fs';
import { LineCounter, isCollection, isPair, parseDocument, type ErrorCode, type YAMLError } from 'yaml';
import { z } from 'zod';
import { API_KEY_SCOPES, DEFAULT_API_KEY_SCOPES, defaultApiKeyId } from './api-key';
import type { Tenant } from './tenant';
import { TenantDirectory } from './tenant-directory';

/** Meta's default throughput for a business phone number, in messages per second. */
export const DEFAULT_THROUGHPUT_MPS = 80;

/** What opts a customer out of marketing messages when the tenants file says nothing (`optOut.stopKeywords`). */
export const DEFAULT_STOP_KEYWORDS: readonly string[] = ['STOP'];

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Callbacks carry customers' data, so they must use TLS; plain http is only allowed to this machine (tests, demos). */
function isAllowedCallbackUrl(url: string): boolean {
  // zod runs this refinement even when the URL check before it failed, so an unparsable URL must not throw here.
  const parsed = URL.parse(url);
  return parsed !== null && (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)));
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
      // Own string values only: `${constructor}` must not resolve to what every object inherits.
      const resolved = Object.hasOwn(env, reference[1]) ? env[reference[1]] : undefined;
      if (typeof resolved !== 'string' || resolved.length === 0) {
        context.addIssue({ code: 'custom', message: `environment variable ${reference[1]} is not set` });
        return z.NEVER;
      }
      return resolved;
    });
}

const UTC_DAY = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD (quote it)')
  .refine((day) => new Date(`${day}T00:00:00Z`).toISOString().startsWith(day), 'is not a calendar date');
const KEYWORDS = z.array(z.string().trim().min(1).max(64)).min(1).max(50);
/** Every scorecard criterion has a name and a weight besides its kind's own fields. */
const CRITERION = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
  weight: z.number().positive().max(1_000),
});

/**
 * The archive's settings (issue 13): the tenant's rate card (Meta reports no amounts) and its chat-evaluation
 * scorecard. Both optional; apps/archive/README.md documents them.
 */
const archiveSettings = z
  .object({
    rateCard: z
      .object({
        currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code, e.g. EUR'),
        rates: z
          .array(
            z
              .object({
                country: z.string().regex(/^([A-Z]{2}|\*)$/, 'must be an ISO 3166-1 alpha-2 code (DE) or * (every other country)'),
                category: z.string().regex(/^[a-z][a-z_-]{0,63}$/, 'must be a lowercase Meta pricing category, e.g. marketing'),
                amountMicros: z.number().int().min(0).max(1_000_000_000_000),
                effectiveFrom: UTC_DAY,
                effectiveUntil: UTC_DAY.optional(),
              })
              .strict()
              .refine((rate) => rate.effectiveUntil === undefined || rate.effectiveUntil > rate.effectiveFrom, {
                message: 'must be after effectiveFrom',
                path: ['effectiveUntil'],
              }),
          )
          .min(1)
          .max(10_000)
          .superRefine((rates, context) => {
            // Two rates taking effect the same day for the same country and category: which one applies is ambiguous.
            const seen = new Set<string>();
            rates.forEach((rate, r) => {
              const key = `${rate.country}/${rate.category}/${rate.effectiveFrom}`;
              if (seen.has(key))
                context.addIssue({
                  code: 'custom',
                  path: [r, 'effectiveFrom'],
                  message: `a second ${key} rate (same country, category and day)`,
                });
              seen.add(key);
            });
          }),
      })
      .strict()
      .optional(),
    scorecard: z
      .object({
        name: z.string().trim().min(1).max(64),
        criteria: z
          .array(
            z.discriminatedUnion('kind', [
              CRITERION.extend({ kind: z.literal('firstReplyWithin'), minutes: z.number().int().min(1).max(10_080) }).strict(),
              CRITERION.extend({ kind: z.literal('noWindowClosedWhileWaiting') }).strict(),
              CRITERION.extend({ kind: z.literal('sentimentNotWorse') }).strict(),
              CRITERION.extend({
                kind: z.literal('keywordsRequired'),
                keywords: KEYWORDS,
                match: z.enum(['all', 'any']).default('all'),
              }).strict(),
              CRITERION.extend({ kind: z.literal('keywordsForbidden'), keywords: KEYWORDS }).strict(),
            ]),
          )
          .min(1)
          .max(20)
          .refine((criteria) => new Set(criteria.map((c) => c.name)).size === criteria.length, 'criterion names must be unique'),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Longest scope text an error message repeats (scopes are not secrets, but the input may be anything). */
const MAX_QUOTED_SCOPE = 40;

/**
 * One API key: its hash, an optional id (default `key_` + 12 hex digits of the hash) and optional scopes (default:
 * {@link DEFAULT_API_KEY_SCOPES}). Strict, so that a misspelt `scope:` is refused rather than silently ignored (it
 * would leave the key with the default reach).
 */
const API_KEY = z
  .object({
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'),
    id: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'must be 1 to 64 letters, digits, dots, dashes or underscores')
      .optional(),
    scopes: z
      .array(
        z.enum(API_KEY_SCOPES, {
          error: (issue) =>
            // Only a (shortened) string is quoted: any other value could be long, nested or multi-line.
            typeof issue.input === 'string'
              ? `unknown scope ${JSON.stringify(issue.input.slice(0, MAX_QUOTED_SCOPE))}; one of: ${API_KEY_SCOPES.join(', ')}`
              : `must be a scope name (a string), not ${Array.isArray(issue.input) ? 'an array' : issue.input === null ? 'null' : typeof issue.input}; one of: ${API_KEY_SCOPES.join(', ')}`,
        }),
      )
      .min(1, `list at least one scope, or leave scopes out for the default (${DEFAULT_API_KEY_SCOPES.join(', ')})`)
      .max(API_KEY_SCOPES.length * 2)
      .optional(),
  })
  .strict()
  .transform((key) => ({
    sha256: key.sha256,
    id: key.id ?? defaultApiKeyId(key.sha256),
    scopes: key.scopes ? API_KEY_SCOPES.filter((scope) => key.scopes?.includes(scope)) : [...DEFAULT_API_KEY_SCOPES],
  }));

function tenantsFileSchema(env: NodeJS.ProcessEnv) {
  const tenant = z.object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'must be lowercase letters, digits and dashes'),
    name: z.string().min(1),
    homeRegion: z.enum(['eu', 'us']),
    apiKeys: z
      .array(API_KEY)
      .min(1)
      .max(1_000)
      .superRefine((keys, context) => {
        // The id names the key in the access log: two keys of one tenant with one id would be indistinguishable there.
        const ids = new Set<string>();
        keys.forEach(({ id }, k) => {
          if (ids.has(id))
            context.addIssue({ code: 'custom', path: [k, 'id'], message: `API key id "${id}" is used twice in this tenant` });
          ids.add(id);
        });
      }),
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
    // media-store: how long the tenant's media is kept (default: media-store's, 1 year).
    media: z
      .object({ retentionDays: z.number().int().min(1).max(36_500) })
      .strict()
      .optional(),
    // Retention policy (issue 14): mode and retention of archive records and media.
    governance: z
      .object({
        mode: z.enum(['operational', 'compliance']).default('operational'),
        archiveRetentionDays: z.number().int().min(1).max(36_500).optional(),
        mediaRetentionDays: z.number().int().min(1).max(36_500).optional(),
      })
      .strict()
      .optional(),
    sendLimits: z
      .object({
        sendsPerSecond: z.number().positive().max(100_000).optional(),
        burst: z.number().int().min(1).max(1_000_000).optional(),
        dailyQuota: z.number().int().min(1).max(1_000_000_000).optional(),
      })
      .strict()
      .optional(),
    optOut: z
      .object({
        stopKeywords: z
          .array(z.string().trim().min(1).max(64))
          .max(50)
          .default([...DEFAULT_STOP_KEYWORDS]),
        quickReplyPayloads: z.array(z.string().min(1).max(256)).max(50).default([]),
      })
      .strict()
      .optional(),
    archive: archiveSettings.optional(),
    verification: z
      .object({
        defaultTemplate: z
          .object({ name: z.string().min(1).max(512), language: z.string().min(2).max(16).default('en_US') })
          .strict()
          .optional(),
        sendsPerNumberPerHour: z.number().int().min(1).max(1_000).optional(),
        sendsPerTenantPerHour: z.number().int().min(1).max(10_000_000).optional(),
      })
      .strict()
      .optional(),
  });
  return z.object({ tenants: z.array(tenant) }).superRefine((file, context) => {
    // The directory needs every tenant id, API key and phone number id once; name the setting that repeats one.
    const tenantIds = new Set<string>();
    const apiKeys = new Set<string>();
    const phoneNumberIds = new Set<string>();
    file.tenants.forEach((tenant, t) => {
      const mediaDays = tenant.governance?.mediaRetentionDays;
      if (mediaDays !== undefined && tenant.media && tenant.media.retentionDays !== mediaDays) {
        context.addIssue({
          code: 'custom',
          path: ['tenants', t, 'governance', 'mediaRetentionDays'],
          message: `differs from media.retentionDays (${tenant.media.retentionDays}); set one of them`,
        });
      }
      if (tenantIds.has(tenant.id))
        context.addIssue({ code: 'custom', path: ['tenants', t, 'id'], message: `tenant id "${tenant.id}" is configured twice` });
      tenantIds.add(tenant.id);
      tenant.apiKeys.forEach(({ sha256 }, k) => {
        if (apiKeys.has(sha256))
          context.addIssue({
            code: 'custom',
            path: ['tenants', t, 'apiKeys', k, 'sha256'],
            message: 'this API key is also configured for another tenant or twice',
          });
        apiKeys.add(sha256);
      });
      tenant.whatsapp.phoneNumbers.forEach(({ id }, n) => {
        if (phoneNumberIds.has(id)) {
          context.addIssue({
            code: 'custom',
            path: ['tenants', t, 'whatsapp', 'phoneNumbers', n, 'id'],
            message: `phone number id "${id}" is configured twice`,
          });
        }
        phoneNumberIds.add(id);
      });
    });
  });
}

/**
 * The largest tenants file accepted (bytes): far more than any real directory (a tenant takes about 700 bytes), and
 * small enough that parsing it takes well under a second.
 */
export const MAX_TENANTS_FILE_BYTES = 4 * 1024 * 1024;
/** How deeply the YAML may nest; the format itself needs 7 levels. Deeper input is refused before it is converted. */
export const MAX_TENANTS_FILE_DEPTH = 32;
/**
 * YAML aliases (`*name`) are allowed for convenience, but each use of an anchor counts by the size of what it
 * repeats, so that a "billion laughs" document is refused instead of expanded.
 */
const MAX_YAML_ALIAS_COUNT = 100;
/** A file with thousands of problems is reported by its first ones. */
const MAX_REPORTED_PROBLEMS = 20;

/**
 * What each YAML error means, in our words: some of the library's messages quote the offending source text, and a
 * tenants file holds secrets. Only the codes in {@link YAML_MESSAGE_IS_SAFE} show the library's own message.
 */
const YAML_PROBLEMS: Readonly<Record<ErrorCode, string>> = {
  ALIAS_PROPS: 'an alias cannot have a tag or an anchor',
  BAD_ALIAS: 'invalid alias or anchor',
  BAD_COLLECTION_TYPE: 'a tag does not fit its collection',
  BAD_DIRECTIVE: 'invalid directive',
  BAD_DQ_ESCAPE: 'invalid escape sequence in a double-quoted string',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'anchors and tags must come after the indicator',
  BAD_SCALAR_START: 'a plain value cannot start with this character (quote it)',
  BLOCK_AS_IMPLICIT_KEY: 'a block collection cannot be a key',
  BLOCK_IN_FLOW: 'a block collection cannot appear inside [ ] or { }',
  DUPLICATE_KEY: 'a key appears twice in the same mapping',
  IMPOSSIBLE: 'unparsable YAML',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (an unclosed quote, bracket or brace?)',
  MULTILINE_IMPLICIT_KEY: 'a key cannot span lines',
  MULTIPLE_ANCHORS: 'a node has more than one anchor',
  MULTIPLE_DOCS: 'more than one YAML document (---); the tenants file is one document',
  MULTIPLE_TAGS: 'a node has more than one tag',
  NON_STRING_KEY: 'every key must be a string',
  RESOURCE_EXHAUSTION: `nested more than ${MAX_TENANTS_FILE_DEPTH} levels deep`,
  TAB_AS_INDENT: 'tabs cannot indent YAML',
  TAG_RESOLVE_FAILED: 'unknown tag (remove the !tag)',
  UNEXPECTED_TOKEN: 'unexpected character or token',
};

/** Error codes whose yaml messages are fixed sentences (or name only the kind of collection), never source text. */
const YAML_MESSAGE_IS_SAFE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BAD_INDENT',
  'BLOCK_AS_IMPLICIT_KEY',
  'DUPLICATE_KEY',
  'MISSING_CHAR',
  'MULTILINE_IMPLICIT_KEY',
  'NON_STRING_KEY',
  'TAB_AS_INDENT',
]);

/** A tenants file that cannot be used, with one line per problem, each naming the bad setting. */
export class TenantsFileError extends Error {
  override readonly name = 'TenantsFileError';

  constructor(readonly problems: readonly string[]) {
    const shown = problems.slice(0, MAX_REPORTED_PROBLEMS);
    const more = problems.length > shown.length ? `\n  … and ${problems.length - shown.length} more` : '';
    super(`invalid tenants file:\n  - ${shown.join('\n  - ')}${more}`);
  }
}

/** The deepest nesting of collections under `root`, counted without recursion and only up to `limit + 1`. */
function nestingDepth(root: unknown, limit: number): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[root, 0]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop() as [unknown, number];
    if (!isCollection(node)) continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const item of node.items) {
      if (isPair(item)) pending.push([item.key, depth + 1], [item.value, depth + 1]);
      else pending.push([item, depth + 1]);
    }
  }
  return deepest;
}

/**
 * The YAML text as plain data. Refuses, naming line and column, what a configuration file has no use for and what
 * could exhaust the process: syntax errors, several documents, unknown tags, non-string keys, nesting deeper than
 * {@link MAX_TENANTS_FILE_DEPTH} and alias expansion beyond {@link MAX_YAML_ALIAS_COUNT}.
 */
function readYaml(yamlText: string): unknown {
  const bytes = Buffer.byteLength(yamlText, 'utf8');
  if (bytes > MAX_TENANTS_FILE_BYTES)
    throw new TenantsFileError([`(file): ${bytes} bytes; at most ${MAX_TENANTS_FILE_BYTES} are accepted`]);
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { lineCounter, prettyErrors: false, stringKeys: true, uniqueKeys: true, logLevel: 'error' });
  const where = (error: YAMLError) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return `line ${line}, column ${col}`;
  };
  // Too deep for the library's own recursion: it reports every level it unwinds through; one line says it.
  const errors = document.errors.filter(
    (error, index, all) => error.code !== 'RESOURCE_EXHAUSTION' || all.findIndex((e) => e.code === error.code) === index,
  );
  // Warnings (an unknown tag, say) are refused too: in a configuration file they are mistakes. (logLevel 'error'
  // keeps the library from printing them, and still reports a second document as an error, which 'silent' does not.)
  const problems = [...errors, ...document.warnings].map((error) => {
    const safeMessage = YAML_MESSAGE_IS_SAFE.has(error.code) ? error.message.split('\n')[0].slice(0, 200) : undefined;
    return `${where(error)}: ${safeMessage ?? YAML_PROBLEMS[error.code] ?? 'invalid YAML'}`;
  });
  if (problems.length > 0) throw new TenantsFileError([...new Set(problems)]);
  if (nestingDepth(document.contents, MAX_TENANTS_FILE_DEPTH) > MAX_TENANTS_FILE_DEPTH) {
    throw new TenantsFileError([`(file): ${YAML_PROBLEMS.RESOURCE_EXHAUSTION}`]);
  }
  try {
    return document.toJS({ maxAliasCount: MAX_YAML_ALIAS_COUNT });
  } catch (error) {
    // The yaml library throws a ReferenceError for an alias it cannot or will not resolve. Its message quotes the
    // alias, which may be a secret that merely starts with `*`, so it is not repeated.
    if (!(error instanceof ReferenceError)) throw error;
    throw new TenantsFileError([
      /excessive/i.test(error.message)
        ? `(file): YAML aliases repeat too much content (more than ${MAX_YAML_ALIAS_COUNT} nodes)`
        : '(file): a YAML alias (*name) has no anchor (&name) before it; quote a value that starts with *',
    ]);
  }
}

/**
 * Parses tenants from YAML text. Throws TenantsFileError, naming each bad setting by its path (e.g.
 * `tenants.0.whatsapp.appSecret`) or the YAML's line and column, and never quoting a secret.
 */
export function parseTenants(yamlText: string, env: NodeJS.ProcessEnv = process.env): TenantDirectory {
  const parsed = tenantsFileSchema(env).safeParse(readYaml(yamlText));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`);
    throw new TenantsFileError(problems);
  }
  const tenants: Tenant[] = parsed.data.tenants.map((t) => ({
    id: t.id,
    name: t.name,
    homeRegion: t.homeRegion,
    apiKeys: t.apiKeys,
    whatsapp: t.whatsapp,
    callbacks: t.callbacks,
    ...(t.governance?.mediaRetentionDays !== undefined
      ? { media: { retentionDays: t.governance.mediaRetentionDays } }
      : t.media
        ? { media: t.media }
        : {}),
    ...(t.governance ? { governance: t.governance } : {}),
    ...(t.sendLimits ? { sendLimits: t.sendLimits } : {}),
    ...(t.optOut ? { optOut: t.optOut } : {}),
    ...(t.archive ? { archive: t.archive } : {}),
    ...(t.verification ? { verification: t.verification } : {}),
  }));
  return new TenantDirectory(tenants);
}

/** Loads the tenants YAML file named by WAYGATE_TENANTS_FILE. */
export function loadTenantsFile(file: string, env: NodeJS.ProcessEnv = process.env): TenantDirectory {
  let text: string;
  try {
    const { size } = statSync(file);
    if (size > MAX_TENANTS_FILE_BYTES)
      throw new TenantsFileError([`(file): ${size} bytes; at most ${MAX_TENANTS_FILE_BYTES} are accepted`]);
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if (error instanceof TenantsFileError) throw error;
    throw new Error(`cannot read tenants file ${file}: ${(error as Error).message}`);
  }
  return parseTenants(text, env);
}
