import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InputError } from '../core/errors.js';
import { readNifti, writeNifti } from '../data/nifti.js';
import { assertDataError, buildNifti, gzip } from './helpers/fixtures.js';

const FILE = 'fixtures/brain.nii.gz';

/** x-fastest values of a [nz, ny, nx] ramp. */
const ramp = (nx: number, ny: number, nz: number, f: (x: number, y: number, z: number) => number) => {
  const out: number[] = [];
  for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) out.push(f(x, y, z));
  return out;
};

describe('readNifti on hand-built files', () => {
  test('int16 with scl_slope/scl_inter, gzipped: values, shape [z, y, x], spacing [pz, py, px]', () => {
    const values = ramp(4, 3, 2, (x, y, z) => x - 2 * y + 100 * z - 7);
    const bytes = gzip(buildNifti({ dims: [4, 3, 2], datatype: 4, values, pixdim: [0.5, 0.75, 3], slope: 0.5, inter: -10 }));
    const volume = readNifti(bytes, FILE);
    assert.deepEqual(volume.shape, [2, 3, 4]);
    assert.deepEqual(volume.spacing, [3, 0.75, 0.5]);
    assert.equal(volume.datatype, 4);
    assert.deepEqual([...volume.data], values.map((v) => v * 0.5 - 10));
    assert.equal(volume.header.length, 352);
  });

  test('slope 0 means no scaling; every supported datatype; big-endian files', () => {
    const values = ramp(3, 2, 2, (x, y, z) => x + 3 * y + 6 * z);
    for (const datatype of [2, 4, 8, 16, 64, 256, 512]) {
      for (const littleEndian of [true, false]) {
        const volume = readNifti(buildNifti({ dims: [3, 2, 2], datatype, values, littleEndian, slope: 0, inter: 55 }), FILE);
        assert.deepEqual([...volume.data], values, `datatype ${datatype}, ${littleEndian ? 'little' : 'big'}-endian`);
      }
    }
    const negative = readNifti(buildNifti({ dims: [3], datatype: 256, values: [-128, 0, 127] }), FILE);
    assert.deepEqual([...negative.data], [-128, 0, 127]);
  });

  test('2-D volumes read as [1, y, x]; a 4th dimension of 1 is fine; vox_offset past extensions is honoured', () => {
    const flat = readNifti(buildNifti({ dims: [3, 2], datatype: 2, values: [1, 2, 3, 4, 5, 6], pixdim: [0.5, 0.25] }), FILE);
    assert.deepEqual(flat.shape, [1, 2, 3]);
    assert.deepEqual(flat.spacing, [1, 0.25, 0.5]);
    const fourD = readNifti(buildNifti({ dims: [2, 1, 1, 1], datatype: 2, values: [7, 8] }), FILE);
    assert.deepEqual(fourD.shape, [1, 1, 2]);
    const offset = readNifti(buildNifti({ dims: [2], datatype: 16, values: [1.5, -2.5], voxOffset: 400 }), FILE);
    assert.deepEqual([...offset.data], [1.5, -2.5]);
    assert.equal(offset.header.length, 400);
  });
});

