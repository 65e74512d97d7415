// src/api/schema.ts from src/api/openapi.json (which `python -m api.openapi` writes):
// openapi-typescript's types, then each enum's values as a constant, so that lists such
// as the step statuses are defined once, in the API (workflows/status.py).
// `--check` writes nothing and fails when schema.ts is not what openapi.json gives:
// `npm run build` runs it, so types that drifted from the API never build.
import { readFile, writeFile } from 'node:fs/promises';
import openapiTS from 'openapi-typescript';

const here = new URL('../src/api/', import.meta.url);
const documentUrl = new URL('openapi.json', here);
const typesUrl = new URL('schema.ts', here);

const document = JSON.parse(await readFile(documentUrl, 'utf8'));
const types = await openapiTS(document, { alphabetize: true });
const enums = Object.entries(document.components?.schemas ?? {})
  .filter(([, schema]) => Array.isArray(schema.enum))
  .sort(([a], [b]) => (a < b ? -1 : 1))
  .map(([name, schema]) => `  ${name}: ${JSON.stringify(schema.enum)},\n`)
  .join('');
const generated = `${types}
/** The values of each enum schema, in the document's order. */
export const enums = {
${enums}} as const satisfies { [Name in keyof components['schemas']]?: readonly components['schemas'][Name][] };
`;

if (process.argv.includes('--check')) {
  const committed = await readFile(typesUrl, 'utf8').catch(() => '');
  if (committed !== generated) {
    console.error('src/api/schema.ts is out of date with src/api/openapi.json: run `npm run gen:api`.');
    process.exit(1);
  }
} else {
  await writeFile(typesUrl, generated);
}
