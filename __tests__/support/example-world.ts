/**
 * The Bitbucket that the bundled example (`config/example.json`) is resolved against: the workspace,
 * repositories and deployment environments its names name, with the UUIDs its committed lock file
 * (`config/example.lock.json`) holds. `resolve.test.ts` proves that `npm run resolve` against a double
 * of this world writes exactly the committed lock; `exampleConfig()` (`synth.ts`) writes the lock's
 * UUIDs into the example, for tests that validate it in memory, without its file and lock.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { NameLock, parseLock } from '../../src/config/lock';
import { DoubleWorkspace } from './bitbucket-api-double';

/** The bundled example's Bitbucket: acme, its infra repository (the pipeline's) and its web repository. */
export function exampleWorld(): DoubleWorkspace[] {
  return [
    {
      uuid: '{4ccef084-b141-4ed8-8a6d-f7ee786f4016}',
      slug: 'acme',
      name: 'Acme',
      repositories: [
        {
          uuid: '{96397bd0-02f7-409e-80c1-d99c0344747a}',
          slug: 'infra',
          environments: [
            { uuid: '{2f0b6a4c-1d3e-4a5f-8b6c-7d8e9f0a1b2c}', name: 'Test', type: 'Test' },
            { uuid: '{591c2b80-ce14-4225-ab17-a366fc4c4e02}', name: 'Staging', type: 'Staging' },
            { uuid: '{74c10e16-5478-4362-8e1b-117147a4112f}', name: 'Production', type: 'Production' },
          ],
        },
        {
          uuid: '{321a1c39-2430-4131-a294-b2e03b3cafe7}',
          slug: 'web',
          environments: [
            { uuid: '{0e7f3a52-9a61-4c1e-8d2b-5f4c3b2a1d90}', name: 'Web staging', type: 'Staging' },
            { uuid: '{bc48892b-427e-4925-8fb0-a6bc531b0070}', name: 'Web production', type: 'Production' },
          ],
        },
      ],
    },
  ];
}

/** The committed lock of the bundled example. */
export function exampleLock(root: string): NameLock {
  const file = path.join(root, 'config', 'example.lock.json');
  return parseLock(JSON.parse(readFileSync(file, 'utf8')), file, 'example.json');
}

type Json = any;

/**
 * A configuration with the UUIDs of `lock` written in beside its names, so that it validates without
 * the lock (where a name alone would need it): the workspace UUID, every repository's, and every
 * environment's, environments as `{ "name", "uuid" }`.
 */
export function withLockedUuids(config: Json, lock: NameLock): Json {
  const repositoryNamed = (name: string) => {
    const entry = lock.repositories[name];
    if (entry === undefined) throw new Error(`the lock has no repository ${name}`);
    return entry;
  };
  const environment = (repository: string, ref: Json): Json => {
    const name = typeof ref === 'string' ? ref : ref.name;
    const entry = repositoryNamed(repository).environments[name];
    if (entry === undefined) throw new Error(`the lock has no environment ${name} of ${repository}`);
    return { name, uuid: entry.uuid };
  };
  const copy = JSON.parse(JSON.stringify(config));
  copy.workspaceUuid = lock.workspace.uuid;
  const pipelineRepository = copy.pipeline?.repository?.name;
  if (pipelineRepository !== undefined) copy.pipeline.repository.uuid = repositoryNamed(pipelineRepository).uuid;
  for (const account of copy.accounts) {
    if (account.deploymentEnvironment !== undefined) {
      account.deploymentEnvironment = environment(pipelineRepository, account.deploymentEnvironment);
    }
    for (const role of account.roles ?? []) {
      for (const repository of role.repositories ?? []) {
        repository.uuid = repositoryNamed(repository.name).uuid;
        if (repository.environments !== undefined) {
          repository.environments = repository.environments.map((e: Json) => environment(repository.name, e));
        }
      }
    }
  }
  return copy;
}
