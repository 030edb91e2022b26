/**
 * The HTTP JSON API the stub Terraform AWS provider calls (`TF_STUB_AWS_WORLD_URL`), standing in for
 * the IAM, S3 and KMS endpoints the real provider calls. One request is one Terraform operation on
 * one resource (`read`, `create`, `update`, `delete`); the world makes the API calls the real
 * provider makes for it (`provider-calls.ts`), each authorized in order with `world.authorize`,
 * stopping at the first one refused and changing nothing after it.
 *
 * `POST /call` with `{ accessKeyId, sessionToken?, region, resourceType, operation, prior, planned }`
 * answers HTTP 200 with `{ state }` (null: the resource is gone / was deleted) or `{ error: { service,
 * operation, code, statusCode, message } }` as AWS answered. HTTP 400 `{ message }`: a malformed request
 * or an unknown resource type; HTTP 500 `{ message }`: the world could not decide (e.g. an AWS-managed
 * policy is involved). Requests are answered one at a time, so the decision log reads in order.
 * Listens on 127.0.0.1 only.
 */
import { createServer } from 'http';
import { listenOnLoopback, readBody } from '../loopback';
import { ApiCall, ApiCallError, Attributes, CallContext, PROVIDER_RESOURCES } from './provider-calls';
import { accessDenied, AwsError, AwsWorld, Caller, CredentialService } from './world';

/** The body of `POST /call`. */
export interface ProviderCallRequest {
  readonly accessKeyId: string;
  readonly sessionToken?: string;
  readonly region: string;
  readonly resourceType: string;
  readonly operation: 'read' | 'create' | 'update' | 'delete';
  readonly prior: Attributes | null;
  readonly planned: Attributes | null;
}

/** An AWS error, as the stub turns it into the provider's diagnostic. */
export interface ProviderCallError {
  /** `IAM`, `S3`, `KMS` (the SDK's service ID) */
  readonly service: string;
  /** The API operation that failed, e.g. `CreateRole`. */
  readonly operation: string;
  readonly code: string;
  readonly statusCode: number;
  readonly message: string;
}

/** The answer of `POST /call`. */
export type ProviderCallAnswer = { readonly state: Attributes | null } | { readonly error: ProviderCallError };

/** One API call made for a provider request, for tests and the rehearsal's summary. */
export interface MadeCall {
  readonly resourceType: string;
  readonly operation: ProviderCallRequest['operation'];
  readonly service: string;
  readonly apiOperation: string;
  readonly actions: readonly string[];
  /** False when the call failed (refused, invalid credentials, or an AWS error such as NoSuchEntity). */
  readonly succeeded: boolean;
}

/** A request the API cannot serve (HTTP 400). */
export class ProviderApiRequestError extends Error {}

/**
 * Answers one provider request against the world (what `POST /call` does, without HTTP). Throws
 * {@link ProviderApiRequestError} for a bad request, and whatever the world throws when it cannot decide.
 */
export async function answerProviderCall(world: AwsWorld, body: ProviderCallRequest, made: MadeCall[] = []): Promise<ProviderCallAnswer> {
  const resource = PROVIDER_RESOURCES[body.resourceType];
  if (resource === undefined) {
    throw new ProviderApiRequestError(
      `the local AWS serves no resource type ${body.resourceType}: add it to PROVIDER_RESOURCES in provider-calls.ts (served: ${Object.keys(
        PROVIDER_RESOURCES,
      ).join(', ')})`,
    );
  }
  const { operation, prior, planned } = body;
  if (!['read', 'create', 'update', 'delete'].includes(operation)) {
    throw new ProviderApiRequestError(`operation must be read, create, update or delete, not ${String(operation)}`);
  }
  if (operation !== 'create' && prior === null)
    throw new ProviderApiRequestError(`${operation} of ${body.resourceType} needs the prior attributes`);
  if ((operation === 'create' || operation === 'update') && planned === null) {
    throw new ProviderApiRequestError(`${operation} of ${body.resourceType} needs the planned attributes`);
  }
  const context = callContext(world, body, made);
  try {
    switch (operation) {
      case 'read':
        return { state: await resource.read(context, prior!) };
      case 'create':
        return { state: await resource.create(context, planned!) };
      case 'update':
        return { state: await resource.update(context, prior!, planned!) };
      case 'delete':
        await resource.delete(context, prior!);
        return { state: null };
    }
  } catch (error) {
    if (!(error instanceof ApiCallError)) throw error;
    const {
      service,
      operation: apiOperation,
      error: { code, statusCode, message },
    } = error;
    return { error: { service, operation: apiOperation, code, statusCode, message } };
  }
}

