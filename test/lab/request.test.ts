import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRequest } from '../../src/lab/load/request.js';

const url = new URL('http://127.0.0.1:8080/a?b=1');

test("a GET as ab sends it: keep-alive first, the user's headers, then the defaults not overridden", () => {
  const { bytes } = buildRequest(url, {
    keepAlive: true,
    headers: [
      ['Cookie', 'a=b'],
      ['Accept', 'text/html'],
    ],
  });
  assert.equal(
    bytes.toString('latin1'),
    'GET /a?b=1 HTTP/1.0\r\nConnection: Keep-Alive\r\nCookie: a=b\r\nAccept: text/html\r\n' +
      'Host: 127.0.0.1:8080\r\nUser-Agent: kproxy-bench\r\n\r\n',
  );
});

test('a POST carries its body with Content-length and Content-type (ab -p -T)', () => {
  const body = Buffer.from('{"x":1}');
  const built = buildRequest(url, { keepAlive: false, body, contentType: 'application/json' });
  const text = built.bytes.toString('latin1');
  assert.ok(text.startsWith('POST /a?b=1 HTTP/1.0\r\n'));
  assert.ok(text.endsWith('Content-length: 7\r\nContent-type: application/json\r\n\r\n{"x":1}'));
  assert.equal(built.bodyLength, 7);
});
