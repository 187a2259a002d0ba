import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../shared/api/index.ts';
import { createMemoryVault } from './vault/memory-vault.ts';
import { createWorkstationCore, type WorkstationCore } from './workstation-core.ts';

const cores: WorkstationCore[] = [];
afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.stop()));
});

async function started(broker?: Parameters<typeof createWorkstationCore>[0]['broker']): Promise<WorkstationCore> {
  const core = createWorkstationCore({
    productName: 'RTS',
    version: '1',
    vault: createMemoryVault(),
    dataDir: mkdtempSync(join(tmpdir(), 'rts-core-tls-')),
    ...(broker && { broker }),
  });
  cores.push(core);
  await core.start();
  return core;
}

describe('workstation connection profile: no plain AMQP beyond this computer', () => {
  it('refuses to save a profile without TLS to a remote broker, in one line saying what to do', async () => {
    const core = await started();
    const result = await core.dispatch(COMMANDS.setProfile, {
      profile: { hosts: [{ host: 'broker.region.example', port: 5672 }], vhost: 'rts', endpointId: 'ws-1' },
      brokerPassword: 'pw',
    });
    expect(result).toEqual({
      ok: false,
      error: expect.objectContaining({
        code: 'invalid-request',
        message: expect.stringMatching(
          /^The connection was not saved: plain AMQP \(no TLS\) to broker\.region\.example is refused: [^\n]*choose the broker's CA certificate to connect with amqps\.$/,
        ),
      }),
    });
    expect(await core.dispatch(COMMANDS.getSetupState, undefined)).toMatchObject({
      ok: true,
      value: { hasBrokerPassword: false },
    });
    expect(
      ((await core.dispatch(COMMANDS.getSetupState, undefined)) as { value: { profile?: unknown } }).value.profile,
    ).toBeUndefined();
  });

  it('saves a profile with TLS to a remote broker, and one without TLS on loopback', async () => {
    const core = await started();
    const remote = {
      hosts: [{ host: 'broker.region.example', port: 5671 }],
      vhost: 'rts',
      endpointId: 'ws-1',
      tls: { caPem: '-----BEGIN CERTIFICATE-----' },
    };
    expect(await core.dispatch(COMMANDS.setProfile, { profile: remote, brokerPassword: 'pw' })).toMatchObject({
      ok: true,
      value: { profile: remote },
    });
    const local = { hosts: [{ host: '127.0.0.1', port: 1 }], vhost: 'rts', endpointId: 'ws-1' };
    expect(await core.dispatch(COMMANDS.setProfile, { profile: local })).toMatchObject({
      ok: true,
      value: { profile: local },
    });
  });

  it('stays offline with the reason when a stored or provisioned profile is plain AMQP to a remote broker', async () => {
    const core = await started({ hosts: [{ host: '10.1.2.3', port: 5672 }], vhost: 'rts', endpointId: 'ws-1' });
    expect(await core.dispatch(COMMANDS.getConnectionState, undefined)).toMatchObject({
      ok: true,
      value: { status: 'offline', reason: expect.stringMatching(/^plain AMQP \(no TLS\) to 10\.1\.2\.3 is refused/) },
    });
  });
});
