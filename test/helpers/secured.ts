// The local stack's secured endpoints for the authentication and TLS tests: the generated CA and
// client certificate, and the credentials the stack created (always through ${file:…} references,
// the way a user keeps secrets out of the configuration).
import type { PipelineConfig } from '../../config/schema.js';
import { stackCredentialFile, stackTlsFiles, type StackTlsFiles } from '../../infra/stack/credentials.js';

export function stackTls(config: PipelineConfig): StackTlsFiles {
  return stackTlsFiles(config.stack.state_dir);
}

/** `${file:…}` of a credential the stack generated. */
export function credentialReference(config: PipelineConfig, name: string): string {
  return `\${file:${stackCredentialFile(config.stack.state_dir, name)}}`;
}

export function fileReference(path: string): string {
  return `\${file:${path}}`;
}
