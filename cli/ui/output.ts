/**
 * Machine output: every command's result is a document with `apiVersion` and `kind`, so its shape can
 * evolve (docs/cli.md documents each kind; a schema test pins them). `-o json` and `-o yaml` print the
 * same document; errors are documents too (`kind: Error`), so a pipeline can always parse stdout.
 */
import { stringify } from 'yaml';
import type { ExitCode } from '../../contract/exit-codes.ts';
import type { Problem } from '../errors.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The apiVersion of every document mmoctl prints. */
export const API_VERSION = 'mmoctl.dev/v1alpha1';

export interface Document {
  readonly apiVersion: typeof API_VERSION;
  readonly kind: string;
  readonly [field: string]: unknown;
}

export function document<T extends object>(kind: string, body: T): Document & T {
  return { apiVersion: API_VERSION, kind, ...body };
}

/** The document of a failed command. */
export function errorDocument(exitCode: ExitCode, message: string, hint: string | undefined, problems: readonly Problem[]): Document {
  return document('Error', { exitCode, error: { message, ...(hint ? { hint } : {}), problems } });
}

/** A document as JSON (2-space indent) or YAML, ending with a newline. */
export function serialize(doc: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 2)}\n` : stringify(doc, { lineWidth: 0 });
}
