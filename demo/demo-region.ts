import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, type CommandChannel, type CommandInput, type CommandOutput } from '../shared/api/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../shared/pki/index.ts';
import { toBase64 } from '../shared/pki/index.ts';
import { RABBITMQ_TOPOLOGY as T } from '../shared/broker/index.ts';
import { PROTOCOL_VERSION } from '../shared/protocol/index.ts';
import {
  buildDirectoryPublish,
  buildEndpointRegister,
  buildExpertEntry,
  buildOrganization,
  type DirectoryResource,
} from '../shared/protocol/fhir/index.ts';
import { loadHubConfig, startHub, type HubConfig, type HubService } from '../hub/index.ts';
import {
  connectTestEndpoint,
  createTestRegion,
  until,
  type TestEndpoint,
  type TestIdentity,
  type TestPractitioner,
} from '../testkit/index.ts';
import { createWorkstationCore, createMemoryVault, type WorkstationCore } from '../main/node/index.ts';
import { startDemoBroker, type DemoBroker } from './broker/demo-broker.ts';
import { adoptRegion } from '../cli/region-commands.ts';

/**
 * The embedded demo region: on one machine, with no server installed, the demo broker, the real hub on its embedded
 * database, a throw-away PKI, three clinic systems that publish a generated directory, and two simulated peer
 * workstations (real workstation cores): an expert who accepts and answers every consult it receives, and an applicant
 * who sends the user a consult now and then. The user's own workstation joins as endpoint `ws-demo`.
 *
 * Everything speaks the same protocol code as a real region. The region starts fresh at every start: its state lives
 * in `dataDir/region` (removed at start when it carries the demo's marker). `dataDir/region/admin` is its admin state
 * in the `rts region` format (CA and key, the CRL the hub reads, enrolment signer, broker passwords, the demo broker's
 * management API), so that `rts region add-endpoint … && rts region sync-broker` enrols a new endpoint into it.
 */
export type DemoLog = (line: Record<string, unknown>) => void;

export interface DemoRegionOptions {
  readonly dataDir: string;
  /** Seconds between the simulated applicant's consults to the user; 0 or absent: it sends none. */
  readonly applicantEverySeconds?: number;
  /** Milliseconds the simulated expert waits before accepting, and again before reporting. */
  readonly expertDelayMs?: number;
  /** Generated experts in the directory (besides the simulated peers and the user). */
  readonly generatedExperts?: number;
  /** Where the hub's new database is copied from (made there on first use); default `templates` in `dataDir`. */
  readonly hubDatabaseTemplates?: string;
  readonly log?: DemoLog;
}

/** What the user's own workstation needs to join: trust, its two certificates, its broker profile. */
export interface DemoWorkstationAccess {
  readonly endpointId: string;
  readonly practitionerId: string;
  readonly amqpPort: number;
  readonly vhost: string;
  readonly brokerPassword: string;
  readonly trust: { readonly anchorsPem: string; readonly crlsPem: string; readonly hubCertificatePem: string };
  readonly pkcs12: { readonly signing: Uint8Array; readonly encryption: Uint8Array; readonly password: string };
}

export interface DemoRegion {
  readonly amqpPort: number;
  readonly managementUrl: string;
  /** The region's admin state directory (`rts region … --dir`); holds the CA key and broker passwords. */
  readonly adminDir: string;
  /** The user's own workstation. */
  readonly user: DemoWorkstationAccess;
  /** The simulated expert, who answers every consult (practitioner id, endpoint). */
  readonly simulatedExpert: { readonly practitionerId: string; readonly endpointId: string };
  readonly simulatedApplicant: { readonly practitionerId: string; readonly endpointId: string };
  /** Experts in the published directory, all told. */
  readonly directorySize: number;
  stop(): Promise<void>;
}

const MARKER = '.rts-demo-region';
const USER_ENDPOINT = 'ws-demo';
const USER_PRACTITIONER = 'demo-north.dr-you';
const EXPERT_ENDPOINT = 'ws-sim-expert';
const EXPERT_PRACTITIONER = 'demo-south.dr-lind';
const APPLICANT_ENDPOINT = 'ws-sim-applicant';
const APPLICANT_PRACTITIONER = 'demo-east.dr-haugen';
const REGION_NAME = 'Demo Region';
/** One value for the broker's queues, the hub's provisioner and region.json: a queue declared twice must not differ. */
const DELIVERY_LIMIT = 5;

