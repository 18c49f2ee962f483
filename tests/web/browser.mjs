// tests/web/browser.mjs - the web app in a real browser (run by tests/web/browser.sh, which
// starts the server): Debian's chromium, headless, driven by playwright-core (no browser is
// downloaded). Checks, each printed as "ok"/"FAIL" and counted:
//   upload page: the models are listed; the repo image uploaded through the file input gives
//     the expected top class (--task, --expect); a file that is no image shows the server's
//     error message; segmentation shows the mask over the image, a legend and the area table;
//   map page: the catalog's footprint is listed and drawn, the base layer asks the server's
//     own tiles; a click at the footprint's centre opens a popup with the answer (--expect)
//     and the scene, and draws the tile's rectangle; a click outside says there is no scene;
//     the scene's Segment button adds the segmentation overlay.
// Screenshots of the upload result and the map popup go to --out. No uncaught page error is
// allowed. Ends with "N passed, N failed, 0 skipped"; exit status 1 when any check failed.
import { createRequire } from 'node:module';
import path from 'node:path';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['url', 'modules', 'chromium', 'image', 'bad', 'task', 'expect', 'out']) {
  if (!args[k]) {
    console.error(`browser.mjs: --${k} is required`);
    process.exit(2);
  }
}
const require = createRequire(path.join(path.resolve(args.modules), 'noop.js'));
const { chromium } = require('playwright-core');

