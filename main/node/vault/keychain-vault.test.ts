import { describe, expect, it } from 'vitest';
import { classifyVaultError } from './keychain-vault.ts';
import { VaultUnavailableError } from './secret-vault.ts';

describe('keychain error classification', () => {
  it.each([
    // @napi-rs/keyring 2.1 (its Secret Service client), as it words them on Linux
    [
      'Platform failure: DBus error: Using X11 for dbus-daemon autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead',
      /D-Bus session/,
    ],
    [
      'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files',
      /No Secret Service/,
    ],
    ["Couldn't access platform storage: Secret Service: no result found", /no default keyring/],
    ["Couldn't access platform storage: Secret Service: unlock prompt was dismissed", /locked/],
    ["Couldn't access platform storage: Secret Service: object locked", /locked/],
    // keytar (libsecret), which still reads secrets that have not moved yet
    ['Cannot autolaunch D-Bus without X11 $DISPLAY', /D-Bus session/],
    ['The name org.freedesktop.secrets was not provided by any .service files', /No Secret Service/],
    ['Cannot create an item in a locked collection', /locked/],
  ])('maps %j to an actionable keychain-unavailable error', (text, hint) => {
    const error = classifyVaultError(new Error(text));
    expect(error).toBeInstanceOf(VaultUnavailableError);
    expect((error as VaultUnavailableError).hint).toMatch(hint);
  });

  it.each([
    ['disk full'],
    // A D-Bus timeout says nothing about the keyring being locked, though "blocked" contains the word.
    [
      'Platform failure: DBus error: Did not receive a reply. Possible causes include: the remote application did not send a reply, the message bus security policy blocked the reply, the reply timeout expired, or the network connection was broken.',
    ],
  ])('leaves other failures as they are: %j', (text) => {
    const original = new Error(text);
    expect(classifyVaultError(original)).toBe(original);
  });
});