/** How each service answers an invalid credential (S3 has its own codes). */
const CREDENTIAL_SERVICE: Record<ApiCall['service'], CredentialService> = { IAM: 'IAM', S3: 'S3', KMS: 'KMS' };

function callContext(world: AwsWorld, body: ProviderCallRequest, made: MadeCall[]): CallContext {
  const { accessKeyId, sessionToken, region, resourceType, operation } = body;
  return {
    world,
    region,
    // Only for building ARNs: every call checks the credentials themselves (an unknown key fails at its first call).
    accountId: world.accessKeyAccount(accessKeyId) ?? '000000000000',
    async call(call: ApiCall, effect?: () => void | Promise<void>): Promise<Caller> {
      const record = (succeeded: boolean) =>
        made.push({
          resourceType,
          operation,
          service: call.service,
          apiOperation: call.operation,
          actions: call.authorizations.map((a) => a.action),
          succeeded,
        });
      try {
        const caller = world.caller(accessKeyId, sessionToken, CREDENTIAL_SERVICE[call.service]);
        for (const { resourcePolicy, ...request } of call.authorizations) {
          const decision = await world.authorize(caller, request, resourcePolicy);
          if (!decision.allowed) throw accessDenied(decision, request.action);
        }
        await effect?.();
        record(true);
        return caller;
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        record(false);
        throw new ApiCallError(call.service, call.operation, error);
      }
    },
  };
}

/** A running provider API. */
export interface ProviderApi {
  /** e.g. `http://127.0.0.1:PORT`: the value of `TF_STUB_AWS_WORLD_URL`. */
  readonly endpoint: string;
  /** Every API call made, in order. */
  readonly calls: readonly MadeCall[];
  stop(): Promise<void>;
}

/** Starts the provider API on 127.0.0.1 (a free port). */
export async function startProviderApi(world: AwsWorld): Promise<ProviderApi> {
  const calls: MadeCall[] = [];
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'POST' || request.url !== '/call') {
      answer(404, { message: `the provider API serves POST /call, not ${request.method} ${request.url}` });
      return;
    }
    const work = queue.then(async () => {
      try {
        const body = parseBody(await readBody(request));
        answer(200, await answerProviderCall(world, body, calls));
      } catch (error) {
        answer(error instanceof ProviderApiRequestError ? 400 : 500, { message: (error as Error).message ?? String(error) });
      }
    });
    queue = work;
  });
  const { endpoint, stop } = await listenOnLoopback(server);
  return { endpoint, calls, stop };
}

function parseBody(text: string): ProviderCallRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProviderApiRequestError('the body must be JSON');
  }
  const b = body as Partial<ProviderCallRequest> | null;
  const problems = [
    typeof b?.accessKeyId === 'string' ? undefined : 'accessKeyId (a string)',
    typeof b?.region === 'string' ? undefined : 'region (a string, e.g. eu-west-1)',
    typeof b?.resourceType === 'string' ? undefined : 'resourceType (e.g. aws_iam_role)',
    typeof b?.operation === 'string' ? undefined : 'operation (read, create, update or delete)',
  ].filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new ProviderApiRequestError(`the body needs ${problems.join(', ')}`);
  return { ...(b as ProviderCallRequest), prior: b?.prior ?? null, planned: b?.planned ?? null };
}
