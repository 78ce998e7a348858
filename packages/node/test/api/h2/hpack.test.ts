// Goal: the HPACK decoder follows a client's compression context exactly as RFC 7541 defines it,
// and the literal encoder writes blocks any decoder reads back unchanged without touching its
// dynamic table. Method: the RFC's Appendix C examples (integers, C.3 requests without Huffman,
// C.4 with Huffman, C.5 responses with eviction), each request decoded in order by one decoder
// and checked against the RFC's header lists and dynamic table states; hand-made edge cases.
import { HpackDecoder, HpackError, decodeInteger, encodeInteger, encodeLiteralBlock, huffmanDecode, type HeaderField } from '../../../src/api/h2/hpack.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const pairs = (fields: readonly HeaderField[]): [string, string][] => fields.map((f) => [f.name, f.value]);
const table = (decoder: HpackDecoder): [string, string][] => pairs(decoder.dynamicTable);

function errorOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (err) {
    if (err instanceof HpackError) return err.code;
    throw err;
  }
}

describe('integers (RFC 7541 §5.1, C.1)', () => {
  it('decode and encode the RFC examples', () => {
    expect(decodeInteger(hex('0a'), 0, 5)).toEqual({ value: 10, next: 1 });
    expect(decodeInteger(hex('1f9a0a'), 0, 5)).toEqual({ value: 1337, next: 3 });
    expect(decodeInteger(hex('2a'), 0, 8)).toEqual({ value: 42, next: 1 });
    expect(encodeInteger(10, 5)).toEqual([0x0a]);
    expect(encodeInteger(1337, 5)).toEqual([0x1f, 0x9a, 0x0a]);
    expect(encodeInteger(42, 8)).toEqual([42]);
  });

  it('handle a value equal to the prefix maximum, and pattern bits above the prefix', () => {
    expect(encodeInteger(31, 5)).toEqual([0x1f, 0x00]);
    expect(decodeInteger(Buffer.from([0xff, 0x00]), 0, 5)).toEqual({ value: 31, next: 2 });
    expect(decodeInteger(Buffer.from([0xe0 | 30]), 0, 5)).toEqual({ value: 30, next: 1 });
    expect(encodeInteger(0, 7, 0x80)).toEqual([0x80]);
  });

  it('round-trip across prefixes and continuation lengths', () => {
    for (const prefix of [1, 4, 5, 6, 7, 8]) {
      for (const value of [0, 1, 126, 127, 128, 255, 256, 16_383, 16_384, 2 ** 21, 2 ** 28 + 5, 0xffffffff]) {
        const bytes = Buffer.from(encodeInteger(value, prefix));
        expect(decodeInteger(bytes, 0, prefix)).toEqual({ value, next: bytes.length });
      }
    }
  });

  it('refuse a truncated integer and one past 32 bits', () => {
    expect(errorOf(() => decodeInteger(hex('1f9a'), 0, 5))).toBe('COMPRESSION_ERROR');
    expect(errorOf(() => decodeInteger(hex(''), 0, 5))).toBe('COMPRESSION_ERROR');
    expect(errorOf(() => decodeInteger(hex('1fffffffffff0f'), 0, 5))).toBe('COMPRESSION_ERROR');
  });
});

