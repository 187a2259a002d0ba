import { describe, expect, it } from 'vitest';
import { classifyVaultError, guarded } from './keychain-vault.ts';
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

describe('a Secret Service that restarts', () => {
  const failingThen = (messages: string[]) => {
    let calls = 0;
    const operation = async () => {
      const message = messages[calls++];
      if (message !== undefined) throw new Error(message);
      return 'secret';
    };
    return { operation, calls: () => calls };
  };

  it.each([
    'Platform failure: DBus error: Message recipient disconnected from message bus without replying',
    'Platform failure: DBus error: The name :1.1 was not provided by any .service files',
    // What a kept entry's old Secret Service session gives once the daemon restarted (measured).
    'Platform failure: DBus error: The session wrapping the secret does not exist',
  ])('asks again after %j, and gets the answer of the restarted daemon', async (text) => {
    const { operation, calls } = failingThen([text, text]);
    await expect(guarded(operation, [1, 1])).resolves.toBe('secret');
    expect(calls()).toBe(3);
  });

  it('gives up after the last retry, with the failure classified', async () => {
    const text = 'Platform failure: DBus error: The name :1.7 was not provided by any .service files';
    const { operation, calls } = failingThen([text, text, text]);
    await expect(guarded(operation, [1, 1])).rejects.toBeInstanceOf(VaultUnavailableError);
    expect(calls()).toBe(3);
  });

  it('does not ask again when no Secret Service exists at all', async () => {
    const text =
      'Platform failure: DBus error: The name org.freedesktop.secrets was not provided by any .service files';
    const { operation, calls } = failingThen([text]);
    await expect(guarded(operation, [1, 1])).rejects.toBeInstanceOf(VaultUnavailableError);
    expect(calls()).toBe(1);
  });

  it('neither asks again nor re-words a failure already classified (keytar cannot follow a restarted daemon)', async () => {
    let calls = 0;
    const restarted = new VaultUnavailableError(
      "The OS keychain is not available: keytar's items could not be moved: The name :1.0 was not provided by any .service files",
      'Restart RTS Workstation.',
      { reason: 'keychain-restarted' },
    );
    const operation = async () => {
      calls++;
      throw restarted;
    };
    await expect(guarded(operation, [1, 1])).rejects.toBe(restarted);
    expect(calls).toBe(1);
  });
});