// ---- the generated directory ---------------------------------------------------------------------------------------

/** Alternately a woman's and a man's name, so that a patient's sex can follow the name. */
const GIVEN = [
  'Anna',
  'Lars',
  'Ingrid',
  'Omar',
  'Sofia',
  'Jonas',
  'Maja',
  'Erik',
  'Leila',
  'Nils',
  'Hanna',
  'Tomas',
  'Amira',
  'Karl',
  'Elin',
  'Petter',
  'Sara',
  'Yusuf',
  'Marte',
  'Henrik',
  'Nora',
  'Ali',
  'Frida',
  'Mikael',
  'Åse',
  'Bjørn',
  'Solveig',
  'Ørjan',
];
const FAMILY = [
  'Strand',
  'Holm',
  'Berge',
  'Dahl',
  'Lunde',
  'Moen',
  'Aas',
  'Vik',
  'Rud',
  'Eide',
  'Foss',
  'Sand',
  'Lie',
  'Hauge',
  'Nygaard',
  'Brekke',
  'Solberg',
  'Tangen',
  'Myhre',
  'Rahimi',
  'Karlsen',
  'Ødegård',
  'Bakke',
  'Lien',
  'Sæther',
  'Iversen',
  'Åsen',
  'Løvås',
  'Bjørnstad',
  'Kjær',
];
const SPECIALTIES = [
  'Cardiology',
  'Neurology',
  'Dermatology',
  'Pediatrics',
  'Radiology',
  'Oncology',
  'Endocrinology',
  'Nephrology',
  'Pulmonology',
  'Gastroenterology',
  'Psychiatry',
  'Orthopedics',
  'Infectious diseases',
  'Geriatrics',
  'Obstetrics and gynecology',
  'Ophthalmology',
  'Anesthesiology',
  'Hematology',
];
const LANGUAGES = ['nb', 'en', 'sv', 'da', 'de', 'ar', 'pl', 'so', 'fi'];
/** Names of the Chinese and Bengali hospitals' experts: as written, and in Latin letters for the directory id. */
type Names = {
  readonly given: readonly (readonly [string, string])[];
  readonly family: readonly (readonly [string, string])[];
};
const CHINESE: Names = {
  given: [
    ['伟明', 'weiming'],
    ['芳', 'fang'],
    ['秀英', 'xiuying'],
    ['建国', 'jianguo'],
    ['丽华', 'lihua'],
    ['志强', 'zhiqiang'],
    ['静', 'jing'],
    ['海涛', 'haitao'],
    ['晓燕', 'xiaoyan'],
    ['国平', 'guoping'],
  ],
  family: [
    ['张', 'zhang'],
    ['王', 'wang'],
    ['李', 'li'],
    ['刘', 'liu'],
    ['陈', 'chen'],
    ['杨', 'yang'],
    ['赵', 'zhao'],
    ['黄', 'huang'],
    ['周', 'zhou'],
    ['吴', 'wu'],
  ],
};
const BENGALI: Names = {
  given: [
    ['মোহাম্মদ', 'mohammad'],
    ['লক্ষ্মী', 'lakshmi'],
    ['ফাতেমা', 'fatema'],
    ['সুমন', 'suman'],
    ['নুসরাত', 'nusrat'],
    ['রফিক', 'rafiq'],
    ['তাসলিমা', 'taslima'],
    ['অমিত', 'amit'],
  ],
  family: [
    ['রহমান', 'rahman'],
    ['আক্তার', 'akter'],
    ['হোসেন', 'hossain'],
    ['ইসলাম', 'islam'],
    ['চৌধুরী', 'chowdhury'],
    ['সরকার', 'sarkar'],
    ['দাস', 'das'],
    ['বেগম', 'begum'],
  ],
};
/**
 * Invented towns, each with its hospital or health centre; `clinic` is the clinic system that publishes it. A Chinese
 * or Bengali hospital (`script`) has its name as written there, a Latin `id` for its directory id, and experts with
 * names of that script (issue 22: search across scripts).
 */
