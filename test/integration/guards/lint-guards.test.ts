/**
 * The lint guards catch what they are there for (issue 16): in a temp copy of the project, with the project's own
 * .dependency-cruiser.cjs and knip.jsonc, a planted import cycle and a planted agent → controller import each make
 * `depcruise src` fail naming the rule and the file, and a planted unused export makes `knip` fail naming it. The
 * unchanged copy passes depcruise first, so each failure is the plant's doing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, cp, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/test/integration/guards/ → the project root.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const DEPCRUISE = path.join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const KNIP = path.join(ROOT, 'node_modules/knip/bin/knip.js');

let copy: string;

interface Run {
  code: number;
  out: string;
}

function run(cli: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { cwd: copy, timeout: 180_000, maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === 'number' ? e.code : -1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

const depcruise = (): Promise<Run> => run(DEPCRUISE, ['src', '--config', '.dependency-cruiser.cjs']);

/** Writes `files` (relative to the copy), runs `fn`, then removes them again. */
async function planted(files: Record<string, string>, fn: () => Promise<void>): Promise<void> {
  for (const [f, text] of Object.entries(files)) await writeFile(path.join(copy, f), text);
  try {
    await fn();
  } finally {
    for (const f of Object.keys(files)) await rm(path.join(copy, f), { force: true });
  }
}

before(async () => {
  copy = await mkdtemp(path.join(os.tmpdir(), 'edgesim-guards-'));
  for (const d of ['src', 'test', 'bench', 'scripts']) await cp(path.join(ROOT, d), path.join(copy, d), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', 'knip.jsonc', '.dependency-cruiser.cjs', 'eslint.config.mjs', '.gitignore']) {
    await cp(path.join(ROOT, f), path.join(copy, f));
  }
  await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
});
after(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

test('depcruise: the unchanged copy passes; a planted cycle and a planted agent → controller import each fail', async () => {
  const clean = await depcruise();
  assert.equal(clean.code, 0, `the copy as it is passes:\n${clean.out}`);

  await planted(
    {
      'src/common/planted-a.ts': "import { b } from './planted-b.js';\nexport const a = (): number => b() + 1;\n",
      'src/common/planted-b.ts': "import { a } from './planted-a.js';\nexport const b = (): number => a() - 1;\n",
    },
    async () => {
      const r = await depcruise();
      assert.notEqual(r.code, 0, `a cycle fails:\n${r.out}`);
      assert.match(r.out, /no-cycle/);
      assert.match(r.out, /src\/common\/planted-a\.ts/);
    },
  );

  await planted({ 'src/agent/planted-edge.ts': "import { ControllerServer } from '../controller/index.js';\nexport const planted = ControllerServer;\n" }, async () => {
    const r = await depcruise();
    assert.notEqual(r.code, 0, `agent → controller fails:\n${r.out}`);
    assert.match(r.out, /agent-not-controller/);
    assert.match(r.out, /src\/agent\/planted-edge\.ts → src\/controller\//);
  });
});

test('knip: an unused export planted in a used module fails, naming it', async () => {
  await appendFile(path.join(copy, 'src/common/errors.ts'), '\nexport function plantedUnusedExport(): number {\n  return 1;\n}\n');
  const r = await run(KNIP, ['--no-progress']);
  assert.notEqual(r.code, 0, `knip fails:\n${r.out}`);
  assert.match(r.out, /plantedUnusedExport/);
});
