/**
 * A stub `hashicorp/aws` provider for offline Terraform runs: a Node program that speaks Terraform's
 * plugin protocol 6 through go-plugin, with the schemas of the real provider's types (derived from
 * the cdktf bindings, see `schema.ts`) and a fake AWS that plans and applies (`fake-aws.ts`).
 *
 * Bundled by `plugin-dir.ts` next to `schemas.json` and the `.proto` files, and started by Terraform
 * through a shell shim. go-plugin's side of the conversation:
 * 1. Terraform starts the plugin with the magic cookie, the protocol versions it speaks and, for
 *    AutoMTLS, its client certificate (`PLUGIN_CLIENT_CERT`) in the environment;
 * 2. the plugin listens, then prints one line on stdout:
 *    `CORE-VERSION|APP-VERSION|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT` (base64 DER, no padding);
 * 3. Terraform calls the gRPC services over mutual TLS, and `plugin.GRPCController/Shutdown` at the end.
 *
 * With `TF_STUB_AWS_SERVE=1` it is instead a long-running server for `TF_REATTACH_PROVIDERS`
 * (Terraform's provider-debugging mode): plain gRPC on 127.0.0.1, the same handshake line, and it
 * keeps running until it is killed, so Terraform commands skip the start of a provider process.
 *
 * With `TF_STUB_AWS_WORLD_URL` set (the local AWS's provider API) it is a client of that AWS, as the real
 * provider is of AWS: `ConfigureProvider` resolves credentials and the caller's account (`aws-session.ts`),
 * `ReadResource` asks the provider API for the resource as it now is, `ApplyResourceChange` has it create,
 * update or delete the resource (`world-client.ts`), and AWS's refusals become the provider's diagnostics.
 * Without it the stub is a pure fake: no credentials, no AWS, state as planned.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { appendFileSync, readFileSync } from 'fs';
import * as path from 'path';
import { ProviderError } from './aws-errors';
import { AwsSession, startSession, WORLD_URL_ENV_VAR } from './aws-session';
import { selfSignedCertificate } from './certificate';
import { apply, DEFAULT_ACCOUNT_ID, imported, plan, providerSettings, ProviderSettings, read } from './fake-aws';
import { withProviderDefaults } from './provider-defaults';
import { BlockSchema, blockType, ProviderSchemas } from './schema';
import { decodeValue, encodeValue, ObjectValue, UNKNOWN, Value } from './values';
import { callWorld, JsonObject, JsonValue, WorldOperation } from './world-client';

/** go-plugin's handshake constants for Terraform providers. */
const MAGIC_COOKIE_KEY = 'TF_PLUGIN_MAGIC_COOKIE';
const MAGIC_COOKIE_VALUE = 'd602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2';
const CORE_PROTOCOL_VERSION = 1;
const PROVIDER_PROTOCOL_VERSION = 6;

/** Set by whoever starts a long-running server for `TF_REATTACH_PROVIDERS`. */
const SERVE_ENV_VAR = 'TF_STUB_AWS_SERVE';

/** Where the bundle's data files are (the bundle's own folder). */
const HERE = __dirname;

interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  summary: string;
  detail?: string;
}

type Answer = Record<string, unknown> | Buffer;
type Handler = (request: any) => Answer | Promise<Answer>;

/** Set `TF_STUB_AWS_LOG=<file>` to have every start and call appended to that file. */
function trace(line: string): void {
  const file = process.env.TF_STUB_AWS_LOG;
  if (file !== undefined && file !== '') appendFileSync(file, `${process.pid} ${(performance.now() / 1000).toFixed(3)} ${line}\n`);
}

