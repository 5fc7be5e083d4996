/**
 * Splits multi-document YAML into its documents and parses each, remembering the line every
 * document (and every item of a `kind: List`) starts on. JSON documents — what `kubectl -o json`
 * and generators write — take JSON.parse; the rest js-yaml with the YAML 1.2 core schema. A
 * `---` at the start of a line always starts a new document (YAML forbids it inside content),
 * so a broken document never hides its neighbours.
 */
import { CORE_SCHEMA, load, YAMLException } from 'js-yaml';

export type ParsedDocument =
  | {
      readonly ok: true;
      readonly value: unknown;
      readonly line: number;
      readonly itemLines: readonly number[];
    }
  | { readonly ok: false; readonly message: string; readonly line: number };

interface Chunk {
  readonly text: string;
  /** 1-based line of the chunk's first line in the file. */
  readonly firstLine: number;
}

const DOCUMENT_START = /^---(?=\s|$)/;
const DOCUMENT_END = /^\.\.\.(?=\s|$)/;
const BLANK_OR_COMMENT = /^\s*(#.*)?$/;

export function parseYamlDocuments(text: string): ParsedDocument[] {
  const documents: ParsedDocument[] = [];
  for (const chunk of splitDocuments(text)) {
    const lines = chunk.text.split('\n');
    const firstContent = lines.findIndex((line) => !BLANK_OR_COMMENT.test(line));
    if (firstContent < 0) continue;
    const line = chunk.firstLine + firstContent;
    const parsed = parseChunk(chunk);
    if (!parsed.ok) documents.push({ ok: false, message: parsed.message, line: parsed.line ?? line });
    else
      documents.push({
        ok: true,
        value: parsed.value,
        line,
        itemLines: listItemLines(lines, chunk.firstLine),
      });
  }
  return documents;
}

function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  const lines = text.split(/\r?\n/);
  let current: string[] = [];
  let firstLine = 1;
  const flush = (next: number) => {
    chunks.push({ text: current.join('\n'), firstLine });
    current = [];
    firstLine = next;
  };
  lines.forEach((line, i) => {
    if (DOCUMENT_START.test(line)) {
      flush(i + 1);
      current.push(`   ${line.slice(3)}`); // keep what follows `---` (and its columns)
    } else if (DOCUMENT_END.test(line)) {
      flush(i + 2);
    } else {
      current.push(line);
    }
  });
  flush(lines.length + 1);
  return chunks;
}

function parseChunk(
  chunk: Chunk,
): { ok: true; value: unknown } | { ok: false; message: string; line?: number } {
  const trimmed = chunk.text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return { ok: true, value: JSON.parse(chunk.text) };
    } catch {
      // Not JSON after all (a YAML flow mapping such as `{name: x}`): parse it as YAML below.
    }
  }
  try {
    return { ok: true, value: load(chunk.text, { schema: CORE_SCHEMA }) };
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    const mark = (error as YAMLException & { mark?: { line?: number } }).mark;
    const line = mark?.line === undefined ? undefined : chunk.firstLine + mark.line;
    return { ok: false, message: `YAML: ${error.reason}`, line };
  }
}

/**
 * The lines where the items of a top-level `items:` block sequence start (a List document), or
 * none when the list is written otherwise (then messages give the document's line).
 */
function listItemLines(lines: readonly string[], firstLine: number): number[] {
  const itemsAt = lines.findIndex((line) => /^items:\s*(#.*)?$/.test(line));
  if (itemsAt < 0) return [];
  const starts: number[] = [];
  let indent: number | undefined;
  for (let i = itemsAt + 1; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (BLANK_OR_COMMENT.test(line)) continue;
    const match = /^(\s*)-(\s|$)/.exec(line);
    const lineIndent = /^\s*/.exec(line)?.[0].length ?? 0;
    if (indent === undefined) {
      if (!match) return [];
      indent = match[1]?.length ?? 0;
    }
    if (lineIndent < indent || (lineIndent === indent && !match)) break;
    if (match && lineIndent === indent) starts.push(firstLine + i);
  }
  return starts;
}
