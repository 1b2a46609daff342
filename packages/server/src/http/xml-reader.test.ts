import { setImmediate as nextTurn } from 'node:timers/promises';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { startTestServer } from '../fixtures/harness.js';
import { MAX_ELEMENTS, parseXmlText, readXml } from './xml-reader.js';

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (e: { code?: string }) => e.code,
  );

describe('XML reader', () => {
  it('reads elements by local name, repeated ones as arrays, empty ones as empty text', async () => {
    const doc = await parseXmlText(
      '<?xml version="1.0"?>\n<s3:Tagging xmlns:s3="x"><TagSet><Tag><Key>a &amp; b</Key><Value/></Tag>' +
        '<Tag><Key>&#x263A;&#65;</Key><Value><![CDATA[<raw>]]></Value></Tag></TagSet><!-- note --></s3:Tagging>',
    );
    expect(doc).toEqual({
      name: 'Tagging',
      value: {
        TagSet: {
          Tag: [
            { Key: 'a & b', Value: '' },
            { Key: '☺A', Value: '<raw>' },
          ],
        },
      },
    });
  });

  it('refuses DTDs, entities beyond XML’s own, malformed documents, invalid UTF-8 and too many elements', async () => {
    const bad = [
      '<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>',
      '<a>&nbsp;</a>',
      '<a>&#0;</a>',
      '<a>AT&T</a>',
      '<a><b></a></b>',
      '<a></a><b/>',
      'text<a/>',
      '<a>',
      '<?php run() ?><a/>',
      '<a\u0001>x</a\u0001>',
      `<a>${'<b/>'.repeat(MAX_ELEMENTS)}</a>`,
      `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`,
    ];
    for (const text of bad) expect(await code(parseXmlText(text)), text.slice(0, 40)).toBe('MalformedXML');
    expect(await code(readXml(Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), 'a'))).toBe(
      'MalformedXML',
    );
    expect(await code(readXml(Buffer.from('<b/>'), 'a'))).toBe('MalformedXML');
  });

  it('takes control characters in text, raw or as references: S3 keys may hold them', async () => {
    const doc = await parseXmlText('<Delete><Object><Key>a\u0001b&#x7;&#27;</Key></Object></Delete>');
    expect(doc).toEqual({ name: 'Delete', value: { Object: { Key: 'a\u0001b\u0007\u001b' } } });
  });

  it('gives the event loop back while it reads a large document', async () => {
    const parts = Array.from(
      { length: 10_000 },
      (_, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>"${'0'.repeat(32)}"</ETag></Part>`,
    ).join('');
    let turns = 0;
    let reading = true;
    const other = (async () => {
      while (reading) {
        await nextTurn();
        turns++;
      }
    })();
    const doc = await parseXmlText(`<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`);
    reading = false;
    await other;
    expect((doc.value as { Part: unknown[] }).Part).toHaveLength(10_000);
    // Another task ran between slices of the reading: it did not hold the loop throughout.
    expect(turns).toBeGreaterThan(1);
  });

  it('answers MalformedXML over HTTP for a DTD or invalid UTF-8', async () => {
    const t = await startTestServer();
    try {
      await t.client().send(new CreateBucketCommand({ Bucket: 'open', ACL: 'public-read-write' }));
      for (const body of [
        Buffer.from('<!DOCTYPE Delete [<!ENTITY k "x">]><Delete><Object><Key>&k;</Key></Object></Delete>'),
        Buffer.concat([
          Buffer.from('<Delete><Object><Key>'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('</Key></Object></Delete>'),
        ]),
      ]) {
        const res = await fetch(`${t.url}/open?delete`, { method: 'POST', body });
        expect([res.status, /<Code>(\w+)<\/Code>/.exec(await res.text())?.[1]]).toEqual([400, 'MalformedXML']);
      }
    } finally {
      await t.close();
    }
  });
});
