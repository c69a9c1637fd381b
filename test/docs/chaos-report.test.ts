/**
 * The README's chaos figures are the committed run's: chaos/results/latest.md, which `npm run chaos` writes. A new
 * run that is not carried into the README, or a README figure typed by hand, fails here.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');
const README = read('README.md').replace(/\s+/g, ' ');
const REPORT = read('chaos/results/latest.md');

/** The report's figures table: label → value. */
const figures = new Map(
  [...REPORT.matchAll(/^\| (.+?) \| (.+?) \|( .*? \|)?$/gm)].map((m) => [m[1]!.trim(), m[2]!.trim()]),
);
const figure = (label: string) => {
  const value = figures.get(label);
  expect(value, `"${label}" in chaos/results/latest.md`).toMatch(/^\d+$/);
  return Number(value).toLocaleString('en-US');
};

/** Checked without printing the whole README on failure. */
const expectReadmeToSay = (text: string) => expect(README.includes(text), `the README says "${text}"`).toBe(true);

it('the README cites chaos/results/latest.md, and its figures are the report’s', () => {
  expectReadmeToSay('[chaos/results/latest.md](chaos/results/latest.md)');
  expect(REPORT).toContain('**Every must-be-0 figure is 0.**');
  const sent = figure('sends started');
  const acked = figure('acked (msg_data_ack received)');
  const stored = figure('stored (Messages rows, Scan)');
  const deliveries = figure('deliveries posted (msg_data to a connection, redeliveries included)');
  const faults = figure('faults injected, total');
  expectReadmeToSay(
    `**${sent} messages sent, ${acked} acked, ${stored} stored; ${deliveries} deliveries; ${faults} faults injected**`,
  );
  expectReadmeToSay(`${figure('messages surfaced by the SDK: by catch-up')} of them by catch-up`);
  expectReadmeToSay(`${figure('msg_id gaps (counter values never stored)')} msg_id gaps`);
});
