import { describe, expect, it } from 'vitest';
import { commandLine, containerStatus, humanDuration } from './status.ts';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;
const now = Date.parse('2026-12-05T17:00:00.000Z');
const ago = (ms: number) => new Date(now - ms).toISOString();

describe('humanDuration (docker/go-units HumanDuration)', () => {
  it('gives seconds, "About a minute", minutes', () => {
    expect(humanDuration(0)).toBe('Less than a second');
    expect(humanDuration(999)).toBe('Less than a second');
    expect(humanDuration(1 * s)).toBe('1 second');
    expect(humanDuration(1999)).toBe('1 second');
    expect(humanDuration(2 * s)).toBe('2 seconds');
    expect(humanDuration(59 * s + 999)).toBe('59 seconds');
    expect(humanDuration(60 * s)).toBe('About a minute');
    expect(humanDuration(119 * s)).toBe('About a minute');
    expect(humanDuration(2 * m)).toBe('2 minutes');
    expect(humanDuration(59 * m + 59 * s)).toBe('59 minutes');
  });

  it('rounds hours to the nearest (+0.5), then days, weeks, months, years', () => {
    expect(humanDuration(60 * m)).toBe('About an hour');
    expect(humanDuration(89 * m)).toBe('About an hour');
    expect(humanDuration(90 * m)).toBe('2 hours');
    expect(humanDuration(47 * h + 29 * m)).toBe('47 hours');
    expect(humanDuration(47 * h + 30 * m)).toBe('2 days');
    expect(humanDuration(13 * d)).toBe('13 days');
    expect(humanDuration(14 * d)).toBe('2 weeks');
    expect(humanDuration(59 * d)).toBe('8 weeks');
    expect(humanDuration(60 * d)).toBe('2 months');
    expect(humanDuration(729 * d)).toBe('24 months');
    expect(humanDuration(730 * d)).toBe('2 years');
  });
});

describe('containerStatus', () => {
  it("words it as docker's engine does", () => {
    expect(containerStatus({ state: 'running', startedAt: ago(5 * s) }, now)).toBe('Up 5 seconds');
    expect(containerStatus({ state: 'running', created: ago(3 * h) }, now)).toBe('Up 3 hours');
    expect(containerStatus({ state: 'paused', startedAt: ago(90 * s) }, now)).toBe(
      'Up About a minute (Paused)',
    );
    expect(containerStatus({ state: 'exited', exitCode: 0, finishedAt: ago(2 * m + 5 * s) }, now)).toBe(
      'Exited (0) 2 minutes ago',
    );
    expect(containerStatus({ state: 'exited', exitCode: 137, finishedAt: ago(500) }, now)).toBe(
      'Exited (137) Less than a second ago',
    );
    expect(containerStatus({ state: 'exited' }, now)).toBe('Exited (unknown)');
    expect(containerStatus({ state: 'created' }, now)).toBe('Created');
    expect(containerStatus({ state: 'restarting', exitCode: 1, finishedAt: ago(3 * s) }, now)).toBe(
      'Restarting (1) 3 seconds ago',
    );
    expect(containerStatus({ state: 'removing' }, now)).toBe('Removal In Progress');
    expect(containerStatus({ state: 'dead' }, now)).toBe('Dead');
  });
});

describe('commandLine', () => {
  it("joins as docker's engine: arguments with a space in single quotes, the path as it is", () => {
    expect(commandLine(['sh', '-c', 'sleep 10'])).toBe("sh -c 'sleep 10'");
    expect(commandLine(['/my prog', 'a', ''])).toBe('/my prog a ');
  });
});
