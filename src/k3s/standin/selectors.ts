/**
 * Label selectors, field selectors, and the structured selectors of objects (LabelSelector, NodeSelectorTerm),
 * with the semantics of k8s.io/apimachinery/pkg/labels and pkg/fields.
 */
import { ApiError } from './errors.js';

type Op = 'in' | 'notin' | 'exists' | '!exists' | '=' | '!=';

/** One parsed requirement. */
export interface Requirement {
  key: string;
  op: Op;
  values: string[];
}

/** Parses a label selector string (`a=b,c!=d,e in (x,y),f notin (z),g,!h`). Empty string selects everything. */
export function parseLabelSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  const src = text.trim();
  let i = 0;
  const bad = (why: string): never => {
    throw new ApiError('BadRequest', `unable to parse requirement: ${why} in label selector "${text}"`);
  };
  while (i < src.length) {
    const rest = src.slice(i);
    const set = /^\s*(!?)([A-Za-z0-9._/-]+)\s+(in|notin)\s*\(([^)]*)\)\s*(,|$)/.exec(rest);
    if (set) {
      if (set[1]) bad('"!" before a set');
      out.push({ key: set[2], op: set[3] as Op, values: set[4].split(',').map((v) => v.trim()).filter(Boolean) });
      i += set[0].length;
      continue;
    }
    const eq = /^\s*([A-Za-z0-9._/-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*(,|$)/.exec(rest);
    if (eq) {
      out.push({ key: eq[1], op: eq[2] === '!=' ? '!=' : '=', values: [eq[3]] });
      i += eq[0].length;
      continue;
    }
    const ex = /^\s*(!?)([A-Za-z0-9._/-]+)\s*(,|$)/.exec(rest);
    if (ex) {
      out.push({ key: ex[2], op: ex[1] ? '!exists' : 'exists', values: [] });
      i += ex[0].length;
      continue;
    }
    bad(`unexpected "${rest}"`);
  }
  return out;
}

/** Parses a field selector (`spec.nodeName=n1,status.phase!=Running`); only = / == / != exist for fields. */
export function parseFieldSelector(text: string): Requirement[] {
  const out: Requirement[] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new ApiError('BadRequest', `invalid field selector "${part}": want field=value or field!=value`);
    out.push({ key: m[1], op: m[2] === '!=' ? '!=' : '=', values: [m[3]] });
  }
  return out;
}

/** Does one value (undefined = key absent) satisfy a requirement? */
function satisfies(r: Requirement, v: string | undefined): boolean {
  switch (r.op) {
    case 'exists':
      return v !== undefined;
    case '!exists':
      return v === undefined;
    case '=':
    case 'in':
      return v !== undefined && r.values.includes(v);
    case '!=':
    case 'notin':
      return v === undefined || !r.values.includes(v);
  }
}

/** Matches labels against parsed requirements (all must hold). */
export function matchLabels(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  return reqs.every((r) => satisfies(r, labels?.[r.key]));
}

/** Reads a dotted field path (`spec.nodeName`) as a string, as field selectors compare them. */
export function fieldValue(obj: unknown, path: string): string | undefined {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return undefined;
  return typeof cur === 'string' ? cur : JSON.stringify(cur);
}

/** Matches an object against a field selector; an absent field compares as the empty string, like the API server. */
export function matchFields(reqs: Requirement[], obj: unknown): boolean {
  return reqs.every((r) => satisfies(r, fieldValue(obj, r.key) ?? ''));
}

/** A `metav1.LabelSelector`. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Converts a LabelSelector object into requirements (operators In, NotIn, Exists, DoesNotExist). */
export function labelSelectorRequirements(sel: LabelSelector | undefined): Requirement[] {
  const out: Requirement[] = [];
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) out.push({ key: k, op: '=', values: [v] });
  for (const e of sel?.matchExpressions ?? []) {
    const op = ({ In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!exists' } as Record<string, Op>)[e.operator];
    if (!op) throw new ApiError('Invalid', `selector operator "${e.operator}" is not In, NotIn, Exists or DoesNotExist`);
    out.push({ key: e.key, op, values: e.values ?? [] });
  }
  return out;
}

/** A `v1.NodeSelectorTerm`. */
export interface NodeSelectorTerm {
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
  matchFields?: { key: string; operator: string; values?: string[] }[];
}

/** Does a node (name and labels) match a NodeSelectorTerm? Gt/Lt compare integers as upstream does. */
export function matchNodeSelectorTerm(term: NodeSelectorTerm, name: string, labels: Record<string, string>): boolean {
  const one = (e: { key: string; operator: string; values?: string[] }, v: string | undefined): boolean => {
    const vals = e.values ?? [];
    switch (e.operator) {
      case 'In':
        return v !== undefined && vals.includes(v);
      case 'NotIn':
        return v === undefined || !vals.includes(v);
      case 'Exists':
        return v !== undefined;
      case 'DoesNotExist':
        return v === undefined;
      case 'Gt':
        return v !== undefined && Number(v) > Number(vals[0]);
      case 'Lt':
        return v !== undefined && Number(v) < Number(vals[0]);
      default:
        return false;
    }
  };
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false; // an empty term matches nothing (upstream)
  return exprs.every((e) => one(e, labels[e.key])) && fields.every((f) => one(f, f.key === 'metadata.name' ? name : undefined));
}
