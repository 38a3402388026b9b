import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError, ShapeError } from '../core/errors.js';
import { lineChartPng, lineChartSvg, type Series } from '../cli/render/chart.js';
import { DIVERGING, OVERLAY_COLOURS, PREDICTION_FILL_ALPHA, mix } from '../cli/render/colour.js';
import { textWidth } from '../cli/render/font.js';
import { labelsPng, mapPreviewLayout, mapPreviewPng, overlayPng } from '../cli/render/overlay.js';
import { decodePng, encodePng } from '../data/png.js';
import { syntheticDataset } from '../data/synthetic.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';
import { cli } from './helpers/cli.js';
import { removeDir, tempDir } from './helpers/fixtures.js';

/** Demo pictures go here; set BOUNDARY_SEG_KEEP_PICTURES=1 to keep them for a look. */
const out = tempDir('boundary-seg-pictures-');
after(() => {
  if (process.env.BOUNDARY_SEG_KEEP_PICTURES) console.log(`pictures kept in ${out}`);
  else removeDir(out);
});

const epochs = Array.from({ length: 40 }, (_, i) => i);
const curves: Series[] = [
  { label: 'GDL', x: epochs, y: epochs.map((e) => 0.7 * (1 - Math.exp(-e / 8))) },
  { label: 'GDL + boundary <L_B>', x: epochs, y: epochs.map((e) => (e === 12 || e === 13 ? NaN : 0.75 * (1 - Math.exp(-e / 7)))) },
  { label: 'lone point', x: [0, 1, 2], y: [NaN, 0.5, NaN] },
];
const options = { title: 'Validation Dice & "boundary"', xLabel: 'epoch', yLabel: 'DSC', yRange: [0, 1] as [number, number] };

/** Tag names of an SVG document, checked to nest properly. */
function svgTags(svg: string): string[] {
  const stack: string[] = [];
  const seen: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)([^>]*?)(\/?)>/g)) {
    const [, closing, name, attributes, selfClosing] = m;
    if (closing) assert.equal(stack.pop(), name, `</${name}> closes ${stack.at(-1)}`);
    else {
      seen.push(name!);
      for (const a of attributes!.matchAll(/\s([\w:-]+)="([^"]*)"/g)) assert.ok(!/[<>&](?!(lt|gt|amp|quot|apos);)/.test(a[2]!), `unescaped attribute ${a[0]}`);
      if (!selfClosing) stack.push(name!);
    }
  }
  assert.deepEqual(stack, [], 'every tag closed');
  return seen;
}

describe('line charts', () => {
  test('SVG: well-formed, one path per series with lines, gaps split the path, dots for lone points, text escaped', () => {
    const svg = lineChartSvg(curves, options);
    writeFileSync(join(out, 'curves.svg'), svg);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="640" height="400"/);
    const tags = svgTags(svg);
    assert.equal(tags.filter((t) => t === 'svg').length, 1);
    const paths = [...svg.matchAll(/<path d="([^"]+)" stroke="(#[0-9a-f]{6})"/g)];
    assert.equal(paths.length, 2);
    assert.equal(paths[0]![1]!.split('M').length - 1, 1, 'one run');
    assert.equal(paths[1]![1]!.split('M').length - 1, 2, 'the NaN gap splits the second curve');
    assert.notEqual(paths[0]![2], paths[1]![2], 'distinct colours');
    assert.equal(tags.filter((t) => t === 'circle').length, 1, 'the lone point is a dot');
    assert.match(svg, /Validation Dice &amp; &quot;boundary&quot;/);
    assert.match(svg, /GDL \+ boundary &lt;L_B&gt;/);
    for (const tick of ['0.0', '0.2', '1.0', '0', '10', '30']) assert.match(svg, new RegExp(`>${tick.replace('.', '\\.')}</text>`));
  });

  test('SVG of an empty chart and of constant data still has axes', () => {
    const svg = lineChartSvg([], { title: 'empty', xLabel: 'x', yLabel: 'y' });
    svgTags(svg);
    const flat = lineChartSvg([{ label: 'flat', x: [0, 1], y: [2, 2] }], { title: 'flat', xLabel: 'x', yLabel: 'y' });
    assert.ok(!flat.includes('NaN'), 'no NaN coordinates');
  });

  test('PNG: decodes with our decoder, has the requested size, shows the curve colours', () => {
    const png = lineChartPng(curves, { ...options, width: 500, height: 300 });
    writeFileSync(join(out, 'curves.png'), png);
    const image = decodePng(png);
    assert.deepEqual([image.width, image.height, image.channels], [500, 300, 3]);
    const has = (rgb: number[]) => {
      for (let p = 0; p < image.width * image.height; p++) if (rgb.every((v, c) => image.data[3 * p + c] === v)) return true;
      return false;
    };
    assert.ok(has([0x4e, 0x79, 0xa7]), 'first series colour present');
    assert.ok(has([0xf2, 0x8e, 0x2b]), 'second series colour present');
  });

  test('bad series or options are refused', () => {
    assert.throws(() => lineChartSvg([{ label: 'bad', x: [1, 2], y: [1] }], options), ShapeError);
    assert.throws(() => lineChartPng(curves, { ...options, width: 10 }), InputError);
    assert.throws(() => lineChartPng(curves, { ...options, yRange: [1, 0] }), InputError);
  });
});

