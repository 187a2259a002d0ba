/**
 * The only channels that cross the preload bridge. Kept free of schemas so the sandboxed preload stays tiny;
 * `contract.ts` gives each channel its payload schema.
 */
export const COMMANDS = {
  getAppInfo: 'app:get-info',
  getConnectionState: 'connection:get-state',
  getSetupState: 'setup:get-state',
  setProfile: 'settings:set-profile',
  readEnrolment: 'setup:read-enrolment',
  enrol: 'setup:enrol',
  setUiPreferences: 'settings:set-ui',
  setTrust: 'identity:set-trust',
  importPkcs12: 'identity:import-pkcs12',
  createCertificateRequest: 'identity:create-request',
  importCertificate: 'identity:import-certificate',
  getDirectoryState: 'directory:get-state',
  searchDirectory: 'directory:search',
  directoryFacets: 'directory:facets',
  getExpert: 'directory:get-expert',
  listCases: 'cases:list',
  countCases: 'cases:count',
  openCase: 'cases:open',
  createConsult: 'cases:create',
  actOnCase: 'cases:act',
  sendReport: 'cases:send-report',
  recordExport: 'cases:record-export',
  findPatients: 'cases:find-patients',
  getRequestContent: 'cases:get-request-content',
  getDraft: 'drafts:get',
  saveDraft: 'drafts:save',
  discardDraft: 'drafts:discard',
  saveAttachment: 'cases:save-attachment',
  getOutboxState: 'outbox:get-state',
  withdrawMessage: 'outbox:withdraw',
  listRejections: 'inbox:list-rejections',
  checkAuditLog: 'audit:check',
  listAuditLog: 'audit:list',
  lock: 'app:lock',
  unlock: 'app:unlock',
  setLockPassphrase: 'app:set-lock-passphrase',
  setLockPolicy: 'app:set-lock-policy',
  getRegionState: 'region:get-state',
  switchRegion: 'region:switch',
} as const;

export const EVENTS = {
  connectionStateChanged: 'connection:state-changed',
  setupChanged: 'setup:changed',
  directorySyncProgress: 'directory:sync-progress',
  caseChanged: 'cases:changed',
  caseEscalated: 'cases:escalated',
  casesDescribed: 'cases:described',
  outboxChanged: 'outbox:changed',
  lockChanged: 'app:lock-changed',
  regionChanged: 'region:changed',
  openRequested: 'app:open-requested',
} as const;

export type CommandChannel = (typeof COMMANDS)[keyof typeof COMMANDS];
export type EventChannel = (typeof EVENTS)[keyof typeof EVENTS];
/** Answered by the workstation host, which chooses between the user's own region and the demo region. */
export type RegionCommandChannel = typeof COMMANDS.getRegionState | typeof COMMANDS.switchRegion;
/** Answered by the workstation core of the region in use. */
export type CoreCommandChannel = Exclude<CommandChannel, RegionCommandChannel>;

const commandChannels: ReadonlySet<string> = new Set(Object.values(COMMANDS));
const eventChannels: ReadonlySet<string> = new Set(Object.values(EVENTS));

export function isCommandChannel(value: unknown): value is CommandChannel {
  return typeof value === 'string' && commandChannels.has(value);
}

export function isEventChannel(value: unknown): value is EventChannel {
  return typeof value === 'string' && eventChannels.has(value);
}
