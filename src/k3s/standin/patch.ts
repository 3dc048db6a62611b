/**
 * Patch types of the Kubernetes API: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge
 * patch. The stand-in applies a strategic merge patch as a merge patch after dropping `$`-directives: the
 * fields kubectl and the agent patch (labels, annotations, spec.unschedulable, taints, status) carry no list merge
 * keys that would make a difference.
 */
import { ApiError } from './errors.js';

/** The content types accepted on PATCH. */
export type PatchType = 'merge' | 'json' | 'strategic';

/** Maps a PATCH Content-Type to its patch type; undefined when unsupported (415). */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0].trim();
  if (ct === 'application/merge-patch+json') return 'merge';
  if (ct === 'application/json-patch+json') return 'json';
  if (ct === 'application/strategic-merge-patch+json') return 'strategic';
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** RFC 7386 merge: null deletes, objects merge recursively, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown, dropDirectives = false): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (dropDirectives && k.startsWith('$')) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v, dropDirectives);
  }
  return out;
}

function unescape(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new ApiError('BadRequest', `JSON patch path "${path}" must start with "/"`);
  return path.slice(1).split('/').map(unescape);
}

function getAt(doc: unknown, segs: string[]): unknown {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: unknown, segs: string[], path: string): { parent: Record<string, unknown> | unknown[]; last: string } {
  const parent = getAt(doc, segs.slice(0, -1));
  if (!Array.isArray(parent) && !isObject(parent)) {
    throw new ApiError('Invalid', `JSON patch path "${path}": parent does not exist`);
  }
  return { parent, last: segs[segs.length - 1] };
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const segs = parsePointer(path);
  if (segs.length === 0) return value;
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw new ApiError('Invalid', `JSON patch path "${path}": bad index`);
    parent.splice(i, 0, value);
  } else parent[last] = value;
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const segs = parsePointer(path);
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw new ApiError('Invalid', `JSON patch path "${path}": no such element`);
    parent.splice(i, 1);
  } else {
    if (!(last in parent)) throw new ApiError('Invalid', `JSON patch path "${path}": no such field`);
    delete parent[last];
  }
  return doc;
}

/** RFC 6902: add, remove, replace, move, copy, test. Works on a deep copy of `target`. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError('BadRequest', 'a JSON patch must be an array of operations');
  let doc: unknown = structuredClone(target);
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new ApiError('BadRequest', 'each JSON patch operation needs "op" and "path"');
    }
    const { op, path } = raw;
    switch (op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(raw.value));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace':
        if (getAt(doc, parsePointer(path)) === undefined) throw new ApiError('Invalid', `JSON patch path "${path}": no such field`);
        doc = path === '' ? structuredClone(raw.value) : addAt(removeAt(doc, path), path, structuredClone(raw.value));
        break;
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new ApiError('BadRequest', `JSON patch ${op} needs "from"`);
        const v = structuredClone(getAt(doc, parsePointer(raw.from)));
        if (v === undefined) throw new ApiError('Invalid', `JSON patch from "${raw.from}": no such field`);
        if (op === 'move') doc = removeAt(doc, raw.from);
        doc = addAt(doc, path, v);
        break;
      }
      case 'test':
        if (JSON.stringify(getAt(doc, parsePointer(path))) !== JSON.stringify(raw.value)) {
          throw new ApiError('Invalid', `JSON patch test failed at "${path}"`);
        }
        break;
      default:
        throw new ApiError('BadRequest', `JSON patch op "${op}" is not supported`);
    }
  }
  return doc;
}

/** Applies a patch of `type` to `target` and returns the new document; `target` is left as it is (the result may share its untouched parts). */
export function applyPatch(type: PatchType, target: unknown, patch: unknown): unknown {
  switch (type) {
    case 'merge':
      return mergePatch(target, patch);
    case 'strategic':
      return mergePatch(target, patch, true);
    case 'json':
      return jsonPatch(target, patch);
  }
}