interface Place {
  readonly clinic: string;
  readonly town: string;
  readonly kind?: string;
  readonly name?: string;
  readonly id?: string;
  readonly script?: 'zh' | 'bn';
}
const PLACES: readonly Place[] = [
  { clinic: 'demo-north', town: 'Nordvik', kind: 'Hospital' },
  { clinic: 'demo-north', town: 'Fjellheim', kind: 'Health Centre' },
  { clinic: 'demo-north', town: 'Kvitberg', kind: 'Hospital' },
  { clinic: 'demo-north', town: 'Åsvik', kind: 'Sykehus' },
  { clinic: 'demo-north', town: '北京', name: '北京协和医院', id: 'beijing', script: 'zh' },
  { clinic: 'demo-south', town: 'Sørmo', kind: 'University Hospital' },
  { clinic: 'demo-south', town: 'Lindvær', kind: 'Hospital' },
  { clinic: 'demo-south', town: 'Havstad', kind: 'Health Centre' },
  { clinic: 'demo-south', town: '杭州', name: '杭州市中医院', id: 'hangzhou', script: 'zh' },
  { clinic: 'demo-south', town: 'চট্টগ্রাম', name: 'চট্টগ্রাম জেনারেল হাসপাতাল', id: 'chattogram', script: 'bn' },
  { clinic: 'demo-east', town: 'Østlia', kind: 'Hospital' },
  { clinic: 'demo-east', town: 'Granmo', kind: 'Health Centre' },
  { clinic: 'demo-east', town: 'Elvestad', kind: 'Hospital' },
  { clinic: 'demo-east', town: 'Ærøy', kind: 'Legesenter' },
  { clinic: 'demo-east', town: '郑州', name: '郑州市第一人民医院', id: 'zhengzhou', script: 'zh' },
  { clinic: 'demo-east', town: 'ঢাকা', name: 'ঢাকা মেডিকেল কলেজ হাসপাতাল', id: 'dhaka', script: 'bn' },
];
const CLINICS = ['demo-north', 'demo-south', 'demo-east'] as const;

/** A small seeded generator (mulberry32): the same directory at every start. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const slug = (s: string) =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ø/g, 'o')
    .replace(/æ/g, 'ae')
    .replace(/å/g, 'a')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
const orgId = (p: Place) => `${p.clinic}.${p.id ?? slug(p.town)}`;
const hospitalName = (p: Place) => p.name ?? `${p.town} ${p.kind}`;

export interface GeneratedExpert {
  readonly id: string;
  readonly clinic: string;
  readonly given: string;
  readonly family: string;
  readonly specialties: string[];
  readonly languages: string[];
  readonly organizationId: string;
  readonly endpoint: string;
}

/**
 * The generated experts: the same at every start. Those of a Chinese or Bengali hospital have names of its script
 * (about a fifth and an eighth of them), the others Norwegian and other names of the region.
 */
export function generateExperts(count: number): GeneratedExpert[] {
  const random = seeded(20240611);
  const pick = <X>(list: readonly X[]) => list[Math.floor(random() * list.length)]!;
  const used = new Set<string>();
  const out: GeneratedExpert[] = [];
  while (out.length < count) {
    const place = pick(PLACES);
    const names = place.script === 'zh' ? CHINESE : place.script === 'bn' ? BENGALI : undefined;
    const [given, givenSlug] = names ? pick(names.given) : [pick(GIVEN), undefined];
    const [family, familySlug] = names ? pick(names.family) : [pick(FAMILY), undefined];
    const base = `${place.clinic}.dr-${givenSlug ?? slug(given)}-${familySlug ?? slug(family)}`;
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    const first = pick(SPECIALTIES);
    const second = random() < 0.25 ? pick(SPECIALTIES) : first;
    const own = place.script ?? 'nb';
    const languages = [own, ...(random() < 0.7 ? ['en'] : []), ...(random() < 0.3 ? [pick(LANGUAGES)] : [])];
    out.push({
      id,
      clinic: place.clinic,
      given,
      family,
      specialties: [...new Set([first, second])],
      languages: [...new Set(languages)],
      organizationId: orgId(place),
      // Each hospital's workstations; none of them is running in the demo, so the hub refuses consults to them with a reason.
      endpoint: `ws-${place.id ?? slug(place.town)}`,
    });
  }
  return out;
}