function main(): void {
  trace(`start (ppid ${process.ppid})`);
  process.on('exit', (code) => trace(`exit ${code}`));
  process.on('uncaughtException', (error) => {
    trace(`uncaught ${error.stack ?? error}`);
    process.stderr.write(`stub aws provider: ${error.stack ?? error}\n`);
    process.exit(1);
  });
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    trace('no magic cookie');
    process.stderr.write('This is the test stub of the hashicorp/aws Terraform provider: Terraform starts it, people do not.\n');
    process.exit(1);
  }
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? String(PROVIDER_PROTOCOL_VERSION)).split(',').map((v) => Number(v.trim()));
  if (!offered.includes(PROVIDER_PROTOCOL_VERSION)) {
    trace(`protocol versions offered: ${offered.join(',')}`);
    process.stderr.write(`The stub speaks plugin protocol ${PROVIDER_PROTOCOL_VERSION}; Terraform offered ${offered.join(', ')}.\n`);
    process.exit(1);
  }
  const serving = process.env[SERVE_ENV_VAR] === '1';
  process.on('SIGINT', () => undefined); // as go-plugin plugins do: Terraform handles Ctrl-C and then shuts us down
  if (serving) {
    // A server outlives no test run: it stops when whoever started it is gone.
    const parent = process.ppid;
    setInterval(() => process.ppid !== parent && process.exit(0), 500).unref();
  }

  const schemas = JSON.parse(readFileSync(path.join(HERE, 'schemas.json'), 'utf8')) as ProviderSchemas;
  const worldUrl = process.env[WORLD_URL_ENV_VAR];
  const load = (file: string) =>
    grpc.loadPackageDefinition(protoLoader.loadSync(path.join(HERE, file), { keepCase: true, longs: Number, enums: String, defaults: false })) as any;
  const tfplugin6 = load('tfplugin6-subset.proto').tfplugin6;
  const plugin = load('go-plugin-controller.proto').plugin;

  const server = new grpc.Server();
  const service = tfplugin6.Provider.service as grpc.ServiceDefinition;
  const serializedSchema = service.GetProviderSchema.responseSerialize(schemaAnswer(schemas));
  const provider = providerService(schemas, serializedSchema, worldUrl === '' ? undefined : worldUrl);
  server.addService(passingBuffers(service), provider);
  server.addService(plugin.GRPCController.service, {
    Shutdown: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      trace('Shutdown');
      callback(null, {});
      if (serving) return;
      setImmediate(() => server.tryShutdown(() => process.exit(0)));
      setTimeout(() => process.exit(0), 500).unref();
    },
  });

  const clientCert = process.env.PLUGIN_CLIENT_CERT;
  const certificate = serving || clientCert === undefined || clientCert === '' ? undefined : selfSignedCertificate();
  const credentials =
    certificate === undefined
      ? grpc.ServerCredentials.createInsecure()
      : grpc.ServerCredentials.createSsl(
          Buffer.from(clientCert as string),
          [{ private_key: Buffer.from(certificate.keyPem), cert_chain: Buffer.from(certificate.certPem) }],
          true,
        );
  server.bindAsync('127.0.0.1:0', credentials, (error, port) => {
    if (error !== null) {
      trace(`cannot listen: ${error.message}`);
      process.stderr.write(`cannot listen: ${error.message}\n`);
      process.exit(1);
    }
    const cert = certificate === undefined ? '' : certificate.der.toString('base64').replace(/=+$/, '');
    trace('listening');
    process.stdout.write(`${CORE_PROTOCOL_VERSION}|${PROVIDER_PROTOCOL_VERSION}|tcp|127.0.0.1:${port}|grpc|${cert}\n`);
  });
}

/**
 * The service definition, where an answer that is already a Buffer goes out as it is: the stub
 * serializes `GetProviderSchema`'s answer once, as Terraform asks for it several times per command
 * and encoding ~40 kB of schema would be most of the stub's work.
 */
function passingBuffers(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  return Object.fromEntries(
    Object.entries(definition).map(([name, method]) => [
      name,
      { ...method, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : method.responseSerialize(value)) },
    ]),
  );
}

function schemaAnswer(schemas: ProviderSchemas): Record<string, unknown> {
  return {
    provider: protoSchema(schemas.provider),
    resource_schemas: mapValues(schemas.resources, protoSchema),
    data_source_schemas: mapValues(schemas.dataSources, protoSchema),
    server_capabilities: { plan_destroy: false, get_provider_schema_optional: false },
  };
}

