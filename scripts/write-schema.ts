// Writes config/schema.json from the configuration's field declarations (`npm run schema`).
import { writeFileSync } from 'fs';
import * as path from 'path';
import { configSchema } from '../src/config/fields';

const file = path.resolve(__dirname, '..', 'config', 'schema.json');
writeFileSync(file, `${JSON.stringify(configSchema(), null, 2)}\n`);
process.stdout.write(`wrote ${path.relative(process.cwd(), file)}\n`);
