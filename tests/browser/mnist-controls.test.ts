/**
 * The MNIST page under a user's hands (headless Chromium with WebGPU on SwiftShader, where
 * the page's 'auto' choice is WebAssembly SIMD): the bugs found by clicking around, each
 * reproduced here.
 *
 * - a settings error ("the learning rate must be a positive number") stayed on screen after a
 *   valid value was entered;
 * - Reset then Resume within 150 ms ran one step of the discarded model;
 * - the upload control took no keyboard focus, and an upload paused training without a word;
 * - a weights file full of NaN was accepted silently; corrupt or hostile files must be refused
 *   with an error on the page and the current model kept;
 * - once the weights were NaN, uploading good weights did not recover (the optimizer's moments
 *   stayed NaN): loading weights must reset the optimizer state.
 *
 * One page session, small subset (512 training images, batch 32, 500 test images).
 */
import { decodeSafetensors, encodeSafetensors, entryToFloat32 } from '@tessera/nn';
import type { FileChooser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, demoState, downloadBytes, useDemo } from './harness.js';

interface MnistState {
  state: string;
  steps: number;
  lastLoss: number | null;
  losses: { step: number; loss: number }[];
  testAccuracy: number | null;
  accuracies: { step: number; accuracy: number }[];
  errors: string[];
}
type Win = { __demo: MnistState };

/** The same safetensors file with every float replaced by NaN. */
function allNaN(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  const dataStart = 8 + Number(out.readBigUInt64LE(0));
  for (let at = dataStart; at + 4 <= out.length; at += 4) out.writeUInt32LE(0x7fc00000, at);
  return out;
}

/** The same weights with conv1.W cut to 3x3 kernels: the right names, a wrong shape. */
function wrongShape(bytes: Buffer): Buffer {
  const { tensors } = decodeSafetensors(new Uint8Array(bytes));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of tensors) out.set(name, { shape: e.shape, data: entryToFloat32(name, e) });
  out.set('conv1.W', { shape: [6, 1, 3, 3], data: new Float32Array(54) });
  return Buffer.from(encodeSafetensors(out));
}

