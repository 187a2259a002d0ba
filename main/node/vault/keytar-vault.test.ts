import { describe, expect, it } from 'vitest';
import { classifyVaultError } from './keytar-vault.ts';
import { VaultUnavailableError } from './secret-vault.ts';

describe('keychain error classification', () => {
  it.each([
    ['Cannot autolaunch D-Bus without X11 $DISPLAY', /D-Bus session/],
    ['The name org.freedesktop.secrets was not provided by any .service files', /Secret Service/],
    ['Cannot create an item in a locked collection', /locked/],
  ])('maps %j to an actionable keychain-unavailable error', (text, hint) => {
    const error = classifyVaultError(new Error(text));
    expect(error).toBeInstanceOf(VaultUnavailableError);
    expect((error as VaultUnavailableError).hint).toMatch(hint);
  });

  it('leaves other failures as they are', () => {
    const original = new Error('disk full');
    expect(classifyVaultError(original)).toBe(original);
  });
});
