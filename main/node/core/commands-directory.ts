import { COMMANDS } from '../../../shared/api/index.ts';
import type { CommandHandlers } from '../api/command-dispatcher.ts';
import { expertDetail } from '../directory/expert-detail.ts';
import type { CoreContext } from './core-context.ts';
import type { StateViews } from './state-views.ts';

type DirectoryCommands = Pick<
  CommandHandlers,
  | typeof COMMANDS.getDirectoryState
  | typeof COMMANDS.searchDirectory
  | typeof COMMANDS.directoryFacets
  | typeof COMMANDS.getExpert
>;

/** The directory mirror: its state, the search and its filters' choices, one expert in detail. */
export function directoryCommands(ctx: CoreContext, views: StateViews): DirectoryCommands {
  return {
    [COMMANDS.getDirectoryState]: async () => views.directoryState(),
    [COMMANDS.searchDirectory]: async (query) => ctx.unlocked().mirror.search(query),
    [COMMANDS.directoryFacets]: async () => ctx.unlocked().mirror.facets(),
    [COMMANDS.getExpert]: async ({ practitionerId }) => {
      const { mirror, identity } = ctx.unlocked();
      return expertDetail(mirror, identity, practitionerId);
    },
  };
}
