import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/**
 * The absolute path of an executable `cmd` on `pathEnv` (a PATH value, given by the caller so that library code
 * never reads the process environment), or undefined when none of its directories holds one.
 */
export async function findCommand(cmd: string, pathEnv: string): Promise<string | undefined> {
  for (const dir of pathEnv.split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, cmd);
    try {
      await access(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
