import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWorkstationSettings } from './workstation-settings.ts';

const profile = { hosts: [{ host: 'broker.region.example', port: 5671 }], vhost: 'rts', endpointId: 'ws-expert-1' };

describe('workstation settings', () => {
  it('keeps the profile and preferences, with defaults, and never a field outside the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    const settings = openWorkstationSettings(dir);
    expect(settings.read()).toEqual({
      ui: { language: 'system', theme: 'system', lockAfterMinutes: 10, escalateAfterMinutes: 15 },
    });
    settings.setProfile(profile);
    expect(settings.setUi({ theme: 'dark' })).toEqual({
      language: 'system',
      theme: 'dark',
      lockAfterMinutes: 10,
      escalateAfterMinutes: 15,
    });
    expect(openWorkstationSettings(dir).read()).toMatchObject({ profile, ui: { theme: 'dark' } });
    expect(() => settings.setProfile({ ...profile, endpointId: 'Not An Id' })).toThrow(/endpoint id/);
  });

  it("keeps a profile to the limits the setProfile command accepts (one schema, the contract's)", () => {
    const settings = openWorkstationSettings(mkdtempSync(join(tmpdir(), 'rts-settings-')));
    const hosts = Array.from({ length: 11 }, (_, i) => ({ host: `b${i}.example`, port: 5671 }));
    expect(() => settings.setProfile({ ...profile, hosts })).toThrow();
    expect(() => settings.setProfile({ ...profile, vhost: 'v'.repeat(101) })).toThrow();
    expect(() => settings.setProfile({ ...profile, hosts: hosts.slice(0, 10) })).not.toThrow();
  });

  it('moves a 1.x file (one broker host) forward', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({
        __internal__: { migrations: { version: '1.0.0' } },
        profile: { host: 'b.example', port: 5672, vhost: 'rts', endpointId: 'ws-1' },
      }),
    );
    expect(openWorkstationSettings(dir).read().profile).toEqual({
      hosts: [{ host: 'b.example', port: 5672 }],
      vhost: 'rts',
      endpointId: 'ws-1',
    });
    const stored = JSON.parse(readFileSync(join(dir, 'settings.json'), 'utf8')) as { profile: Record<string, unknown> };
    expect(Object.keys(stored.profile).sort()).toEqual(['endpointId', 'hosts', 'vhost']);
  });

  it('2.1: a workstation set up before the lock policy existed keeps the lock optional; a new one has not chosen yet', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({ __internal__: { migrations: { version: '2.0.0' } }, profile }),
    );
    expect(openWorkstationSettings(dir).read()).toMatchObject({ profile, lockPolicy: 'optional' });
    // Written by an administrator before the first start (no migration mark): the policy given is kept.
    const provisioned = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    writeFileSync(join(provisioned, 'settings.json'), JSON.stringify({ profile, lockPolicy: 'required' }));
    expect(openWorkstationSettings(provisioned).read().lockPolicy).toBe('required');
    const fresh = openWorkstationSettings(mkdtempSync(join(tmpdir(), 'rts-settings-')));
    expect(fresh.read().lockPolicy).toBeUndefined();
    fresh.setLockPolicy('required');
    expect(fresh.read().lockPolicy).toBe('required');
  });

  it('2.2: a language that was never translated (de, fr) follows the OS; a chosen one of ours is kept', () => {
    const file = (language: string) => {
      const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
      writeFileSync(
        join(dir, 'settings.json'),
        JSON.stringify({
          __internal__: { migrations: { version: '2.1.0' } },
          ui: { language, theme: 'dark', lockAfterMinutes: 5 },
        }),
      );
      return openWorkstationSettings(dir).read().ui;
    };
    expect(file('de')).toEqual({ language: 'system', theme: 'dark', lockAfterMinutes: 5, escalateAfterMinutes: 15 });
    expect(file('nb').language).toBe('nb');
  });

  it('reads a damaged lock policy as required, the stricter choice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    writeFileSync(join(dir, 'settings.json'), JSON.stringify({ lockPolicy: 'sometimes' }));
    expect(openWorkstationSettings(dir).read().lockPolicy).toBe('required');
  });

  it('keeps what still parses from a damaged file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    writeFileSync(
      join(dir, 'settings.json'),
      JSON.stringify({
        profile: { hosts: [], vhost: 'rts' },
        ui: { language: 'nb', theme: 'light', lockAfterMinutes: 5 },
      }),
    );
    // A file from before the escalation time gets its default.
    expect(openWorkstationSettings(dir).read()).toEqual({
      ui: { language: 'nb', theme: 'light', lockAfterMinutes: 5, escalateAfterMinutes: 15 },
    });
  });

  it('keeps what it read while the file is unchanged, and reads it again after a write or an edit by hand', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rts-settings-'));
    const settings = openWorkstationSettings(dir);
    settings.setUi({ theme: 'dark' });
    const first = settings.read();
    expect(settings.read()).toBe(first);
    // Shared by every reader, so no reader may change it.
    expect(() => Object.assign(first.ui, { theme: 'light' })).toThrow(TypeError);
    settings.setLockPolicy('required');
    expect(settings.read()).toMatchObject({ lockPolicy: 'required', ui: { theme: 'dark' } });
    const edited = JSON.parse(readFileSync(settings.path, 'utf8')) as { ui: { theme: string } };
    edited.ui.theme = 'light';
    writeFileSync(settings.path, JSON.stringify(edited, undefined, 4));
    expect(settings.read().ui.theme).toBe('light');
  });
});
