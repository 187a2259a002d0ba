import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import {
  COMMANDS,
  EVENTS,
  regionChoiceSchema,
  API_ERROR_CODES,
  apiError,
  err,
  type RegionChoice,
  type RegionState,
  type SetupState,
  type ApiError,
} from '../../shared/api/index.ts';
import { createCommandDispatcher, type CommandDispatcher } from './api/command-dispatcher.ts';
import { createCoreEvents } from './core-events.ts';
import { CoreError } from './core-error.ts';
import { joinDemoRegion, type DemoRegionProcess } from './demo/demo-region-process.ts';
import { openWorkstationSettings } from './settings/workstation-settings.ts';
import type { SecretVault } from './vault/secret-vault.ts';
import { createWorkstationCore, type WorkstationCore, type WorkstationCoreOptions } from './workstation-core.ts';

export interface WorkstationHostOptions extends Omit<WorkstationCoreOptions, 'dataDir' | 'vault'> {
  /** The user's own region lives here (Electron: app.getPath('userData')); the demo region's workspace below it. */
  readonly dataDir: string;
  /** The keychain of each region: separate services, so the demo never touches the user's keys or store key. */
  readonly vault: (region: RegionChoice) => SecretVault;
  /** Starts the embedded demo region; absent where the app cannot run it (a packaged app has no demo sources). */
  readonly openDemoRegion?: () => Promise<DemoRegionProcess>;
}

/** Where the demo region's workspace (settings, encrypted store) lives inside the app's data directory. */
export const DEMO_WORKSPACE_DIR = 'demo-workspace';

/**
 * What the shell (or the browser test harness) wires to the renderer: one workstation core at a time, for the user's
 * own region or for the embedded demo region, behind the same dispatch and events as a core. It answers the region
 * commands itself and passes every other command to the core in use. Each region has its own workspace (data
 * directory, keychain service), so a switch never mixes their cases, keys or directories; the region left is closed
 * (a real region keeps what arrives for this workstation in its durable downlink queue until it comes back).
 *
 * On the first start with no choice remembered, a workstation with no region of its own opens on the demo region
 * when it can run one.
 */