describe.skipIf(!HAVE_CHROMIUM)('MNIST demo controls in Chromium', () => {
  const demo = useDemo('mnist');

  /** File dialogs the page opened. */
  const choosers: FileChooser[] = [];

  beforeAll(() => {
    // Listening from the start: playwright turns on its interception of file dialogs without
    // waiting for the browser to confirm, so a listener added just before the key press can miss
    // the dialog (a native one then opens, and blocks later ones).
    demo.b.page.on('filechooser', (c) => choosers.push(c));
  });

  const state = () => demoState<MnistState>(demo.b.page);
  const until = (fn: (arg: number) => boolean, arg = 0, timeout = 60_000) => demo.b.page.waitForFunction(fn, arg, { timeout, polling: 50 });
  const stateIs = (s: string) => demo.b.page.waitForFunction((want) => (window as unknown as Win).__demo.state === want, s, { timeout: 30_000, polling: 50 });
  const setRate = async (value: string) => {
    await demo.b.page.fill('#lr', value);
    await demo.b.page.locator('#lr').press('Tab'); // commits the value: a change event, as a user's blur
  };
  const upload = async (name: string, buffer: Buffer) => {
    await demo.b.page.setInputFiles('#upload', { name, mimeType: 'application/octet-stream', buffer });
  };
  const weightsNote = () => demo.b.page.locator('#weights-note');
  /** Train (from idle) or Resume (from paused). */
  const resume = async () => demo.b.page.click((await state()).state === 'idle' ? '#start' : '#pause');
  /** Errors the page reported after `from` were reported. */
  const newErrors = async (from: number) => (await state()).errors.slice(from);

  it('loads', async () => {
    await demo.b.page.goto(`${demo.server.url}?train=512&test=500&batch=32&opt=adam&lr=0.001`);
    await demo.b.page.locator('#ui').waitFor({ state: 'visible', timeout: 60_000 });
    await stateIs('idle');
  }, 90_000);

  it('a settings error goes away once a valid learning rate is entered', async () => {
    await setRate('-1');
    const note = demo.b.page.locator('#note');
    await note.filter({ hasText: 'the learning rate must be a positive number' }).waitFor({ timeout: 5_000 });
    await setRate('0.001');
    await demo.b.page.waitForFunction(() => !document.getElementById('note')!.textContent!.includes('learning rate'), undefined, { timeout: 5_000 });
    expect(await note.getAttribute('class')).not.toMatch(/error/);
  }, 30_000);

  it('Reset then Resume at once runs no step of the discarded model', async () => {
    const errorsBefore = (await state()).errors.length;
    await resume();
    await until(() => (window as unknown as Win).__demo.steps >= 6);
    // Both clicks in one task (0 ms apart), as fast as any hand: Resume is offered while the
    // reset waits for the step in flight.
    await demo.b.page.evaluate(() => {
      document.getElementById('reset')!.click();
      document.getElementById('pause')!.click();
    });
    await demo.b.page.waitForTimeout(1500);
    let s = await state();
    expect(s.steps, 'steps after the reset').toBe(0);
    expect(s.losses).toEqual([]);
    expect(s.state).toBe('idle');
    expect(await newErrors(errorsBefore), demo.b.log.join('\n')).toEqual([]);
    // And 100 ms apart.
    await demo.b.page.click('#start');
    await until(() => (window as unknown as Win).__demo.steps >= 3);
    await demo.b.page.evaluate(() => {
      document.getElementById('reset')!.click();
      setTimeout(() => document.getElementById('pause')!.click(), 100);
    });
    await demo.b.page.waitForTimeout(1500);
    s = await state();
    expect(s.steps, 'steps after the reset').toBe(0);
    expect(await newErrors(errorsBefore), demo.b.log.join('\n')).toEqual([]);
    // The next run trains the fresh model: its first loss is about ln 10 = 2.3.
    await demo.b.page.click('#start');
    await until(() => (window as unknown as Win).__demo.losses.length > 0);
    expect((await state()).losses[0]!).toMatchObject({ step: 1 });
    expect((await state()).losses[0]!.loss).toBeGreaterThan(1.5);
  }, 90_000);

  it('the upload button is reachable by keyboard, and an upload says it paused training', async () => {
    if ((await state()).state !== 'running') await resume();
    await until(() => (window as unknown as Win).__demo.steps >= 3);
    expect((await state()).state).toBe('running');
    const good = await downloadBytes(demo.b.page, '#download', 'controls-running.safetensors');
    // From the download button, Tab reaches the upload control, and Enter opens the file dialog.
    await demo.b.page.focus('#download');
    await demo.b.page.keyboard.press('Tab');
    expect(await demo.b.page.evaluate(() => document.activeElement?.id)).toBe('upload-button');
    const opened = choosers.length;
    await demo.b.page.keyboard.press('Enter');
    for (let i = 0; i < 50 && choosers.length === opened; i++) await demo.b.page.waitForTimeout(100);
    expect(choosers.length, 'Enter on the upload control opens the file dialog').toBe(opened + 1);
    await choosers[opened]!.setFiles({ name: 'good.safetensors', mimeType: 'application/octet-stream', buffer: good });
    await weightsNote().filter({ hasText: 'Loaded' }).waitFor({ timeout: 30_000 });
    expect(await weightsNote().textContent()).toMatch(/paused/i);
    expect((await state()).state).toBe('paused');
  }, 60_000);

  it('refuses NaN, corrupt and hostile weight files with an error, keeping the current model', async () => {
    const errorsBefore = (await state()).errors.length;
    if ((await state()).state === 'running') await demo.b.page.click('#pause');
    const good = await downloadBytes(demo.b.page, '#download', 'controls-good.safetensors');
    const cases: [string, Buffer, RegExp][] = [
      ['nan.safetensors', allNaN(good), /NaN|finite/],
      ['garbage.safetensors', Buffer.from('this is not a safetensors file at all'), /header|safetensors/],
      ['huge-header.safetensors', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x7b, 0x7d]), /truncated|header/],
      ['bad-json.safetensors', Buffer.concat([Buffer.from([12, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{"conv1.W": ')]), /header|JSON/],
      ['wrong-shape.safetensors', wrongShape(good), /conv1\.W/],
    ];
    for (const [name, bytes, why] of cases) {
      await upload(name, bytes);
      await weightsNote().filter({ hasText: name }).waitFor({ timeout: 10_000 });
      const text = (await weightsNote().textContent()) ?? '';
      expect(text, name).toMatch(/Could not load/);
      expect(text, name).toMatch(why);
      expect(await weightsNote().getAttribute('class'), name).toMatch(/error/);
      const kept = await downloadBytes(demo.b.page, '#download', 'controls-kept.safetensors');
      expect(kept.equals(good), `${name}: the model is unchanged`).toBe(true);
    }
    expect(await newErrors(errorsBefore), demo.b.log.join('\n')).toEqual([]);
  }, 90_000);

  it('after the weights blow up to NaN, loading good weights trains again (the optimizer state is reset)', async () => {
    const good = await downloadBytes(demo.b.page, '#download', 'controls-before-nan.safetensors');
    await setRate('1e30');
    await resume();
    await until(() => {
      const l = (window as unknown as Win).__demo.lastLoss;
      return l !== null && !Number.isFinite(l);
    });
    await demo.b.page.click('#pause');
    await stateIs('paused');
    await setRate('0.001');
    const evaluations = (await state()).accuracies.length;
    await upload('good.safetensors', good);
    await weightsNote().filter({ hasText: 'Loaded good.safetensors' }).waitFor({ timeout: 30_000 });
    await until((n) => (window as unknown as Win).__demo.accuracies.length > n, evaluations);
    const at = (await state()).steps;
    await resume();
    await until((n) => ((window as unknown as Win).__demo.losses.at(-1)?.step ?? 0) > n + 5, at);
    const finite = await demo.b.page.evaluate(() => Number.isFinite((window as unknown as Win).__demo.lastLoss));
    expect(finite, 'the loss after reloading good weights is a number').toBe(true);
    expect((await state()).lastLoss!).toBeLessThan(2.5);
    await demo.b.page.click('#pause');
    await stateIs('paused');
  }, 120_000);

  it('leaves no errors in the console', async () => {
    expect(demo.b.errors, demo.b.log.join('\n')).toEqual([]);
    expect((await state()).errors).toEqual([]);
  });
});