describe('slice pictures', () => {
  const s = syntheticDataset({ seed: 4, trainSlices: 3, valSlices: 0 }).train.find((x) => x.label.some((v) => v > 0))!;
  const n = s.height * s.width;
  // a prediction shifted one pixel to the right
  const pred = Uint8Array.from({ length: n }, (_, p) => (p % s.width > 0 ? s.label[p - 1]! : 0));
  const OLD_AND_PURE = [[40, 220, 60], [235, 40, 40], [255, 0, 0], [0, 255, 0]];
  const INK = [235, 235, 235];

  test('overlayPng: gray image, blue ground truth, vermillion prediction, bluish green where both contours agree; no red or green', () => {
    assert.equal(s.width, 64, 'a 64 × 64 slice');
    const png = overlayPng(s.image, s.height, s.width, pred, s.label, { scale: 3 });
    writeFileSync(join(out, 'overlay.png'), png);
    const image = decodePng(png);
    const outH = s.height * 3;
    // 192 px: "ground truth" and "prediction" on the first legend row, "both" wraps to a second
    assert.deepEqual([image.width, image.height, image.channels], [192, outH + 8 + 2 * 16, 3]);
    const counts = (rgbs: readonly (readonly number[])[], y0: number, y1: number) => rgbs.map((rgb) => {
      let count = 0;
      for (let p = y0 * image.width; p < y1 * image.width; p++) if (rgb.every((v, c) => image.data[3 * p + c] === v)) count++;
      return count;
    });
    const [gt, pr, both] = counts([OVERLAY_COLOURS.groundTruth, OVERLAY_COLOURS.prediction, OVERLAY_COLOURS.both], 0, outH);
    assert.ok(gt! > 0 && pr! > 0 && both! > 0, `contour pixels: ${gt} ground truth, ${pr} prediction, ${both} both`);
    assert.deepEqual(counts(OLD_AND_PURE, 0, image.height), [0, 0, 0, 0], 'no red or green left');
    const corner = [image.data[0], image.data[1], image.data[2]];
    assert.ok(corner[0] === corner[1] && corner[1] === corner[2], 'background is gray');
    assert.throws(() => overlayPng(s.image, s.height, s.width, pred.subarray(1), s.label), ShapeError);
    assert.throws(() => overlayPng(s.image, s.height, s.width, pred, s.label, { scael: 2 } as never), /options\.scael/);
  });

  test('overlayPng legend: swatches in the palette\'s exact colours, labels in the bitmap font, one row at 256 px', () => {
    const image = decodePng(overlayPng(s.image, s.height, s.width, pred, s.label));
    const outH = s.height * 4;
    assert.deepEqual([image.width, image.height], [256, outH + 8 + 16], 'default scale 4: 256 × 280');
    const pixel = (x: number, y: number) => [...image.data.subarray(3 * (y * image.width + x), 3 * (y * image.width + x) + 3)];
    const swatchTop = outH + 4 + 3;
    // items at x = 6, 6 + (10 + 4 + 71) + 12 = 103 and 103 + (10 + 4 + 59) + 12 = 188
    assert.deepEqual(pixel(6, swatchTop), [...OVERLAY_COLOURS.groundTruth], 'ground truth swatch');
    assert.deepEqual(pixel(6 + 9, swatchTop + 9), [...OVERLAY_COLOURS.groundTruth]);
    assert.deepEqual(pixel(103, swatchTop), [...OVERLAY_COLOURS.prediction], 'prediction swatch outline');
    assert.deepEqual(pixel(103 + 5, swatchTop + 5), [...mix([128, 128, 128], OVERLAY_COLOURS.prediction, PREDICTION_FILL_ALPHA)], 'prediction swatch fill');
    assert.deepEqual(pixel(188, swatchTop), [...OVERLAY_COLOURS.both], 'both swatch');
    assert.deepEqual(pixel(188 + 9, swatchTop + 9), [...OVERLAY_COLOURS.both]);
    const inkIn = (x0: number, x1: number) => {
      let count = 0;
      for (let y = outH; y < image.height; y++) for (let x = x0; x < x1; x++) if (pixel(x, y).every((v, c) => v === INK[c])) count++;
      return count;
    };
    assert.ok(inkIn(20, 20 + textWidth('ground truth')) > 20, 'label "ground truth" drawn');
    assert.ok(inkIn(117, 117 + textWidth('prediction')) > 20, 'label "prediction" drawn');
    assert.ok(inkIn(202, 202 + textWidth('both')) > 10, 'label "both" drawn');
    assert.equal(inkIn(0, 6) + inkIn(240, 256), 0, 'nothing past the labels');
  });

  test('overlayPng with labels ≥ 2: one more legend row saying the classes are drawn together; tiny slices get a wider canvas', () => {
    const three = Uint8Array.from(s.label, (v, p) => (v > 0 && p % 2 === 1 ? 2 : v));
    const image = decodePng(overlayPng(s.image, s.height, s.width, pred, three));
    assert.deepEqual([image.width, image.height], [256, 256 + 8 + 2 * 16]);
    let ink = 0;
    for (let p = (256 + 4 + 16) * 256; p < image.width * image.height; p++) if (INK.every((v, c) => image.data[3 * p + c] === v)) ink++;
    assert.ok(ink > 50, 'the classes line has text');
    // a 4 × 4 slice at scale 2 is 8 px: the canvas is as wide as the widest item, one item a row
    const tiny = decodePng(overlayPng(new Float32Array(16).fill(0.5), 4, 4, new Uint8Array(16), new Uint8Array(16), { scale: 2 }));
    assert.deepEqual([tiny.width, tiny.height], [10 + 4 + textWidth('ground truth') + 12, 8 + 8 + 3 * 16]);
  });

  test('labelsPng: class indices as 8-bit gray, read back unchanged', () => {
    const labels = Uint8Array.from({ length: 12 }, (_, i) => i % 3);
    const image = decodePng(labelsPng(labels, 3, 4));
    assert.deepEqual([image.width, image.height, image.channels, image.bitDepth], [4, 3, 1, 8]);
    assert.deepEqual([...image.data], [...labels]);
  });

  test('mapPreviewPng: blue–white–orange map, a colour bar with the end colours at its ends and white in the middle, title and labels', () => {
    const maps = signedDistanceMaps({ data: s.label, shape: [s.height, s.width] }, { classes: 2 }).data;
    const map = maps.subarray(n);
    const title = 'class 1: φ in voxels, reference convention';
    const options = { scale: 2, title, units: 'voxels' };
    const png = mapPreviewPng(map, s.height, s.width, options);
    writeFileSync(join(out, 'map.png'), png);
    const image = decodePng(png);
    // documented size: content max(W·scale, 161, title, labels) + 2 · 8 wide; H·scale + 58 + 14 (title) high
    assert.deepEqual([image.width, image.height], [Math.max(2 * s.width, 161, textWidth(title)) + 16, 2 * s.height + 58 + 14]);
    const layout = mapPreviewLayout(map, s.height, s.width, options);
    assert.deepEqual([layout.width, layout.height, layout.mapX, layout.mapY, layout.barY], [image.width, image.height, 8, 8 + 14, 8 + 14 + 2 * s.height + 8]);
    assert.equal(layout.barWidth % 2, 1, 'odd bar: 0 has its own column');
    const rgb = (x: number, y: number) => [...image.data.subarray(3 * (y * image.width + x), 3 * (y * image.width + x) + 3)];
    const pixel = (p: number) => rgb(layout.mapX + (p % s.width) * 2, layout.mapY + Math.floor(p / s.width) * 2); // p in the map's own grid
    const zero = map.findIndex((v) => v === 0);
    const lowest = map.indexOf(Math.min(...map));
    const far = map.indexOf(Math.max(...map));
    assert.ok(map[lowest]! < 0, 'the slice has inside values');
    assert.deepEqual(pixel(zero), [...DIVERGING.zero]);
    assert.deepEqual(pixel(lowest), [...DIVERGING.negative], 'the most negative value is full blue');
    assert.deepEqual(pixel(far), [...DIVERGING.positive], 'the largest distance is full orange');
    const barRow = layout.barY + 5;
    const middle = layout.barX + (layout.barWidth - 1) / 2;
    assert.deepEqual(rgb(layout.barX, barRow), [...DIVERGING.negative], 'left end of the bar');
    assert.deepEqual(rgb(layout.barX + layout.barWidth - 1, barRow), [...DIVERGING.positive], 'right end of the bar');
    assert.deepEqual(rgb(middle, barRow), [...DIVERGING.zero], 'middle of the bar is 0');
    assert.ok(rgb(middle - 20, barRow)[2]! > rgb(middle - 20, barRow)[0]!, 'left half blue');
    assert.ok(rgb(middle + 20, barRow)[0]! > rgb(middle + 20, barRow)[2]!, 'right half orange');
    const inkRows = (y0: number, y1: number) => {
      let count = 0;
      for (let y = y0; y < y1; y++) for (let x = 0; x < image.width; x++) if (rgb(x, y).every((v) => v === 34)) count++;
      return count;
    };
    assert.ok(inkRows(8, 8 + 9) > 100, 'title drawn');
    assert.ok(inkRows(layout.barY + 13, layout.barY + 34) > 100, 'bar labels drawn');
    for (const rgbs of OLD_AND_PURE) assert.ok(!Array.from({ length: image.width * image.height }, (_, p) => p).some((p) => rgbs.every((v, c) => image.data[3 * p + c] === v)), `no ${rgbs.join(',')}`);
  });

  test('mapPreviewPng of an all-zero map: not a blank picture but a framed map and the note, sized as documented', () => {
    const note = 'class 2: empty mask, no boundary: φ = 0 everywhere';
    const image = decodePng(mapPreviewPng(new Float32Array(64 * 64), 64, 64, { scale: 2, zeroNote: note }));
    assert.deepEqual([image.width, image.height], [Math.max(128, 161, textWidth(note)) + 16, 128 + 58]);
    const seen = new Set<string>();
    for (let p = 0; p < image.width * image.height; p++) seen.add(image.data.subarray(3 * p, 3 * p + 3).join());
    assert.ok(seen.has('34,34,34'), 'the note is written');
    assert.ok(seen.has('160,160,160'), 'frame and "φ = 0" in the map');
    const small = decodePng(mapPreviewPng(new Float32Array(4), 2, 2));
    assert.deepEqual([small.width, small.height], [161 + 16, 2 + 58]);
    assert.ok(!small.data.every((v) => v === 255), 'a small all-zero map still has text');
    assert.throws(() => mapPreviewPng(new Float32Array(4), 2, 2, { title: 3 } as never), /options\.title/);
    assert.throws(() => mapPreviewPng(new Float32Array(3), 2, 2), ShapeError);
  });

  test('distmap: a class absent from the labels gets a picture that says so and a note on stderr; previews as documented', async () => {
    const mask = Uint8Array.from({ length: 256 }, (_, p) => ((Math.floor(p / 16) - 8) ** 2 + ((p % 16) - 7) ** 2 <= 16 ? 1 : 0));
    const file = join(out, 'lab', 'mask.png');
    mkdirSync(join(out, 'lab'), { recursive: true });
    writeFileSync(file, encodePng({ width: 16, height: 16, channels: 1, bitDepth: 8, data: mask }));
    const r = await cli(['distmap', '--input', file, '--label-format', 'indices', '--classes', '3', '--out', join(out, 'dm')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^boundary-seg: note: class 2 is absent from .*mask\.png \(no boundary\): its map mask_class2\.nii\.gz is 0 everywhere\n$/);
    for (const k of [0, 1, 2]) {
      const image = decodePng(readFileSync(join(out, 'dm', `mask_class${k}.png`)));
      // 16 × 16 upscaled by 16 to 256, a title "class k: φ in voxels, reference convention" (251 px);
      // class 2's note in place of the bar is wider (299 px)
      const content = Math.max(256, textWidth(`class ${k}: φ in voxels, reference convention`), k === 2 ? textWidth('class 2: empty mask, no boundary: φ = 0 everywhere') : 0);
      assert.deepEqual([image.width, image.height], [content + 16, 256 + 58 + 14], `class ${k} preview size`);
      const colours = new Set<string>();
      for (let p = 0; p < image.width * image.height; p++) colours.add(image.data.subarray(3 * p, 3 * p + 3).join());
      assert.ok(colours.has('34,34,34'), `class ${k}: text`);
      assert.equal(colours.has(DIVERGING.positive.join()), k < 2, `class ${k}: colour bar only with a boundary`);
    }
  });
});