/** The hospitals of the generated directory, as their clinic systems publish them. */
export const demoHospitals = (clinic: string): DirectoryResource[] =>
  PLACES.filter((p) => p.clinic === clinic).map((p) =>
    buildOrganization({
      id: orgId(p),
      name: hospitalName(p),
      city: p.town,
      country: p.script === 'zh' ? 'CN' : p.script === 'bn' ? 'BD' : 'NO',
    }),
  );

// ---- workstation set-up --------------------------------------------------------------------------------------------

/** Dispatches a command and returns its value, or throws with the command's error. */
export async function call<C extends CommandChannel>(
  core: WorkstationCore,
  command: C,
  input?: CommandInput<C>,
): Promise<CommandOutput<C>> {
  const result = await core.dispatch(command, input);
  if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  return result.value as CommandOutput<C>;
}

/** What a user does on first run: the region's trust, the two certificates (.p12), the connection profile. */
export async function setUpDemoWorkstation(core: WorkstationCore, access: DemoWorkstationAccess): Promise<void> {
  await call(core, COMMANDS.setTrust, access.trust);
  for (const use of ['signing', 'encryption'] as const) {
    await call(core, COMMANDS.importPkcs12, {
      use,
      pkcs12Base64: Buffer.from(access.pkcs12[use]).toString('base64'),
      password: access.pkcs12.password,
    });
  }
  await call(core, COMMANDS.setProfile, {
    profile: {
      hosts: [{ host: '127.0.0.1', port: access.amqpPort }],
      vhost: access.vhost,
      endpointId: access.endpointId,
    },
    brokerPassword: access.brokerPassword,
  });
}

/** Starts a core with a memory vault in `dir`, sets it up and waits until it is registered and holds the directory. */
export async function startDemoWorkstation(
  dir: string,
  access: DemoWorkstationAccess,
  options: { version?: string; expectExperts?: number; timeoutMs?: number } = {},
): Promise<WorkstationCore> {
  const core = createWorkstationCore({
    productName: 'RTS Workstation',
    version: options.version ?? 'demo',
    vault: createMemoryVault(),
    dataDir: dir,
    reconnectDelayMs: { initial: 200, max: 2_000 },
  });
  await core.start();
  try {
    await setUpDemoWorkstation(core, access);
    const timeoutMs = options.timeoutMs ?? 60_000;
    await until(
      async () => (await call(core, COMMANDS.getSetupState)).registration.state === 'accepted',
      `${access.endpointId}: registration accepted`,
      timeoutMs,
    );
    await until(
      async () => (await call(core, COMMANDS.getDirectoryState)).experts >= (options.expectExperts ?? 1),
      `${access.endpointId}: the directory`,
      timeoutMs,
    );
  } catch (error) {
    await core.stop();
    throw error;
  }
  return core;
}

// ---- the simulated peers -------------------------------------------------------------------------------------------

const FINDINGS = [
  'Findings consistent with the referral; no red flags in the data sent.',
  'Vital signs stable; the pattern described is typical and benign.',
  'The data sent support the working diagnosis.',
];
const CONCLUSIONS = [
  'Continue current treatment; re-assess in 48 hours, and refer if symptoms worsen.',
  'Start treatment as discussed; control in one week at the health centre.',
  'Refer for an outpatient visit within four weeks; no urgent transfer needed.',
];

/** The simulated expert: accepts every consult it receives and answers it with a signed report, after a short delay. */
function simulateExpert(core: WorkstationCore, delayMs: number, log: DemoLog): () => Promise<void> {
  const handled = new Set<string>();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const answer = async (caseId: string) => {
    await sleep(delayMs);
    if (stopped) return;
    await call(core, COMMANDS.openCase, { caseId });
    await call(core, COMMANDS.actOnCase, { caseId, action: 'accept' });
    await sleep(delayMs);
    if (stopped) return;
    const n = Math.floor(Math.random() * FINDINGS.length);
    await call(core, COMMANDS.sendReport, { caseId, findings: FINDINGS[n]!, conclusion: CONCLUSIONS[n]! });
    log({ event: 'simulated-expert-answered', caseId });
  };
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        if (stopped) return;
        const cases = await call(core, COMMANDS.listCases, {});
        for (const c of cases) {
          if (c.role !== 'expert' || c.status !== 'requested' || handled.has(c.caseId)) continue;
          handled.add(c.caseId);
          void answer(c.caseId).catch((error: unknown) => {
            handled.delete(c.caseId);
            log({ event: 'simulated-expert-failed', caseId: c.caseId, error: String(error) });
          });
        }
      })
      .catch((error: unknown) => log({ event: 'simulated-expert-failed', error: String(error) }));
  }, 500);
  return async () => {
    stopped = true;
    clearInterval(timer);
    await running;
  };
}

