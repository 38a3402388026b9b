import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError, ShapeError } from '../core/errors.js';
import { lineChartPng, lineChartSvg, type Series } from '../cli/render/chart.js';
import { labelsPng, mapPreviewPng, overlayPng } from '../cli/render/overlay.js';
import { decodePng } from '../data/png.js';
import { syntheticDataset } from '../data/synthetic.js';
import { signedDistanceMaps } from '../losses/signed-distance.js';
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

  test('overlayPng: size × scale, gray image, green ground-truth and red prediction contours', () => {
    const png = overlayPng(s.image, s.height, s.width, pred, s.label, { scale: 3 });
    writeFileSync(join(out, 'overlay.png'), png);
    const image = decodePng(png);
    assert.deepEqual([image.width, image.height, image.channels], [s.width * 3, s.height * 3, 3]);
    let green = 0;
    let red = 0;
    for (let p = 0; p < image.width * image.height; p++) {
      const [r, g, b] = [image.data[3 * p]!, image.data[3 * p + 1]!, image.data[3 * p + 2]!];
      if (r === 40 && g === 220 && b === 60) green++;
      if (r === 235 && g === 40 && b === 40) red++;
    }
    assert.ok(green > 0 && red > 0, `contour pixels: ${green} green, ${red} red`);
    const corner = [image.data[0], image.data[1], image.data[2]];
    assert.ok(corner[0] === corner[1] && corner[1] === corner[2], 'background is gray');
    assert.deepEqual([decodePng(overlayPng(s.image, s.height, s.width, pred, s.label)).width], [s.width * 4], 'default scale 4');
    assert.throws(() => overlayPng(s.image, s.height, s.width, pred.subarray(1), s.label), ShapeError);
  });

  test('labelsPng: class indices as 8-bit gray, read back unchanged', () => {
    const labels = Uint8Array.from({ length: 12 }, (_, i) => i % 3);
    const image = decodePng(labelsPng(labels, 3, 4));
    assert.deepEqual([image.width, image.height, image.channels, image.bitDepth], [4, 3, 1, 8]);
    assert.deepEqual([...image.data], [...labels]);
  });

  test('mapPreviewPng: diverging colours with 0 white, inside blue, outside red', () => {
    const maps = signedDistanceMaps({ data: s.label, shape: [s.height, s.width] }, { classes: 2 }).data;
    const map = maps.subarray(n);
    const png = mapPreviewPng(map, s.height, s.width, { scale: 2 });
    writeFileSync(join(out, 'map.png'), png);
    const image = decodePng(png);
    assert.deepEqual([image.width, image.height], [2 * s.width, 2 * s.height]);
    const pixel = (p: number) => { // p in the map's own grid
      const [y, x] = [Math.floor(p / s.width) * 2, (p % s.width) * 2];
      const at = 3 * (y * image.width + x);
      return [image.data[at]!, image.data[at + 1]!, image.data[at + 2]!];
    };
    const zero = map.findIndex((v) => v === 0);
    const inside = map.findIndex((v) => v < 0);
    const far = map.indexOf(Math.max(...map));
    assert.deepEqual(pixel(zero), [255, 255, 255]);
    if (inside >= 0) assert.ok(pixel(inside)[2]! > pixel(inside)[0]!, 'inside is blue');
    assert.deepEqual(pixel(far), [178, 24, 43], 'the largest distance is full red');
    const blank = decodePng(mapPreviewPng(new Float32Array(4), 2, 2));
    assert.ok(blank.data.every((v) => v === 255), 'an all-zero map is white');
  });
});
