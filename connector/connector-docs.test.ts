import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectorConfigSchema } from './connector-config.ts';
import { EXPERT_CSV_COLUMNS } from './directory-input.ts';
import { FEED_EVENT_TYPES } from './event-feed.ts';
import { ROUTES } from './http-api.ts';

/** docs/connector.md against the code it describes: a column, route, setting or event type added or renamed must show there. */
const DOC = readFileSync(join(import.meta.dirname, '..', 'docs', 'connector.md'), 'utf8');
const section = (heading: string) => {
  const start = DOC.indexOf(heading);
  expect(start, heading).toBeGreaterThan(-1);
  const next = DOC.indexOf('\n#', start + heading.length);
  return DOC.slice(start, next === -1 ? undefined : next);
};
/** The code spans in the first cell of each row of the section's table. */
const firstCells = (text: string) =>
  text
    .split('\n')
    .filter((l) => /^\| `/.test(l))
    .flatMap((l) => [...l.split('|')[1]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));

describe('docs/connector.md', () => {
  it('lists every CSV column, and no other', () => {
    expect(firstCells(section('### CSV columns')).sort()).toEqual(Object.keys(EXPERT_CSV_COLUMNS).sort());
  });

  it('lists every route of the API', () => {
    const documented = firstCells(section('## The API by example')).join('\n');
    for (const route of ROUTES) {
      // Parameter names may differ ({id} for {publicationId}); the path up to each parameter may not.
      const pattern = new RegExp(`^${route.method} ${route.path.replace(/\{\w+\}/g, '\\{\\w+\\}')}(\\?|$)`, 'm');
      expect(documented, `${route.method} ${route.path}`).toMatch(pattern);
    }
  });

  it('lists every setting of connector.json', () => {
    expect(firstCells(section('## Configuration')).sort()).toEqual(Object.keys(connectorConfigSchema.shape).sort());
  });

  it('names every event type', () => {
    const events = section('### Events and webhooks');
    for (const type of FEED_EVENT_TYPES) expect(events, type).toContain(`\`${type}\``);
  });
});
