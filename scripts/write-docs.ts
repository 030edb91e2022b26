// Writes the configuration reference of docs/configuration.md from the field declarations (`npm run docs`).
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { withConfigReference } from '../src/config/reference';

const file = path.resolve(__dirname, '..', 'docs', 'configuration.md');
const before = readFileSync(file, 'utf8');
const after = withConfigReference(before);
if (after !== before) writeFileSync(file, after);
process.stdout.write(`${after === before ? 'unchanged' : 'wrote'} ${path.relative(process.cwd(), file)}\n`);
