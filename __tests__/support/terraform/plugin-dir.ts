/**
 * Installs the stub `hashicorp/aws` provider where `terraform init -plugin-dir <dir>` finds it:
 * `<dir>/registry.terraform.io/hashicorp/aws/<version>/<os>_<arch>/terraform-provider-aws_v<version>`,
 * a shell shim that runs Node on the stub, bundled with esbuild next to its schemas and `.proto` files.
 */
import { buildSync } from 'esbuild';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { deriveSchemas } from './bindings-schema';
import { ProviderSchemas } from './schema';

/**
 * Types the stub always serves, besides those the synthesized stacks use (which the suite adds):
 * serving a new resource or data-source type is one entry here.
 */
export const STUB_TYPES = {
  resources: ['aws_iam_openid_connect_provider', 'aws_iam_role', 'aws_iam_role_policy', 'aws_iam_role_policy_attachment'],
  dataSources: [] as string[],
};

/** An installed stub provider. */
export interface StubProvider {
  /** The folder to pass to `terraform init -plugin-dir`. */
  readonly pluginDir: string;
  /** The provider version it claims: the one cdktf pins (`required_providers`). */
  readonly version: string;
  readonly schemas: ProviderSchemas;
  /** The bundled stub program (what the shim runs). */
  readonly bundle: string;
  /** The provider's address, e.g. `registry.terraform.io/hashicorp/aws`. */
  readonly address: string;
}

/** `linux_amd64`, `darwin_arm64`, ...: Terraform's name of this platform. */
export function terraformPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: '386', arm: 'arm' };
  return `${process.platform}_${arch[process.arch] ?? process.arch}`;
}

/** Bundles the stub into `<root>/stub/` and lays out `<root>/plugins/`; about 0.3 s. */
export function installStubProvider(root: string, types: { resources: readonly string[]; dataSources: readonly string[] }): StubProvider {
  const schemas = deriveSchemas({
    resources: [...new Set([...STUB_TYPES.resources, ...types.resources])].sort(),
    dataSources: [...new Set([...STUB_TYPES.dataSources, ...types.dataSources])].sort(),
  });
  const stubDir = path.join(root, 'stub');
  mkdirSync(stubDir, { recursive: true });
  const bundle = path.join(stubDir, 'stub-provider.js');
  buildSync({
    entryPoints: [path.join(__dirname, 'stub-provider.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: bundle,
    logLevel: 'warning',
  });
  for (const proto of ['tfplugin6-subset.proto', 'go-plugin-controller.proto']) {
    copyFileSync(path.join(__dirname, 'protocol', proto), path.join(stubDir, proto));
  }
  writeFileSync(path.join(stubDir, 'schemas.json'), JSON.stringify(schemas));

  const pluginDir = path.join(root, 'plugins');
  const version = schemas.providerVersion;
  const platformDir = path.join(pluginDir, 'registry.terraform.io', 'hashicorp', 'aws', version, terraformPlatform());
  mkdirSync(platformDir, { recursive: true });
  const shim = path.join(platformDir, `terraform-provider-aws_v${version}`);
  writeFileSync(shim, `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(bundle)} "$@"\n`);
  chmodSync(shim, 0o755);
  return { pluginDir, version, schemas, bundle, address: 'registry.terraform.io/hashicorp/aws' };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
