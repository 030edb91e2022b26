/**
 * The configuration's JSON Schema (`config/schema.json`), for editors: generated from the same field
 * declarations the validator reads (`src/config/fields.ts`), so it completes every field the synth
 * knows and flags a typo while typing.
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import Ajv from 'ajv';
import { configSchema, FIELDS, fieldNames } from '../src/config/fields';
import { ConfigError, validateConfig } from '../src/config/validate';
import { exampleConfig, ROOT } from './support/synth';

const committed = JSON.parse(readFileSync(path.join(ROOT, 'config', 'schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true, strict: true }).compile(committed);
const CORPUS = path.join(ROOT, '__tests__', 'corpus');
const corpus = (file: string) => JSON.parse(readFileSync(path.join(CORPUS, file), 'utf8'));

describe('the configuration JSON Schema', () => {
  it('is the committed config/schema.json, regenerated from the field declarations (npm run schema)', () => {
    expect(committed).toEqual(JSON.parse(JSON.stringify(configSchema())));
  });

  it('accepts the bundled example, which names it in "$schema"', () => {
    expect(exampleConfig().$schema).toBe('./schema.json');
    expect(validate(exampleConfig()) ? [] : validate.errors).toEqual([]);
  });

  it('accepts every configuration the corpus says must synthesize', () => {
    const passing = readdirSync(CORPUS).filter((file) => file.startsWith('pass-'));
    expect(passing.length).toBeGreaterThan(3);
    for (const file of passing) expect({ file, errors: validate(corpus(file)) ? [] : validate.errors }).toEqual({ file, errors: [] });
  });

  it.each([
    ['typo-enviroments.json', 'enviroments'],
    ['typo-repositores.json', 'repositores'],
    ['typo-allow-all-repos.json', 'allowAllRepos'],
    ['typo-max-session-duration.json', 'maxSessionDuration'],
    ['typo-source-ip-cidr.json', 'sourceIpCidr'],
    ['unknown-field-proto.json', undefined],
  ])('flags the typo of %s, as the synth does', (file, field) => {
    expect(validate(corpus(file))).toBe(false);
    const unknown = (validate.errors ?? []).filter((e) => e.keyword === 'additionalProperties').map((e) => e.params.additionalProperty);
    if (field !== undefined) expect(unknown).toContain(field);
    expect(() => validateConfig(corpus(file))).toThrow(ConfigError);
  });

  it('flags a typo in the example, with where it is', () => {
    const config = exampleConfig();
    config.accounts[0].roles[0].repositories[0].enviroments = config.accounts[0].roles[0].repositories[0].environments;
    delete config.accounts[0].roles[0].repositories[0].environments;
    expect(validate(config)).toBe(false);
    expect(validate.errors).toContainEqual(
      expect.objectContaining({ instancePath: '/accounts/0/roles/0/repositories/0', params: { additionalProperty: 'enviroments' } }),
    );
  });

  it('flags a wrong type and a malformed account ID', () => {
    const config = exampleConfig();
    config.accounts[1].accountId = 444455556666;
    config.accounts[0].accountId = '1234';
    expect(validate(config)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath);
    expect(paths).toEqual(expect.arrayContaining(['/accounts/1/accountId', '/accounts/0/accountId']));
  });

  it('knows exactly the fields the validator knows, for every object', () => {
    for (const [name, spec] of Object.entries(FIELDS)) {
      const { required, optional } = fieldNames(spec);
      const schema = name === 'top' ? committed : committed.definitions[name];
      expect({
        name,
        fields: Object.keys(schema.properties)
          .filter((f) => f !== '$schema')
          .sort(),
      }).toEqual({ name, fields: [...required, ...optional].sort() });
      expect({ name, required: schema.required ?? [] }).toEqual({ name, required });
    }
  });
});
