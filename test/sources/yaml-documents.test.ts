import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYamlDocuments } from '../../src/sources/yaml-documents.js';

describe('parseYamlDocuments', () => {
  it('splits on --- lines, keeps content after the marker, honours ... and CRLF', () => {
    const text =
      '# leading comment\r\na: 1\r\n--- {"b": 2}\r\n---\r\n\r\n# only a comment\r\n---\r\nc: 3\r\n...\r\nd: 4\r\n';
    const documents = parseYamlDocuments(text);
    assert.deepEqual(
      documents.map((d) => (d.ok ? [d.line, d.value] : [d.line, d.message])),
      [
        [2, { a: 1 }],
        [3, { b: 2 }],
        [8, { c: 3 }],
        [10, { d: 4 }],
      ],
    );
  });

  it('reports a broken document at its line and still parses its neighbours', () => {
    const documents = parseYamlDocuments('a: 1\n---\nb: [1, 2\nc: 3\n---\nd: 4\n');
    assert.equal(documents.length, 3);
    assert.ok(documents[0]?.ok && documents[2]?.ok);
    const broken = documents[1];
    assert.ok(broken && !broken.ok);
    assert.ok(broken.line >= 3 && broken.line <= 5, `line ${broken.line}`);
    assert.match(broken.message, /^YAML: /);
  });

  it('parses flow mappings that are YAML but not JSON, and keeps YAML 1.2 scalars as strings', () => {
    const [document] = parseYamlDocuments('{name: web, on: yes, port: 80}\n');
    assert.ok(document?.ok);
    assert.deepEqual(document.value, { name: 'web', on: 'yes', port: 80 });
  });

  it('finds where each item of a List starts', () => {
    const text =
      'kind: List\nitems:\n  - kind: Service\n    metadata: {name: a}\n\n  # a comment\n  - kind: Service\n    metadata: {name: b}\n';
    const [document] = parseYamlDocuments(text);
    assert.ok(document?.ok);
    assert.deepEqual(document.itemLines, [3, 7]);
  });
});
