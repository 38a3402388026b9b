import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InputError } from '../core/errors.js';
import { crc32 } from '../data/crc32.js';
import { type RasterImage, decodePng, encodePng } from '../data/png.js';
import { assertDataError, buildPng, pngChunk } from './helpers/fixtures.js';

const FILE = 'fixtures/picture.png';

/** A random raster of the given kind. */
const raster = (channels: 1 | 2 | 3 | 4, bitDepth: 8 | 16) =>
  fc.record({ width: fc.integer({ min: 1, max: 9 }), height: fc.integer({ min: 1, max: 7 }) }).chain(({ width, height }) =>
    fc.array(fc.integer({ min: 0, max: bitDepth === 8 ? 255 : 65535 }), { minLength: width * height * channels, maxLength: width * height * channels }).map(
      (values): RasterImage => ({ width, height, channels, bitDepth, data: bitDepth === 8 ? Uint8Array.from(values) : Uint16Array.from(values) }),
    ),
  );

describe('PNG encode/decode round trip', () => {
  for (const channels of [1, 2, 3, 4] as const) {
    for (const bitDepth of [8, 16] as const) {
      test(`${channels} channel(s), ${bitDepth} bits`, () => {
        fc.assert(
          fc.property(raster(channels, bitDepth), (image) => {
            const back = decodePng(encodePng(image));
            assert.deepEqual({ ...back, data: [...back.data] }, { ...image, data: [...image.data] });
          }),
          { seed: 6, numRuns: 40 },
        );
      });
    }
  }

  test('a smooth 64×64 gradient compresses well (filters chosen per row)', () => {
    const data = Uint8Array.from({ length: 64 * 64 }, (_, i) => (i % 64) * 2 + Math.floor(i / 64));
    const bytes = encodePng({ width: 64, height: 64, channels: 1, bitDepth: 8, data });
    assert.ok(bytes.length < 600, `expected < 600 bytes, got ${bytes.length}`);
    assert.deepEqual(decodePng(bytes).data, data);
  });
});

describe('decodePng on hand-built files (independent encoder, explicit filters)', () => {
  test('CRC-32 agrees with zlib.crc32 (check value of "123456789")', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  });

  for (const filter of [0, 1, 2, 3, 4]) {
    test(`filter ${filter} on every row, RGB 8 bit and gray 16 bit`, () => {
      const width = 5;
      const height = 4;
      const rgb = Array.from({ length: width * height * 3 }, (_, i) => (i * 37 + 11) % 256);
      const image = decodePng(buildPng({ width, height, colorType: 2, bitDepth: 8, samples: rgb, filters: [filter, filter, filter, filter] }));
      assert.deepEqual([...image.data], rgb);
      assert.equal(image.channels, 3);
      const gray = Array.from({ length: width * height }, (_, i) => (i * 4099 + 7) % 65536);
      const deep = decodePng(buildPng({ width, height, colorType: 0, bitDepth: 16, samples: gray, filters: [filter, filter, filter, filter] }));
      assert.ok(deep.data instanceof Uint16Array, 'expected 16-bit data');
      assert.deepEqual([...deep.data], gray);
    });
  }

  test('mixed filters, gray + alpha and RGBA at 8 and 16 bits, IDAT split over 3 chunks', () => {
    for (const [colorType, channels] of [[4, 2], [6, 4]] as const) {
      for (const bitDepth of [8, 16] as const) {
        const width = 6;
        const height = 5;
        const max = bitDepth === 8 ? 256 : 65536;
        const samples = Array.from({ length: width * height * channels }, (_, i) => (i * 7919 + 3) % max);
        const image = decodePng(buildPng({ width, height, colorType, bitDepth, samples, idatChunks: 3 }));
        assert.equal(image.channels, channels);
        assert.equal(image.bitDepth, bitDepth);
        assert.deepEqual([...image.data], samples);
      }
    }
  });

  for (const bitDepth of [1, 2, 4] as const) {
    test(`gray at ${bitDepth} bits (odd width, padded rows) is scaled to 8 bits`, () => {
      const width = 7;
      const height = 3;
      const max = 2 ** bitDepth - 1;
      const samples = Array.from({ length: width * height }, (_, i) => (i * 5) % (max + 1));
      const image = decodePng(buildPng({ width, height, colorType: 0, bitDepth, samples }));
      assert.equal(image.bitDepth, 8);
      assert.deepEqual([...image.data], samples.map((v) => (v * 255) / max));
    });
  }

  for (const bitDepth of [1, 2, 4, 8] as const) {
    test(`palette at ${bitDepth} bits: expanded to RGB, RGBA with tRNS, or kept as indices`, () => {
      const entries = Math.min(2 ** bitDepth, 5);
      const palette = Array.from({ length: entries }, (_, k) => [k * 50, 255 - k * 40, (k * 90) % 256] as [number, number, number]);
      const width = 5;
      const height = 3;
      const samples = Array.from({ length: width * height }, (_, i) => (i * 3) % entries);
      const rgb = decodePng(buildPng({ width, height, colorType: 3, bitDepth, samples, palette }));
      assert.equal(rgb.channels, 3);
      assert.deepEqual([...rgb.data], samples.flatMap((k) => palette[k]!));
      const rgba = decodePng(buildPng({ width, height, colorType: 3, bitDepth, samples, palette, transparency: [0, 128] }));
      assert.equal(rgba.channels, 4);
      assert.deepEqual([...rgba.data], samples.flatMap((k) => [...palette[k]!, k === 0 ? 0 : k === 1 ? 128 : 255]));
      const indices = decodePng(buildPng({ width, height, colorType: 3, bitDepth, samples, palette }), FILE, { keepPaletteIndices: true });
      assert.equal(indices.channels, 1);
      assert.deepEqual([...indices.data], samples);
    });
  }

  test('ancillary chunks are skipped', () => {
    const text = pngChunk('tEXt', new TextEncoder().encode('Comment\0hello'));
    const image = decodePng(buildPng({ width: 2, height: 2, colorType: 0, bitDepth: 8, samples: [1, 2, 3, 4], extraChunks: [text] }));
    assert.deepEqual([...image.data], [1, 2, 3, 4]);
  });
});