const REQUEST_1 = [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']];
const REQUEST_2 = [...REQUEST_1, ['cache-control', 'no-cache']];
const REQUEST_3 = [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']];
const TABLE_1 = [[':authority', 'www.example.com']];
const TABLE_2 = [['cache-control', 'no-cache'], ...TABLE_1];
const TABLE_3 = [['custom-key', 'custom-value'], ...TABLE_2];

describe.each([
  ['C.3 requests without Huffman', ['828684410f7777772e6578616d706c652e636f6d', '828684be58086e6f2d6361636865', '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565']],
  ['C.4 requests with Huffman', ['828684418cf1e3c2e5f23a6ba0ab90f4ff', '828684be5886a8eb10649cbf', '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf']],
])('%s', (_name, blocks) => {
  it('decode in order to the RFC header lists and dynamic tables', () => {
    const decoder = new HpackDecoder();
    expect(pairs(decoder.decode(hex(blocks[0]!)))).toEqual(REQUEST_1);
    expect(table(decoder)).toEqual(TABLE_1);
    expect(decoder.dynamicTableBytes).toBe(57);
    expect(pairs(decoder.decode(hex(blocks[1]!)))).toEqual(REQUEST_2);
    expect(table(decoder)).toEqual(TABLE_2);
    expect(decoder.dynamicTableBytes).toBe(110);
    expect(pairs(decoder.decode(hex(blocks[2]!)))).toEqual(REQUEST_3);
    expect(table(decoder)).toEqual(TABLE_3);
    expect(decoder.dynamicTableBytes).toBe(164);
  });

  it('need the earlier blocks: the second block alone refers past an empty table', () => {
    expect(errorOf(() => new HpackDecoder().decode(hex(blocks[1]!)))).toBe('COMPRESSION_ERROR');
  });
});

describe('dynamic table size (C.5, §4.2, §4.4)', () => {
  const C5_1 = '4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d';

  it('evicts the oldest entries once a 256-byte table is full (C.5.1, C.5.2)', () => {
    const decoder = new HpackDecoder(256);
    decoder.decode(hex(C5_1));
    expect(decoder.dynamicTableBytes).toBe(222);
    expect(pairs(decoder.decode(hex('4803333037c1c0bf')))).toEqual([
      [':status', '307'], ['cache-control', 'private'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['location', 'https://www.example.com'],
    ]);
    expect(table(decoder)).toEqual([
      [':status', '307'], ['location', 'https://www.example.com'], ['date', 'Mon, 21 Oct 2013 20:13:21 GMT'], ['cache-control', 'private'],
    ]);
    expect(decoder.dynamicTableBytes).toBe(222);
  });

  it('applies size updates at the start of a block and refuses them elsewhere or above the setting', () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex('828684410f7777772e6578616d706c652e636f6d'));
    decoder.decode(hex('20')); // size 0 empties the table
    expect(decoder.dynamicTableBytes).toBe(0);
    decoder.decode(Buffer.from([...encodeInteger(4096, 5, 0x20), 0x82]));
    expect(errorOf(() => decoder.decode(hex('8220')))).toBe('COMPRESSION_ERROR');
    expect(errorOf(() => decoder.decode(Buffer.from(encodeInteger(4097, 5, 0x20))))).toBe('COMPRESSION_ERROR');
  });

  it('drops an entry larger than the whole table, emptying it', () => {
    const decoder = new HpackDecoder(64);
    decoder.decode(Buffer.concat([hex('40'), Buffer.from([3]), Buffer.from('abc'), Buffer.from([3]), Buffer.from('def')]));
    expect(decoder.dynamicTableBytes).toBe(38);
    decoder.decode(Buffer.concat([hex('40'), Buffer.from([3]), Buffer.from('abc'), Buffer.from([40]), Buffer.alloc(40, 0x61)]));
    expect(decoder.dynamicTable).toEqual([]);
  });
});

describe('Huffman strings (§5.2)', () => {
  it('decode, with padding of up to 7 one bits', () => {
    expect(huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4ff')).toString()).toBe('www.example.com');
    expect(huffmanDecode(hex('1f')).toString()).toBe('a'); // 00011 + 111
  });

  it('refuse zero padding, padding of 8 bits or more, and EOS', () => {
    expect(errorOf(() => huffmanDecode(hex('18')))).toBe('COMPRESSION_ERROR');
    expect(errorOf(() => huffmanDecode(hex('1fff')))).toBe('COMPRESSION_ERROR');
    expect(errorOf(() => huffmanDecode(hex('fffffffc')))).toBe('COMPRESSION_ERROR');
  });
});

describe('literal encoding', () => {
  it('decodes to the same fields with any decoder state and leaves the table empty', () => {
    const fields: HeaderField[] = [
      { name: ':authority', value: '127.0.0.1:2379', neverIndexed: false },
      { name: 'authorization', value: 'secret', neverIndexed: true },
      { name: 'x-bin', value: Buffer.from([0, 1, 0xfe, 0xff]).toString('latin1'), neverIndexed: false },
      { name: 'long', value: 'v'.repeat(300), neverIndexed: false },
    ];
    const warm = new HpackDecoder();
    warm.decode(hex('828684410f7777772e6578616d706c652e636f6d'));
    for (const decoder of [new HpackDecoder(), warm]) {
      const before = table(decoder);
      expect(decoder.decode(encodeLiteralBlock(fields))).toEqual(fields);
      expect(table(decoder)).toEqual(before);
    }
  });
});