/** The `tfplugin6.Provider` service; a client of the provider API at `worldUrl` when there is one. */
function providerService(
  schemas: ProviderSchemas,
  serializedSchema: Buffer,
  worldUrl: string | undefined,
): grpc.UntypedServiceImplementation {
  let settings: ProviderSettings = { accountId: DEFAULT_ACCOUNT_ID, region: 'us-east-1', defaultTags: {} };
  let session: AwsSession | undefined;
  const resource = (typeName: string): BlockSchema => {
    const schema = schemas.resources[typeName];
    if (schema === undefined) throw new Error(`the stub serves no resource type ${typeName}: add it to the stub's type list`);
    return schema;
  };
  const dataSource = (typeName: string): BlockSchema => {
    const schema = schemas.dataSources[typeName];
    if (schema === undefined) throw new Error(`the stub serves no data source ${typeName}: add it to the stub's type list`);
    return schema;
  };
  const dynamic = (value: Value, block: BlockSchema) => ({ msgpack: encodeValue(value, blockType(block)) });
  const noDiagnostics = () => ({ diagnostics: [] });
  // As a client of the local AWS the stub answers as the real provider's SDKv2 resources do: with the legacy type
  // system flag, under which Terraform tolerates a planned default for an unset argument (provider-defaults.ts).
  const legacy = worldUrl === undefined ? {} : { legacy_type_system: true };
  /** One provider API call with the session's credentials. */
  const world = async (url: string, typeName: string, operation: WorldOperation, prior: Value, planned: Value): Promise<Value> => {
    if (session === undefined) throw new ProviderError('stub aws provider: the provider is not configured');
    const { credentials, region } = session;
    return callWorld(url, {
      accessKeyId: credentials.accessKeyId,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
      region,
      resourceType: typeName,
      operation,
      prior: toJson(prior),
      planned: toJson(planned),
    });
  };

  const handlers: Record<string, Handler> = {
    GetMetadata: () => ({
      server_capabilities: { plan_destroy: false, get_provider_schema_optional: false },
      resources: Object.keys(schemas.resources).map((type_name) => ({ type_name })),
      data_sources: Object.keys(schemas.dataSources).map((type_name) => ({ type_name })),
    }),
    GetProviderSchema: () => serializedSchema,
    ValidateProviderConfig: noDiagnostics,
    ValidateResourceConfig: (r) => (resource(r.type_name), noDiagnostics()),
    ValidateDataResourceConfig: (r) => (dataSource(r.type_name), noDiagnostics()),
    ConfigureProvider: async (r) => {
      const config = decodeValue(r.config?.msgpack);
      settings = providerSettings(config);
      if (worldUrl === undefined) return noDiagnostics();
      session = await startSession(config, process.env);
      trace(`caller ${session.identity.arn} (${session.credentials.source})`);
      settings = { ...settings, accountId: session.identity.account, region: session.region };
      return noDiagnostics();
    },
    UpgradeResourceState: (r) => {
      const schema = resource(r.type_name);
      const json = r.raw_state?.json as Buffer | undefined;
      const state = json === undefined || json.length === 0 ? null : (JSON.parse(json.toString('utf8')) as Value);
      return { upgraded_state: dynamic(state, schema) };
    },
    ReadResource: async (r) => {
      const schema = resource(r.type_name);
      const current = decodeValue(r.current_state?.msgpack);
      if (worldUrl === undefined || current === null) return { new_state: dynamic(current, schema), private: r.private };
      return { new_state: dynamic(merged(current, await world(worldUrl, r.type_name, 'read', current, null)), schema), private: r.private };
    },
    PlanResourceChange: (r) => {
      const schema = resource(r.type_name);
      const config = decodeValue(r.config?.msgpack);
      const planned = plan(r.type_name, schema, decodeValue(r.proposed_new_state?.msgpack), config, settings);
      // A client of the local AWS plans the provider's defaults, which AWS then holds (see provider-defaults.ts).
      const withDefaults = worldUrl === undefined ? planned : withProviderDefaults(r.type_name, planned, config);
      return { planned_state: dynamic(withDefaults, schema), planned_private: r.prior_private, ...legacy };
    },
    ApplyResourceChange: async (r) => {
      const schema = resource(r.type_name);
      const filled = apply(r.type_name, schema, decodeValue(r.planned_state?.msgpack), settings);
      if (worldUrl === undefined) return { new_state: dynamic(filled, schema), private: r.planned_private };
      const prior = decodeValue(r.prior_state?.msgpack);
      const operation: WorldOperation = filled === null ? 'delete' : prior === null ? 'create' : 'update';
      try {
        const state = await world(worldUrl, r.type_name, operation, prior, filled);
        return { new_state: dynamic(filled === null ? null : merged(filled, state), schema), private: r.planned_private, ...legacy };
      } catch (error) {
        if (!(error instanceof ProviderError)) throw error;
        // As the real provider: a failed create leaves nothing in state, a failed update or delete the prior state.
        const kept = operation === 'create' ? null : prior;
        return { new_state: dynamic(kept, schema), private: r.planned_private, diagnostics: [diagnosticOf(error)], ...legacy };
      }
    },
    ImportResourceState: (r) => {
      const schema = resource(r.type_name);
      return { imported_resources: [{ type_name: r.type_name, state: dynamic(imported(schema, r.id), schema) }] };
    },
    ReadDataSource: (r) => {
      const schema = dataSource(r.type_name);
      const state = read(r.type_name, schema, decodeValue(r.config?.msgpack), settings);
      if (r.type_name === 'aws_caller_identity' && session !== undefined && state !== null) {
        const { account, arn, userId } = session.identity;
        return { state: dynamic({ ...(state as ObjectValue), id: account, account_id: account, arn, user_id: userId }, schema) };
      }
      return { state: dynamic(state, schema) };
    },
    GetFunctions: noDiagnostics,
    StopProvider: () => ({}),
  };

  return Object.fromEntries(
    Object.entries(handlers).map(([name, handler]) => [
      name,
      (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
        trace(name);
        // Handlers may be async (the provider API, STS): answer when the promise settles.
        Promise.resolve()
          .then(() => handler(call.request))
          .then(
            (answer) => callback(null, answer),
            (error: unknown) => {
              if (error instanceof ProviderError) {
                trace(`${name}: ${error.message}`);
                return callback(null, { diagnostics: [diagnosticOf(error)] });
              }
              // A bug or an unserved type: Terraform prints the diagnostic, which names the cause.
              const detail = String((error as Error)?.stack ?? error);
              const diagnostic: Diagnostic = { severity: 'ERROR', summary: `stub aws provider: ${name} failed`, detail };
              callback(null, { diagnostics: [diagnostic] });
            },
          );
      },
    ]),
  );
}

