/** Reads JUnit XML back (fast-xml-parser), so tests assert on suites and cases rather than on text. */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export interface JunitCase {
  classname: string;
  name: string;
  time?: number;
  failure?: string;
  error?: string;
  skipped: boolean;
  systemOut?: string;
}

export interface JunitSuite {
  name: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  cases: JunitCase[];
}

type Node = Record<string, unknown>;
const list = (v: unknown): Node[] => (v === undefined ? [] : Array.isArray(v) ? (v as Node[]) : [v as Node]);
const text = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');
const message = (v: unknown): string => text((v as Node)['@message']);

/** The suites of a JUnit document; throws when it is not well-formed XML or has no <testsuites> root. */
export function parseJunit(xml: string): JunitSuite[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseAttributeValue: false }).parse(xml) as Node;
  if (!doc.testsuites) throw new Error('no <testsuites> root');
  return list((doc.testsuites as Node).testsuite).map((s) => ({
    name: String(s['@name']),
    tests: Number(s['@tests']),
    failures: Number(s['@failures']),
    errors: Number(s['@errors']),
    skipped: Number(s['@skipped']),
    cases: list(s.testcase).map((c) => ({
      classname: String(c['@classname']),
      name: String(c['@name']),
      ...(c['@time'] !== undefined ? { time: Number(c['@time']) } : {}),
      ...(c.failure !== undefined ? { failure: message(c.failure) } : {}),
      ...(c.error !== undefined ? { error: message(c.error) } : {}),
      skipped: c.skipped !== undefined,
      ...(c['system-out'] !== undefined ? { systemOut: text(c['system-out']) } : {}),
    })),
  }));
}