const REASONS = [
  'Persistent cough for three weeks, night sweats',
  'Itching rash on both forearms since last week',
  'Palpitations and dizziness on exertion',
  'Recurring headaches with visual aura',
  'Swollen knee after a fall, unable to bear weight',
  'Raised blood glucose on repeated measurements',
];

/** The simulated applicant: sends the user a consult every `everySeconds`, with a generated (fictitious) patient. */
function simulateApplicant(core: WorkstationCore, everySeconds: number, log: DemoLog): () => Promise<void> {
  const random = seeded(Date.now() & 0xffff);
  const pick = <X>(list: readonly X[]) => list[Math.floor(random() * list.length)]!;
  let running: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    running = running
      .then(async () => {
        const year = 1940 + Math.floor(random() * 70);
        const given = Math.floor(random() * GIVEN.length);
        const created = await call(core, COMMANDS.createConsult, {
          expertId: USER_PRACTITIONER,
          patient: {
            family: pick(FAMILY),
            given: [GIVEN[given]!],
            gender: given % 2 === 0 ? 'female' : 'male',
            birthDate: `${year}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 9)}`,
          },
          priority: pick(['routine', 'routine', 'urgent'] as const),
          reason: pick(REASONS),
          question: 'What do you recommend?',
          vitals: [{ sign: 'heartRate', value: 60 + Math.floor(random() * 50), effective: new Date().toISOString() }],
        });
        log({ event: 'simulated-applicant-sent', caseId: created.caseId });
      })
      .catch((error: unknown) => log({ event: 'simulated-applicant-failed', error: String(error) }));
  }, everySeconds * 1000);
  return async () => {
    clearInterval(timer);
    await running;
  };
}

// ---- the region ----------------------------------------------------------------------------------------------------

const password = () => randomBytes(18).toString('base64url');

