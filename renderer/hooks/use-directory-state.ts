import { useState } from 'react';
import { COMMANDS, EVENTS, type ApiError, type DirectoryState } from '../../shared/api/index.ts';
import type { RtsApi } from '../../preload/index.ts';
import { useCommand, useEvent } from './use-command.ts';

/** The mirror's state: asked once, then pushed by the core while a snapshot or an update is applied. */
export function useDirectoryState(api: RtsApi): { state: DirectoryState | undefined; error: ApiError | undefined } {
  const asked = useCommand(api, COMMANDS.getDirectoryState, undefined);
  const [pushed, setPushed] = useState<DirectoryState>();
  useEvent(api, EVENTS.directorySyncProgress, setPushed);
  return { state: pushed ?? asked.value, error: asked.error };
}