describe('writeNifti', () => {
  const geometry = {
    qformCode: 1, sformCode: 2, qfac: -1, quatern: [0, 0.5, 0.5, -90, 12.5, 33],
    srow: [0, 0, 3, -90, 0.75, 0, 0, 12.5, 0, 0.5, 0, 33],
  };

  for (const compressed of [false, true]) {
    test(`float32 round trip (${compressed ? '.nii.gz' : '.nii'}) keeps values, shape and spacing`, () => {
      const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => Math.sin(i) * 100);
      const bytes = writeNifti({ data, shape: [2, 3, 4], spacing: [3, 0.75, 0.5] }, compressed);
      assert.equal(bytes[0] === 0x1f && bytes[1] === 0x8b, compressed, 'gzip magic iff compressed');
      const back = readNifti(bytes, FILE);
      assert.deepEqual([...back.data], [...data]);
      assert.deepEqual(back.shape, [2, 3, 4]);
      assert.deepEqual(back.spacing, [3, 0.75, 0.5]);
      assert.equal(back.datatype, 16);
    });
  }

  test('uint8 labels with the input header: orientation, units and description preserved (from a big-endian header too)', () => {
    for (const littleEndian of [true, false]) {
      const input = readNifti(buildNifti({ dims: [4, 3, 2], datatype: 4, values: new Array(24).fill(0), pixdim: [0.5, 0.75, 3], slope: 2, littleEndian, description: 'T1 scan', ...geometry }), FILE);
      const labels = Uint8Array.from({ length: 24 }, (_, i) => i % 3);
      const bytes = writeNifti({ data: labels, shape: input.shape, spacing: input.spacing, header: input.header }, true);
      const back = readNifti(bytes, FILE);
      assert.equal(back.datatype, 2);
      assert.deepEqual([...back.data], [...labels]);
      assert.deepEqual(back.spacing, [3, 0.75, 0.5]);
      const h = new DataView(back.header.buffer, back.header.byteOffset);
      assert.equal(h.getInt16(252, true), 1, 'qform_code');
      assert.equal(h.getInt16(254, true), 2, 'sform_code');
      assert.equal(h.getFloat32(76, true), -1, 'qfac');
      assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => h.getFloat32(256 + 4 * i, true)), geometry.quatern);
      assert.deepEqual(Array.from({ length: 12 }, (_, i) => h.getFloat32(280 + 4 * i, true)), geometry.srow);
      assert.equal(h.getUint8(123), 10, 'xyzt_units');
      assert.equal(new TextDecoder().decode(back.header.subarray(148, 155)), 'T1 scan');
      assert.equal(h.getFloat32(112, true), 1, 'scl_slope reset to 1');
    }
  });

  test('int16 with scl_slope/scl_inter read, written back as float32 with its header, read again: same values', () => {
    for (const compressed of [false, true]) {
      const values = ramp(5, 4, 3, (x, y, z) => 1000 * z + 10 * y - x);
      const input = readNifti(buildNifti({ dims: [5, 4, 3], datatype: 4, values, pixdim: [0.9, 0.9, 2], slope: 0.25, inter: 7, ...geometry }), FILE);
      const back = readNifti(writeNifti({ data: input.data, shape: input.shape, spacing: input.spacing, header: input.header }, compressed), FILE);
      assert.deepEqual([...back.data], values.map((v) => v * 0.25 + 7));
      assert.deepEqual([back.shape, back.spacing], [input.shape, input.spacing]);
      assert.deepEqual(back.header.subarray(252, 328), input.header.subarray(252, 328), 'orientation fields unchanged');
    }
  });

  test('float data written as uint8 must be integers in [0, 255]', () => {
    const ok = writeNifti({ data: Float32Array.of(0, 1, 255), shape: [1, 1, 3], spacing: [1, 1, 1], datatype: 'uint8' }, false);
    assert.deepEqual([...readNifti(ok).data], [0, 1, 255]);
    assert.throws(() => writeNifti({ data: Float32Array.of(0, 1.5, 2), shape: [1, 1, 3], spacing: [1, 1, 1], datatype: 'uint8' }, false), InputError);
    assert.throws(() => writeNifti({ data: new Uint8Array(5), shape: [1, 1, 3], spacing: [1, 1, 1] }, false), InputError);
    assert.throws(() => writeNifti({ data: new Uint8Array(3), shape: [1, 1, 3], spacing: [1, 0, 1] }, false), InputError);
  });
});

describe('readNifti refuses broken files with an InputError naming the file', () => {
  const good = () => buildNifti({ dims: [4, 3, 2], datatype: 4, values: new Array(24).fill(3) });

  test('truncated voxel data and truncated header, plain and gzipped', async () => {
    const bytes = good();
    await assertDataError(() => readNifti(bytes.subarray(0, bytes.length - 1), FILE), InputError, FILE, /truncated: 24 int16 voxels need 48 bytes from offset 352, the file has 47/);
    await assertDataError(() => readNifti(gzip(bytes.subarray(0, 399)), FILE), InputError, FILE, /truncated/);
    await assertDataError(() => readNifti(bytes.subarray(0, 200), FILE), InputError, FILE, /truncated: 200 bytes, a NIfTI-1 header needs 348/);
  });

  test('corrupt gzip stream', async () => {
    const zipped = gzip(good());
    await assertDataError(() => readNifti(zipped.subarray(0, zipped.length - 30), FILE), InputError, FILE, /corrupt gzip data/);
  });

  test('bad sizeof_hdr, NIfTI-2, bad magic, .hdr/.img pair', async () => {
    await assertDataError(() => readNifti(buildNifti({ dims: [1], datatype: 2, values: [0], sizeofHdr: 123 }), FILE), InputError, FILE, /bad sizeof_hdr 123/);
    await assertDataError(() => readNifti(buildNifti({ dims: [1], datatype: 2, values: [0], sizeofHdr: 540 }), FILE), InputError, FILE, /NIfTI-2/);
    await assertDataError(() => readNifti(buildNifti({ dims: [1], datatype: 2, values: [0], magic: 'abc\0' }), FILE), InputError, FILE, /bad magic/);
    await assertDataError(() => readNifti(buildNifti({ dims: [1], datatype: 2, values: [0], magic: 'ni1\0' }), FILE), InputError, FILE, /\.hdr\/\.img pair/);
  });

  test('unknown datatype, bitpix mismatch, bad dims, 4-D volume, bad vox_offset', async () => {
    await assertDataError(() => readNifti(buildNifti({ dims: [2], datatype: 128, values: [0, 0] }), FILE), InputError, FILE, /unknown or unsupported datatype 128/);
    await assertDataError(() => readNifti(buildNifti({ dims: [2], datatype: 4, values: [0, 0], bitpix: 8 }), FILE), InputError, FILE, /bitpix 8 does not match datatype 4/);
    await assertDataError(() => readNifti(buildNifti({ dims: [2, 0], datatype: 2, values: [] }), FILE), InputError, FILE, /bad dim\[2\] = 0/);
    await assertDataError(() => readNifti(buildNifti({ dims: [2, 1, 1, 3], datatype: 2, values: new Array(6).fill(0) }), FILE), InputError, FILE, /4-D volumes/);
    await assertDataError(() => readNifti(buildNifti({ dims: [2], datatype: 2, values: [0, 0], voxOffset: 100 }), FILE), InputError, FILE, /bad vox_offset/);
  });
});
