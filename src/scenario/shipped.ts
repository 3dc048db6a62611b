/** The scenarios shipped in scenarios/ at the package root (`edgesim demo --scenario failover` runs one). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseScenario, type Scenario } from './spec.js';

// scenarios/ sits at the package root: two levels above src/scenario, three above dist/src/scenario.
const here = path.dirname(fileURLToPath(import.meta.url));

/** Reads and parses scenarios/NAME.yaml. @throws when it is missing or does not parse (naming the field) */
export async function loadShippedScenario(name: string): Promise<Scenario> {
  const file = [path.join(here, '../../scenarios', `${name}.yaml`), path.join(here, '../../../scenarios', `${name}.yaml`)].find((f) => existsSync(f));
  if (!file) throw new Error(`scenarios/${name}.yaml is missing from the package`);
  try {
    return parseScenario(await readFile(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}