describe('decodePng refuses broken files with an InputError naming the file', () => {
  const good = () => buildPng({ width: 4, height: 4, colorType: 0, bitDepth: 8, samples: Array.from({ length: 16 }, (_, i) => i * 10) });

  test('bad signature', async () => {
    const bytes = good();
    bytes[1] = 0x51;
    await assertDataError(() => decodePng(bytes, FILE), InputError, FILE, /bad signature/);
    await assertDataError(() => decodePng(new Uint8Array(3), FILE), InputError, FILE, /bad signature/);
  });

  test('corrupt CRC', async () => {
    const bytes = good();
    bytes[8 + 8 + 2] ^= 0xff; // inside IHDR's data
    await assertDataError(() => decodePng(bytes, FILE), InputError, FILE, /CRC mismatch in chunk IHDR/);
  });

  test('truncated file (every cut point)', async () => {
    const bytes = good();
    for (let cut = 8; cut < bytes.length; cut++) {
      await assertDataError(() => decodePng(bytes.subarray(0, cut), FILE), InputError, FILE, /truncated/);
    }
  });

  test('corrupt zlib data, with correct CRCs', async () => {
    const idat = pngChunk('IDAT', Uint8Array.from([0x78, 0x9c, 0xff, 0xff, 0xff, 0x00]));
    const bytes = good();
    const ihdrEnd = 8 + 25;
    const broken = Uint8Array.from([...bytes.subarray(0, ihdrEnd), ...idat, ...pngChunk('IEND', new Uint8Array(0))]);
    await assertDataError(() => decodePng(broken, FILE), InputError, FILE, /corrupt image data \(zlib/);
  });

  test('image data too short for the header', async () => {
    const bytes = buildPng({ width: 4, height: 4, colorType: 0, bitDepth: 8, samples: new Array(16).fill(0) });
    const view = new DataView(bytes.buffer);
    view.setUint32(16 + 4, 40); // height 4 → 40 in IHDR …
    view.setUint32(8 + 8 + 13, crc32(bytes, 12, 29)); // … with a fixed CRC
    await assertDataError(() => decodePng(bytes, FILE), InputError, FILE, /truncated image data/);
  });

  test('unsupported interlace, bad bit depth, unknown filter type', async () => {
    const interlaced = buildPng({ width: 2, height: 2, colorType: 0, bitDepth: 8, samples: [0, 1, 2, 3], interlace: 1 });
    await assertDataError(() => decodePng(interlaced, FILE), InputError, FILE, /interlaced PNGs are not supported/);
    const badDepth = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 4, samples: new Array(12).fill(0) });
    await assertDataError(() => decodePng(badDepth, FILE), InputError, FILE, /bit depth 4 is not allowed for colour type 2/);
    const badFilter = buildPng({ width: 2, height: 2, colorType: 0, bitDepth: 8, samples: [0, 1, 2, 3], filters: [0, 7] });
    await assertDataError(() => decodePng(badFilter, FILE), InputError, FILE, /unknown filter type 7 in row 1/);
  });

  test('palette without PLTE, palette index out of range', async () => {
    const noPalette = buildPng({ width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 1] });
    await assertDataError(() => decodePng(noPalette, FILE), InputError, FILE, /without a PLTE/);
    const outOfRange = buildPng({ width: 2, height: 1, colorType: 3, bitDepth: 8, samples: [0, 3], palette: [[0, 0, 0], [9, 9, 9]] });
    await assertDataError(() => decodePng(outOfRange, FILE), InputError, FILE, /palette index 3/);
  });

  test('encodePng refuses data that does not fit', () => {
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, bitDepth: 8, data: new Uint8Array(3) }), InputError);
    assert.throws(() => encodePng({ width: 2, height: 2, channels: 1, bitDepth: 16, data: new Uint8Array(4) }), InputError);
  });
});