function diagnosticOf(error: ProviderError): Diagnostic {
  return { severity: 'ERROR', summary: error.summary, ...(error.detail === undefined ? {} : { detail: error.detail }) };
}

/**
 * The state the provider API answered, over `base` (what Terraform held or planned): an attribute the answer
 * leaves out keeps its value; null (the resource is gone) stays null.
 */
function merged(base: Value, answer: Value): Value {
  if (answer === null) return null;
  return { ...(base as ObjectValue), ...(answer as ObjectValue) };
}

/** A state as JSON for the provider API (states hold no unknown values; a stray one goes as null). */
function toJson(value: Value): JsonObject | null {
  const convert = (v: Value): JsonValue => {
    if (v === UNKNOWN || v instanceof Uint8Array) return null;
    if (Array.isArray(v)) return v.map(convert);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, convert(e)]));
    return v;
  };
  return value === null ? null : (convert(value) as JsonObject);
}

const NESTING = { single: 'SINGLE', list: 'LIST', set: 'SET' } as const;

function protoSchema(block: BlockSchema) {
  return { version: 0, block: protoBlock(block) };
}

function protoBlock(block: BlockSchema): Record<string, unknown> {
  return {
    attributes: block.attributes.map((a) => ({
      name: a.name,
      type: Buffer.from(JSON.stringify(a.type)),
      required: a.required,
      optional: a.optional,
      computed: a.computed,
    })),
    block_types: block.blockTypes.map((b) => ({
      type_name: b.typeName,
      block: protoBlock(b.block),
      nesting: NESTING[b.nesting],
      min_items: b.minItems,
      max_items: b.maxItems,
    })),
  };
}

function mapValues<T, U>(record: Record<string, T>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

main();
