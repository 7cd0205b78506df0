import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SimulatorInputError } from '../simulator-input-error';
import type { SimulatorOptions } from '../types';

const phoneNumberSchema = z.strictObject({
  id: z.string().min(1),
  displayPhoneNumber: z.string().min(1),
  accessToken: z.string().min(1),
  throughputMps: z.number().int().optional(),
});

// Templates are checked in depth by the template registry; here only their place in the file.
const wabaSchema = z.strictObject({
  id: z.string().min(1),
  appSecret: z.string().min(1).optional(),
  phoneNumbers: z.array(phoneNumberSchema).min(1),
  templates: z.array(z.record(z.string(), z.unknown())).default([]),
});

const configFileSchema = z.strictObject({
  appSecret: z.string().min(1),
  seed: z.number().int().nonnegative().optional(),
  timeScale: z.number().nonnegative().optional(),
  statusDelayMs: z.number().nonnegative().optional(),
  enforceCustomerServiceWindow: z.boolean().optional(),
  webhookUrl: z.string().optional(),
  wabas: z.array(wabaSchema).min(1),
});

/** The options a YAML config file describes (WABAs with their numbers and templates). */
export type ConfigFileOptions = Omit<SimulatorOptions, 'port' | 'onEvent'>;

/**
 * Parses a simulator config file: WABAs, each with an optional app secret, its phone numbers (id, display number,
 * access token, throughput) and its approved templates. Throws {@link SimulatorInputError} naming the bad field.
 */
export function parseConfigFile(text: string): ConfigFileOptions {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new SimulatorInputError(`config file is not valid YAML: ${(error as Error).message}`);
  }
  const parsed = configFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SimulatorInputError(`config file: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  const { wabas, ...rest } = parsed.data;
  return {
    ...rest,
    phoneNumbers: wabas.flatMap((waba) => waba.phoneNumbers.map((phone) => ({ ...phone, wabaId: waba.id }))),
    wabas: wabas.map((waba) => ({ id: waba.id, ...(waba.appSecret === undefined ? {} : { appSecret: waba.appSecret }) })),
    templates: wabas.flatMap((waba) =>
      waba.templates.map((template) => ({ ...template, wabaId: waba.id })),
    ) as SimulatorOptions['templates'],
  };
}

/** Reads and parses a config file from disk. */
export function loadConfigFile(path: string): ConfigFileOptions {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SimulatorInputError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  return parseConfigFile(text);
}