export function createWorkstationHost(options: WorkstationHostOptions): WorkstationCore {
  const { dataDir, vault, openDemoRegion, broker, ...coreOptions } = options;
  const choice = new Conf<{ active?: RegionChoice }>({ cwd: dataDir, configName: 'region' });
  // The events of the core in use and the host's own (region, set-up after a switch), for the shell.
  const events = createCoreEvents();
  const { emit } = events;

  let core: WorkstationCore | undefined;
  let active: RegionChoice = 'own';
  let demoRegion: DemoRegionProcess | undefined;
  let switching = false;
  let problem: ApiError | undefined;
  // Switches run one after another: a second click while the demo region starts waits for the first.
  let queue: Promise<unknown> = Promise.resolve();

  const regionState = (): RegionState => ({
    active,
    demoAvailable: openDemoRegion !== undefined,
    switching,
    ...(problem && { problem }),
  });
  const emitRegion = () => emit(EVENTS.regionChanged, regionState());

  const createCore = (region: RegionChoice): WorkstationCore => {
    // A provisioned connection profile is the own region's; the demo region's comes from the demo region itself.
    const created = createWorkstationCore(
      region === 'demo'
        ? { ...coreOptions, dataDir: join(dataDir, DEMO_WORKSPACE_DIR), vault: vault('demo') }
        : { ...coreOptions, dataDir, vault: vault('own'), ...(broker && { broker }) },
    );
    // Only the core in use speaks to the renderer: a closing core's last events must not reach the next region's screens.
    created.onEvent((event, payload) => {
      if (created === core) emit(event, payload);
    });
    return created;
  };

  async function close(): Promise<void> {
    const closing = core;
    core = undefined;
    await closing?.stop();
    await demoRegion?.stop();
    demoRegion = undefined;
  }

  /** Creates the core of `region` (not started), in use from now on: commands reach it even before it has started. */
  function prepare(region: RegionChoice): WorkstationCore {
    // Each demo region is new (its own PKI, hub and broker), so its workspace starts empty with it.
    if (region === 'demo') rmSync(join(dataDir, DEMO_WORKSPACE_DIR), { recursive: true, force: true });
    core = createCore(region);
    active = region;
    return core;
  }

  async function open(next: WorkstationCore, region: RegionChoice): Promise<void> {
    if (region === 'own') {
      await next.start();
      return;
    }
    if (!openDemoRegion)
      throw new CoreError(
        API_ERROR_CODES.notAllowed,
        'demo-region-unavailable',
        'This installation cannot run the demo region.',
      );
    // The region takes seconds to start; the core opens its store meanwhile.
    const [started] = await Promise.all([openDemoRegion(), next.start()]);
    demoRegion = started;
    await joinDemoRegion(next, started.access);
  }

  /**
   * Closes the region in use (unless `prepared` is the first core, not yet started) and opens `target`; if that fails,
   * the user's own region is opened again.
   */
  async function switchTo(target: RegionChoice, prepared?: WorkstationCore): Promise<void> {
    // While switching, `active` names the region being opened, so the screens can say which.
    active = target;
    switching = true;
    problem = undefined;
    emitRegion();
    try {
      if (!prepared) await close();
      try {
        await open(prepared ?? prepare(target), target);
        choice.set('active', target);
      } catch (error) {
        problem = apiError(
          API_ERROR_CODES.internal,
          'region-not-opened',
          `The ${target === 'demo' ? 'demo region' : 'region'} could not be opened: ${error instanceof Error ? error.message : String(error)}`,
          { params: { region: target }, retryable: true },
        );
        await close();
        await open(prepare('own'), 'own');
        choice.set('active', 'own');
      }
    } finally {
      switching = false;
      emitRegion();
      // The renderer rebuilds its screens for the new region from its setup state.
      const setup = await core?.dispatch(COMMANDS.getSetupState, undefined);
      if (setup?.ok) emit(EVENTS.setupChanged, setup.value as SetupState);
    }
  }

  const enqueue = (work: () => Promise<void>): Promise<void> => {
    const next = queue.then(work);
    queue = next.catch(() => undefined);
    return next;
  };

  const hostDispatch = createCommandDispatcher<typeof COMMANDS.getRegionState | typeof COMMANDS.switchRegion>({
    [COMMANDS.getRegionState]: async () => regionState(),
    [COMMANDS.switchRegion]: async ({ to }) => {
      if (to === 'demo' && !openDemoRegion)
        throw new CoreError(
          API_ERROR_CODES.notAllowed,
          'demo-region-unavailable',
          'This installation cannot run the demo region.',
        );
      // A locked workstation stays on its region: the lock screen is the only way on.
      const setup = await core?.dispatch(COMMANDS.getSetupState, undefined);
      if (setup?.ok && (setup.value as SetupState).locked)
        throw new CoreError(
          API_ERROR_CODES.locked,
          'locked-cannot-switch-region',
          'The workstation is locked. Unlock it before switching regions.',
        );
      await enqueue(async () => {
        if (to !== active || !core) return switchTo(to);
        // Already there: an earlier failure no longer applies.
        if (problem) {
          problem = undefined;
          emitRegion();
        }
      });
      if (problem)
        throw new CoreError(problem.code, problem.reason, problem.message, {
          ...(problem.params && { params: problem.params }),
          retryable: true,
        });
      return regionState();
    },
  });

  const dispatch: CommandDispatcher = async (channel, input) => {
    if (channel === COMMANDS.getRegionState || channel === COMMANDS.switchRegion) return hostDispatch(channel, input);
    if (!core)
      return err(
        apiError(API_ERROR_CODES.notConfigured, 'region-opening', 'The workstation is opening its region.', {
          retryable: true,
        }),
      );
    return core.dispatch(channel, input);
  };

  function firstRegion(): RegionChoice {
    const remembered = regionChoiceSchema.safeParse(choice.get('active'));
    const canRunDemo = openDemoRegion !== undefined;
    if (remembered.success) return remembered.data === 'demo' && !canRunDemo ? 'own' : remembered.data;
    return canRunDemo && !openWorkstationSettings(dataDir).read().profile ? 'demo' : 'own';
  }
  const first = firstRegion();
  const firstCore = prepare(first);

  return {
    dispatch,
    onEvent: events.onEvent,
    start: () => enqueue(() => switchTo(first, firstCore)),
    // After the last switch (queued before it) has told the shell its outcome; nothing is emitted after this.
    stop: () =>
      enqueue(async () => {
        await close();
        events.dispose();
      }),
  };
}