const WAIT = 20000;
let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` (${detail})` : ''}`);
}
// Run a step; an exception (a wait that timed out) fails it with its message.
async function step(name, fn) {
  try {
    const detail = await fn();
    check(name, detail === undefined || detail === true, typeof detail === 'string' ? detail : '');
  } catch (e) {
    check(name, false, String(e.message).split('\n')[0]);
  }
}

const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(WAIT);
const pageErrors = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
const tid = (id) => `[data-testid="${id}"]`;
// A full-page screenshot, after Leaflet's and Bootstrap's fades (0.2 s) have ended.
async function shot(name) {
  await page.waitForTimeout(400);
  await page.screenshot({ path: path.join(args.out, name), fullPage: true })
    .catch((e) => console.log(`note: screenshot ${name} failed: ${e.message}`));
}

// ------------------------------------------------------------------ upload page
await step('upload page loads with its title and nav', async () => {
  const res = await page.goto(args.url);
  if (res.status() !== 200) return `status ${res.status()}`;
  if (await page.locator(tid('not-built')).count()) return 'the server says the web app was not built';
  const nav = await page.locator(tid('nav-map')).getAttribute('href');
  return nav === '/map' || `nav link ${nav}`;
});
await step('Bootstrap from the binary styles the page', async () => {
  const font = await page.evaluate(() => getComputedStyle(document.querySelector('.navbar')).display);
  return font === 'flex' || `navbar display ${font}`;
});
await step(`model selector lists a ${args.task} model`, async () => {
  await page.selectOption(tid('task-select'), args.task);
  await page.waitForFunction((sel) => {
    const s = document.querySelector(sel);
    return s && [...s.options].some((o) => !o.disabled);
  }, tid('model-select'));
});
await step(`upload ${path.basename(args.image)} (${args.task}): top class ${args.expect}`, async () => {
  await page.setInputFiles(tid('file-input'), args.image);
  const top = page.locator(`${tid('result')} ${tid('top-class')}`);
  await top.waitFor();
  const text = (await top.textContent()).trim();
  return text === args.expect || `top class '${text}'`;
});
await step('the answer shows class bars and the model used', async () => {
  const bars = await page.locator(`${tid('result')} ${tid('class-bars')} .class-bar`).count();
  const model = await page.locator(tid('model-used')).textContent();
  return (bars >= 2 && /Model \S+/.test(model)) || `${bars} bars, '${model}'`;
});
await step('the image is shown', async () => {
  return page.evaluate((sel) => document.querySelector(sel).naturalWidth > 0, tid('preview'));
});
await shot('upload.png');

await step('a file that is no image: the server\'s error in plain words', async () => {
  await page.setInputFiles(tid('file-input'), args.bad);
  const err = page.locator(tid('error'));
  await err.waitFor({ state: 'visible' });
  const text = (await err.textContent()).trim();
  return (/image|decode/i.test(text) && !/^\d{3}\b/.test(text)) || `error '${text}'`;
});

await step('segment: mask over the image, legend and area table', async () => {
  await page.selectOption(tid('task-select'), 'segment');
  const opts = await page.locator(`${tid('model-select')} option:not([disabled])`).count();
  if (opts === 0) return 'no segmentation model loaded';
  await page.setInputFiles(tid('file-input'), args.image);
  await page.locator(`${tid('area-table')}, ${tid('error')}:not(.d-none)`).first().waitFor();
  if (await page.locator(tid('error')).isVisible()) {
    return `the page shows the error '${(await page.locator(tid('error')).textContent()).trim()}'`;
  }
  const rows = await page.locator(`${tid('area-table')} tbody tr`).count();
  const legend = await page.locator(`${tid('legend')} .legend-item`).count();
  const mask = await page.evaluate((sel) => {
    const m = document.querySelector(sel);
    return !m.classList.contains('d-none') && m.src.startsWith('data:image/png') && m.naturalWidth;
  }, tid('mask'));
  await page.fill(tid('mask-opacity'), '25');
  const opacity = await page.evaluate((sel) => document.querySelector(sel).style.opacity, tid('mask'));
  return (rows >= 2 && legend === rows && mask > 0 && opacity === '0.25') ||
    `${rows} rows, ${legend} legend items, mask width ${mask}, opacity ${opacity}`;
});
await shot('upload-segment.png');

// ------------------------------------------------------------------ map page
const atTask = args.task === 'clouds' ? 'clouds' : 'classify';
await step('map page lists the catalog scene', async () => {
  const res = await page.goto(new URL('map', args.url).href);
  if (res.status() !== 200) return `status ${res.status()}`;
  await page.locator(tid('scene-item')).first().waitFor();
  const n = await page.locator(tid('scene-item')).count();
  return n === 1 || `${n} scenes listed`;
});
await step('the footprint is drawn and the base layer is the server\'s tiles', async () => {
  await page.waitForFunction(() => document.querySelectorAll('.leaflet-tile-pane img').length > 0);
  const srcs = await page.$$eval('.leaflet-tile-pane img', (imgs) => imgs.map((i) => i.getAttribute('src')));
  const own = srcs.every((s) => /^\/v1\/tiles\/\d+\/\d+\/\d+\.png$/.test(s));
  const outline = await page.locator('.leaflet-overlay-pane path[stroke="#d63384"]').count();
  return (own && outline === 1) || `tiles ${srcs.slice(0, 2).join(' ')}, ${outline} outlines`;
});
await step('the server\'s tiles load (256 x 256 PNG)', async () => {
  await page.waitForFunction(() => [...document.querySelectorAll('.leaflet-tile-pane img')]
    .some((i) => i.complete && i.naturalWidth === 256), null, { timeout: 15000 });
});

const box = await page.locator(tid('map')).boundingBox();
await step(`click inside the footprint: popup with ${args.expect} and the scene`, async () => {
  await page.selectOption(tid('at-task'), atTask);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  const top = page.locator(`${tid('popup-content')} ${tid('popup-top-class')}`);
  await top.waitFor();
  const text = (await top.textContent()).trim();
  const scene = (await page.locator(`${tid('popup-content')} ${tid('popup-scene')}`).textContent()).trim();
  return (text.startsWith(args.expect) && /Scene 1, 2023-06-15/.test(scene)) || `popup '${text}' / '${scene}'`;
});
await step('the analysed tile is drawn as a rectangle', async () => {
  const n = await page.locator('.leaflet-overlay-pane path[stroke="#ffc107"]').count();
  return n === 1 || `${n} rectangles`;
});
await shot('map-popup.png');

await step('click outside every scene: "no scene here" in the popup', async () => {
  await page.mouse.click(box.x + 25, box.y + box.height / 2);
  const none = page.locator(`${tid('popup-content')} ${tid('popup-none')}`);
  await none.waitFor();
  return /No scene here/.test(await none.textContent());
});

await step('the scene\'s Segment button adds the segmentation overlay', async () => {
  await page.click(tid('segment-1'));
  await page.locator(tid('overlay-opacity-1')).waitFor({ state: 'visible', timeout: 60000 });
  const n = await page.locator('.leaflet-tile-pane img[src*="layer=segmentation"]').count();
  const legend = await page.locator(`${tid('legend-1')} .legend-item`).count();
  return (n > 0 && legend > 0) || `${n} overlay tiles, ${legend} legend items`;
});
await shot('map-segmentation.png');

check('no uncaught error in the pages', pageErrors.length === 0, pageErrors.join('; '));
await browser.close();
console.log(`${passed} passed, ${failed} failed, 0 skipped`);
process.exit(failed ? 1 : 0);