function prepareDir(dataDir: string): string {
  const dir = join(dataDir, 'region');
  if (existsSync(dir)) {
    if (!existsSync(join(dir, MARKER)) && readdirSync(dir).length > 0)
      throw new Error(`${dir} exists and is not a demo region's directory`);
    rmSync(dir, { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, MARKER), 'The embedded demo region; removed and made anew at every start.\n');
  return dir;
}

export async function startDemoRegion(options: DemoRegionOptions): Promise<DemoRegion> {
  const log = options.log ?? (() => undefined);
  const dir = prepareDir(options.dataDir);
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse().splice(0)) {
      try {
        await stop();
      } catch (error) {
        log({ event: 'stop-failed', error: String(error) });
      }
    }
  };
  try {
    // The test region writes the CA, the hub's identity and the CRL under the file names of an admin state directory;
    // adoptRegion adds the rest once the broker is up. The hub reads the CRL there, so `rts region revoke` reaches it.
    const adminDir = join(dir, 'admin');
    const region = await createTestRegion(adminDir, REGION_NAME);
    const users = {
      admin: { name: 'rts-admin', password: password() },
      hub: { name: 'rts-hub', password: password() },
      endpoints: [...CLINICS, USER_ENDPOINT, EXPERT_ENDPOINT, APPLICANT_ENDPOINT].map((name) => ({
        name,
        password: password(),
      })),
    };
    const passwordOf = (name: string) => users.endpoints.find((u) => u.name === name)!.password;
    const broker: DemoBroker = await startDemoBroker({
      dataDir: join(dir, 'broker'),
      adminUser: users.admin.name,
      adminPassword: users.admin.password,
      hub: users.hub,
      users: users.endpoints,
      deliveryLimit: DELIVERY_LIMIT,
    });
    stops.push(() => broker.stop());
    // The demo's own endpoints are not listed: they are simulated by this process, made anew at each start, and their
    // keys never leave it, so the admin state would hold records with nothing behind them (and sync-broker would
    // reset users the demo provisioned itself).
    await adoptRegion(adminDir, {
      region: REGION_NAME,
      caPrivateKey: region.ca.privateKey,
      broker: {
        hosts: [{ host: '127.0.0.1', port: broker.amqpPort }],
        managementUrl: broker.managementUrl,
        deliveryLimit: DELIVERY_LIMIT,
      },
      passwords: { admin: users.admin.password, hub: users.hub.password },
    });

    const config: HubConfig = {
      instanceId: 'hub-demo',
      broker: {
        kind: 'rabbitmq',
        hosts: [{ host: '127.0.0.1', port: broker.amqpPort }],
        vhost: T.vhost,
        username: users.hub.name,
        password: { env: 'RTS_HUB_BROKER_PASSWORD' },
        credit: 200,
        management: {
          url: broker.managementUrl,
          username: users.admin.name,
          password: { env: 'RTS_HUB_ADMIN_PASSWORD' },
          deliveryLimit: DELIVERY_LIMIT,
        },
      },
      // The region is made anew at every start, its hub's database too: copied, which is 3 s sooner than initdb.
      database: {
        kind: 'embedded',
        path: join(dir, 'hub-db'),
        templates: options.hubDatabaseTemplates ?? join(options.dataDir, 'templates'),
      },
      identity: { certificateFile: region.files.hubCertificate, privateKeyFile: region.files.hubKey },
      trust: { anchorFiles: [region.files.ca], crlFiles: [region.files.crl] },
      claimMs: 30_000,
    };
    const configFile = join(dir, 'hub-demo.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const hub: HubService = await startHub({
      config: loadHubConfig(configFile, {
        RTS_HUB_BROKER_PASSWORD: users.hub.password,
        RTS_HUB_ADMIN_PASSWORD: users.admin.password,
      }),
      version: 'demo',
      log: (e) => log({ source: 'hub', ...(e as unknown as Record<string, unknown>) }),
    });
    stops.push(() => hub.stop());

    // The practitioners: the user, the two simulated peers, and the generated experts, each with its own certificates.
    const user = await region.practitioner(USER_PRACTITIONER);
    const expert = await region.practitioner(EXPERT_PRACTITIONER);
    const applicant = await region.practitioner(APPLICANT_PRACTITIONER);
    const generated = generateExperts(options.generatedExperts ?? 90);
    const generatedIds = await Promise.all(generated.map((g) => region.practitioner(g.id)));
    log({ event: 'certificates-issued', practitioners: generatedIds.length + 3 });

    const entry = (p: TestPractitioner, e: Omit<GeneratedExpert, 'id' | 'clinic'>): DirectoryResource[] =>
      buildExpertEntry({
        practitionerId: p.id,
        family: e.family,
        given: [e.given],
        prefix: 'Dr.',
        languages: e.languages,
        specialties: e.specialties.map((text) => ({ text })),
        organizationId: e.organizationId,
        endpoints: [e.endpoint],
        signingCertificate: toBase64(p.signing.certificate),
        encryptionCertificate: toBase64(p.encryption.certificate),
      });
    const resources = new Map<string, DirectoryResource[]>(CLINICS.map((c) => [c, demoHospitals(c)]));
    resources.get('demo-north')!.push(
      ...entry(user, {
        given: 'Demo',
        family: 'User',
        languages: ['nb', 'en'],
        specialties: ['General practice'],
        organizationId: 'demo-north.nordvik',
        endpoint: USER_ENDPOINT,
      }),
    );
    resources.get('demo-south')!.push(
      ...entry(expert, {
        given: 'Astrid',
        family: 'Lind',
        languages: ['nb', 'en', 'sv'],
        specialties: ['Cardiology', 'Internal medicine'],
        organizationId: 'demo-south.sormo',
        endpoint: EXPERT_ENDPOINT,
      }),
    );
    resources.get('demo-east')!.push(
      ...entry(applicant, {
        given: 'Jon',
        family: 'Haugen',
        languages: ['nb'],
        specialties: ['General practice'],
        organizationId: 'demo-east.granmo',
        endpoint: APPLICANT_ENDPOINT,
      }),
    );
    generated.forEach((g, i) => resources.get(g.clinic)!.push(...entry(generatedIds[i]!, g)));

    // The clinic systems: register, then publish their part of the directory.
    const clinics = new Map<string, { endpoint: TestEndpoint; identity: TestIdentity }>();
    stops.push(() => {
      for (const c of clinics.values()) c.endpoint.close();
    });
    for (const id of CLINICS) {
      const identity = await region.clinic(id);
      const endpoint = await connectTestEndpoint({
        port: broker.amqpPort,
        vhost: T.vhost,
        id,
        password: passwordOf(id),
      });
      clinics.set(id, { endpoint, identity });
      await endpoint.send(
        { rtsType: 'endpoint.register', rtsVersion: PROTOCOL_VERSION, rtsSender: id },
        (messageId, timestamp) =>
          buildEndpointRegister(
            { messageId, timestamp, sender: id },
            { kind: 'clinic-system', name: id, organization: id },
          ),
        identity,
      );
      await endpoint.waitFor((m) => m.properties.rtsNotice === 'registration-accepted', `${id}: registration`);
      log({ event: 'clinic-registered', clinic: id });
    }
    for (const id of CLINICS) {
      const { endpoint, identity } = clinics.get(id)!;
      const full = resources.get(id)!;
      await endpoint.send(
        {
          rtsType: 'directory.publish',
          rtsVersion: PROTOCOL_VERSION,
          rtsSender: id,
          rtsDirectoryMode: 'full',
          rtsBatchId: randomUUID(),
          rtsBatchIndex: 1,
          rtsBatchCount: 1,
        },
        (messageId, timestamp) => buildDirectoryPublish({ messageId, timestamp, sender: id }, { full }),
        identity,
      );
    }
    const last = clinics.get(CLINICS[CLINICS.length - 1]!)!.endpoint;
    await last.waitForCount(
      (m) => m.properties.rtsType === 'directory.update',
      CLINICS.length,
      'all publishes applied',
      60_000,
    );
    const directorySize = generated.length + 3;
    log({ event: 'directory-published', experts: directorySize });

    const trust = {
      anchorsPem: derToPem(region.ca.certificate, PEM_LABELS.certificate),
      crlsPem: readFileSync(region.files.crl, 'utf8'),
      hubCertificatePem: derToPem(region.hub.certificate, PEM_LABELS.certificate),
    };
    const accessOf = async (endpointId: string, p: TestPractitioner): Promise<DemoWorkstationAccess> => {
      const p12Password = password();
      const p12 = async (identity: TestIdentity) =>
        createPkcs12({
          privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
          certificate: identity.certificate,
          chain: [region.ca.certificate],
          password: p12Password,
        });
      return {
        endpointId,
        practitionerId: p.id,
        amqpPort: broker.amqpPort,
        vhost: T.vhost,
        brokerPassword: passwordOf(endpointId),
        trust,
        pkcs12: { signing: await p12(p.signing), encryption: await p12(p.encryption), password: p12Password },
      };
    };

    // The simulated peers: real workstation cores on memory vaults.
    const [expertCore, applicantCore] = await Promise.all([
      startDemoWorkstation(join(dir, EXPERT_ENDPOINT), await accessOf(EXPERT_ENDPOINT, expert), {
        expectExperts: directorySize,
      }),
      startDemoWorkstation(join(dir, APPLICANT_ENDPOINT), await accessOf(APPLICANT_ENDPOINT, applicant), {
        expectExperts: directorySize,
      }),
    ]);
    stops.push(
      () => expertCore.stop(),
      () => applicantCore.stop(),
    );
    stops.push(simulateExpert(expertCore, options.expertDelayMs ?? 1_500, log));
    if (options.applicantEverySeconds && options.applicantEverySeconds > 0)
      stops.push(simulateApplicant(applicantCore, options.applicantEverySeconds, log));

    let stopped: Promise<void> | undefined;
    return {
      amqpPort: broker.amqpPort,
      managementUrl: broker.managementUrl,
      adminDir,
      user: await accessOf(USER_ENDPOINT, user),
      simulatedExpert: { practitionerId: EXPERT_PRACTITIONER, endpointId: EXPERT_ENDPOINT },
      simulatedApplicant: { practitionerId: APPLICANT_PRACTITIONER, endpointId: APPLICANT_ENDPOINT },
      directorySize,
      stop: () => (stopped ??= stopAll()),
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
