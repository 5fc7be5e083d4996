import { readFileSync } from 'node:fs';
import { type Document, isMap, isScalar, LineCounter, type Node, parseAllDocuments, Scalar } from 'yaml';
import { type ConfigProblem, FieldLocations } from './config-error.js';
import { type DecodeContext, decodeStruct, type RawTree } from './decode-fields.js';
import { describe } from './decode-messages.js';
import { fieldPathAt } from './field-path-at.js';
import { kubeProxyConfigurationSpec } from './schema.js';

export const kubeProxyApiVersion = 'kubeproxy.config.k8s.io/v1alpha1';
export const configMapKey = 'config.conf';

/** A configuration file decoded strictly: the fields it wrote, where it wrote them, what was wrong. */
export interface DecodedConfigFile {
  readonly tree: RawTree;
  readonly locations: FieldLocations;
  readonly problems: ConfigProblem[];
  /** The YAML itself could not be read (syntax, no document): only those problems are reported. */
  readonly unreadable?: boolean;
}

/**
 * Reads a KubeProxyConfiguration file, or a whole kube-proxy ConfigMap (as `kubectl get cm -o yaml`
 * prints it), whose `data."config.conf"` holds the configuration; lines inside it are reported as
 * lines of the ConfigMap file.
 */
export function readConfigFile(path: string): DecodedConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    return failed(path, `cannot read the file (${reason}); pass the path of a KubeProxyConfiguration`);
  }
  return decodeConfigText(text, path);
}

/** Decodes configuration text; `file` names it in every problem. */
export function decodeConfigText(text: string, file: string): DecodedConfigFile {
  const outer = parseYaml(text, file, 0);
  if ('problems' in outer) return outer;
  const embedded = configMapEmbedded(outer.document);
  if (embedded === undefined) return decodeDocument(outer.document, file, outer.lineOf);
  if (typeof embedded.value !== 'string') {
    const where = embedded.node ? outer.lineOf(embedded.node) : `${file}:1`;
    const problem = `a ConfigMap must hold the configuration as a string in data."${configMapKey}", got ${describe(embedded.node)}`;
    return {
      tree: {},
      locations: new FieldLocations(where),
      problems: [{ where, path: `data.${configMapKey}`, message: problem }],
      unreadable: true,
    };
  }
  const inner = parseYaml(embedded.value, file, embeddedLineOffset(embedded.node, outer.lineCounter));
  if ('problems' in inner) return inner;
  return decodeDocument(inner.document, file, inner.lineOf);
}

interface ParsedYaml {
  readonly document: Document;
  readonly lineCounter: LineCounter;
  readonly lineOf: DecodeContext['lineOf'];
}

function parseYaml(text: string, file: string, lineOffset: number): ParsedYaml | DecodedConfigFile {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number) => `${file}:${lineCounter.linePos(offset).line + lineOffset}`;
  const all = Array.isArray(documents) ? documents : [];
  const syntax = all.flatMap((document) => [
    ...document.errors,
    ...document.warnings.filter((w) => w.code === 'BAD_DIRECTIVE'),
  ]);
  if (syntax.length > 0) {
    const problems = syntax.map((error) => ({
      where: lineAt(error.pos[0]),
      path: all[0] ? fieldPathAt(all[0], error.pos[0]) : '(document)',
      message: `YAML syntax: ${error.message.split('\n')[0]}`,
    }));
    const firstPerLine = problems.filter(
      (problem, index) => problems.findIndex((p) => p.where === problem.where) === index,
    );
    return { tree: {}, locations: new FieldLocations(`${file}:1`), problems: firstPerLine, unreadable: true };
  }
  const nonEmpty = all.filter((document) => document.contents !== null);
  if (nonEmpty.length !== 1) {
    const where = nonEmpty[1] ? lineAt(nonEmpty[1].range[0]) : `${file}:${1 + lineOffset}`;
    const message =
      nonEmpty.length === 0
        ? 'the file is empty; expected one KubeProxyConfiguration document'
        : `expected one YAML document, found ${nonEmpty.length}; keep only the KubeProxyConfiguration`;
    return failed(file, message, where);
  }
  const document = nonEmpty[0] as Document;
  const lineOf = (node: unknown) => lineAt((node as Partial<Node>).range?.[0] ?? 0);
  return { document, lineCounter, lineOf };
}

function configMapEmbedded(document: Document): { node: unknown; value: unknown } | undefined {
  const root = document.contents;
  if (!isMap(root) || root.get('kind') !== 'ConfigMap') return undefined;
  const data = root.get('data', true);
  const node = isMap(data) ? data.get(configMapKey, true) : undefined;
  return { node, value: isScalar(node) ? node.value : undefined };
}

/** How many lines before the embedded text's first line: a block scalar starts on the line after `|`. */
function embeddedLineOffset(node: unknown, lineCounter: LineCounter): number {
  if (!isScalar(node) || !node.range) return 0;
  const line = lineCounter.linePos(node.range[0]).line;
  const isBlock = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
  return isBlock ? line : line - 1;
}

function decodeDocument(
  document: Document,
  file: string,
  lineOf: DecodeContext['lineOf'],
): DecodedConfigFile {
  const rootWhere = document.contents ? lineOf(document.contents) : `${file}:1`;
  const context: DecodeContext = { document, lineOf, problems: [], locations: new FieldLocations(rootWhere) };
  const tree = decodeStruct(document.contents, kubeProxyConfigurationSpec, '', context);
  const { locations, problems } = context;
  if (tree.kind !== 'KubeProxyConfiguration') {
    const got = tree.kind === undefined ? 'missing' : `"${String(tree.kind)}"`;
    problems.push({
      where: locations.whereOf('kind'),
      path: 'kind',
      message: `must be KubeProxyConfiguration (or pass the whole kube-proxy ConfigMap), got ${got}`,
    });
  }
  if (tree.apiVersion !== kubeProxyApiVersion) {
    const got = tree.apiVersion === undefined ? 'missing' : `"${String(tree.apiVersion)}"`;
    problems.push({
      where: locations.whereOf('apiVersion'),
      path: 'apiVersion',
      message: `must be ${kubeProxyApiVersion}, got ${got}`,
    });
  }
  return { tree, locations, problems };
}

function failed(file: string, message: string, where = `${file}:1`): DecodedConfigFile {
  return {
    tree: {},
    locations: new FieldLocations(where),
    problems: [{ where, path: '(document)', message }],
    unreadable: true,
  };
}
