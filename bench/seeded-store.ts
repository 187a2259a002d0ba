/**
 * A workstation store as the core would find it after a directory snapshot and months of consultations, filled
 * directly (no broker, no hub): the UI benchmark (bench/ui.bench.ts) and P6 (bench/p6-core-memory.bench.ts) start a
 * core on it. The same generated region on every run.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMANDS, type CommandChannel, type DirectoryState } from '../shared/api/index.ts';
import { createPkcs12, derToPem, exportPrivateKeyPkcs8, PEM_LABELS } from '../shared/pki/index.ts';
import type { ConsultStatus } from '../shared/protocol/index.ts';
import { buildExpertEntry, buildOrganization, type DirectoryResource } from '../shared/protocol/fhir/index.ts';
import { createTestRegion } from '../testkit/index.ts';
import {
  openCaseStore,
  openDirectoryMirror,
  openWorkstationSettings,
  openWorkstationStore,
  brokerPasswordAccount,
  type SecretVault,
  type WorkstationCore,
} from '../main/node/index.ts';

const ENDPOINT = 'ws-bench';
const ME = 'bench-clinic.dr-bench';
const P12_PASSWORD = 'bench-p12';

/** mulberry32: the same region on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rand = random(20_240_611);
const pick = <T>(values: readonly T[]): T => values[Math.floor(rand() * values.length)]!;
const weighted = <T>(table: readonly (readonly [T, number])[]): T => {
  let r = rand() * table.reduce((sum, [, w]) => sum + w, 0);
  for (const [value, w] of table) if ((r -= w) < 0) return value;
  return table[table.length - 1]![0];
};

const GIVEN = [
  'Anna',
  'Ahmed',
  'Astrid',
  'Berit',
  'Bjørn',
  'Camilla',
  'Dag',
  'Eirik',
  'Fatima',
  'Gunnar',
  'Hanne',
  'Henrik',
  'Ingrid',
  'Jonas',
  'Kari',
  'Lars',
  'Leila',
  'Maria',
  'Mohammed',
  'Nils',
  'Olav',
  'Per',
  'Ragnhild',
  'Sara',
  'Sofie',
  'Tor',
  'Una',
  'Vidar',
  'Yusuf',
  'Zainab',
  'Elin',
  'Marte',
  'Sindre',
  'Tuva',
];
const FAMILY = [
  'Hansen',
  'Johansen',
  'Olsen',
  'Larsen',
  'Andersen',
  'Pedersen',
  'Nilsen',
  'Kristiansen',
  'Jensen',
  'Karlsen',
  'Johnsen',
  'Pettersen',
  'Eriksen',
  'Berg',
  'Haugen',
  'Hagen',
  'Andreassen',
  'Jacobsen',
  'Dahl',
  'Halvorsen',
  'Henriksen',
  'Lund',
  'Sørensen',
  'Moen',
  'Gundersen',
  'Iversen',
  'Strand',
  'Solberg',
  'Martinsen',
  'Paulsen',
  'Knutsen',
  'Eide',
  'Bakken',
  'Mathisen',
  'Lie',
  'Amundsen',
  'Nguyen',
  'Rasmussen',
  'Ali',
  'Lunde',
  'Solheim',
  'Berge',
  'Moe',
  'Nygård',
  'Holm',
  'Lien',
  'Hauge',
  'Christensen',
  'Evensen',
  'Sæther',
  'Aas',
  'Myhre',
  'Haugland',
  'Sandvik',
  'Hussain',
  'Ruud',
  'Nordby',
  'Norheim',
];
const CITIES = [
  'Oslo',
  'Bergen',
  'Trondheim',
  'Stavanger',
  'Tromsø',
  'Bodø',
  'Kristiansand',
  'Drammen',
  'Fredrikstad',
  'Ålesund',
  'Hamar',
  'Lillehammer',
  'Molde',
  'Haugesund',
  'Sandnes',
  'Arendal',
  'Gjøvik',
  'Harstad',
  'Narvik',
  'Alta',
  'Kirkenes',
  'Stockholm',
  'Göteborg',
  'Malmö',
  'Uppsala',
  'København',
  'Aarhus',
  'Odense',
  'Helsinki',
  'Tampere',
];
const KINDS = [
  'University Hospital',
  'Hospital',
  'Medical Centre',
  'Health Centre',
  'Clinic',
  'Heart Centre',
  "Children's Hospital",
  'Nordland Clinic',
];
const SPECIALTIES = [
  'Cardiology',
  'Pediatrics',
  'Pediatric cardiology',
  'Neurology',
  'Neurosurgery',
  'Oncology',
  'Dermatology',
  'Radiology',
  'Psychiatry',
  'Child psychiatry',
  'General practice',
  'Geriatrics',
  'Endocrinology',
  'Gastroenterology',
  'Nephrology',
  'Pulmonology',
  'Rheumatology',
  'Urology',
  'Orthopaedics',
  'Ophthalmology',
  'Otorhinolaryngology',
  'Obstetrics',
  'Gynaecology',
  'Anaesthesiology',
  'Emergency medicine',
  'Infectious diseases',
  'Haematology',
  'Cardiothoracic surgery',
  'Vascular surgery',
  'Plastic surgery',
];
const LANGUAGES = ['nb', 'en', 'sv', 'da', 'de', 'fr', 'es', 'pl', 'ar', 'so', 'ur', 'fi', 'se', 'nn'];
/** Chinese and Bengali hospitals, cities and names (issue 22: the directory mixes the scripts). */
const CN_CITIES = ['北京', '上海', '广州', '深圳', '郑州', '杭州', '成都', '武汉', '西安', '南京', '天津', '长沙'];
const CN_KINDS = [
  '市第一人民医院',
  '市中心医院',
  '协和医院',
  '儿童医院',
  '市中医院',
  '大学附属医院',
  '市第二人民医院',
  '妇幼保健院',
];
const CN_FAMILY = [
  '张',
  '王',
  '李',
  '刘',
  '陈',
  '杨',
  '赵',
  '黄',
  '周',
  '吴',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
  '何',
  '林',
  '罗',
  '高',
];
const CN_GIVEN = [
  '伟明',
  '芳',
  '秀英',
  '建国',
  '丽华',
  '志强',
  '静',
  '海涛',
  '晓燕',
  '国平',
  '敏',
  '磊',
  '婷婷',
  '宇航',
  '文博',
  '雪梅',
  '子轩',
  '欣怡',
  '明',
  '伟',
];
const BN_CITIES = ['ঢাকা', 'চট্টগ্রাম', 'খুলনা', 'রাজশাহী', 'সিলেট', 'বরিশাল', 'রংপুর', 'ময়মনসিংহ'];
const BN_KINDS = ['মেডিকেল কলেজ হাসপাতাল', 'জেনারেল হাসপাতাল', 'শিশু হাসপাতাল', 'হৃদরোগ ইনস্টিটিউট', 'সদর হাসপাতাল'];
const BN_FAMILY = ['রহমান', 'আক্তার', 'হোসেন', 'ইসলাম', 'চৌধুরী', 'সরকার', 'দাস', 'বেগম', 'আহমেদ', 'খান', 'মিয়া', 'রায়'];
const BN_GIVEN = [
  'মোহাম্মদ',
  'লক্ষ্মী',
  'ফাতেমা',
  'সুমন',
  'নুসরাত',
  'রফিক',
  'তাসলিমা',
  'অমিত',
  'শাহানা',
  'কামরুল',
  'প্রিয়াঙ্কা',
  'সৌরভ',
];
type Script = 'latin' | 'zh' | 'bn';
/** A hospital's script: of every ten, two are Chinese and one is Bengali; its experts have names of that script. */
const scriptOf = (h: number): Script => (h % 10 === 3 || h % 10 === 7 ? 'zh' : h % 10 === 5 ? 'bn' : 'latin');
/** A person's name in a script, given names first (as the directory and a request give it). */
function personOf(script: Script): { family: string; given: string[] } {
  if (script === 'zh') return { family: pick(CN_FAMILY), given: [pick(CN_GIVEN)] };
  if (script === 'bn') return { family: pick(BN_FAMILY), given: [pick(BN_GIVEN)] };
  return { family: pick(FAMILY), given: rand() < 0.2 ? [pick(GIVEN), pick(GIVEN)] : [pick(GIVEN)] };
}
const nameOf = (script: Script) => {
  const { family, given } = personOf(script);
  return `${given.join(' ')} ${family}`;
};
/** A weighted script for a patient or colleague of a case: as the directory's. */
const anyScript = (): Script => scriptOf(Math.floor(rand() * 10));
export const HOSPITALS = 300;
/** The mirror stores certificates as given; it is the sync's job to check them, and nothing here opens one. */
const DUMMY_CERTIFICATE = Buffer.from('not a certificate: benchmark data').toString('base64');
const BATCH_ROLES = 1_000;

function hospitalOf(h: number): { name: string; city: string; country: string } {
  const script = scriptOf(h);
  const turn = Math.floor(h / 10);
  if (script === 'zh') {
    const city = CN_CITIES[turn % CN_CITIES.length]!;
    return { name: `${city}${CN_KINDS[(turn + h) % CN_KINDS.length]}`, city, country: 'CN' };
  }
  if (script === 'bn') {
    const city = BN_CITIES[turn % BN_CITIES.length]!;
    return { name: `${city} ${BN_KINDS[turn % BN_KINDS.length]}`, city, country: 'BD' };
  }
  const city = CITIES[h % CITIES.length]!;
  return { name: `${city} ${KINDS[Math.floor(h / CITIES.length) % KINDS.length]}`, city, country: 'NO' };
}
const hospitals = Array.from({ length: HOSPITALS }, (_, h) => ({
  clinic: `clinic-${h}`,
  organization: buildOrganization({ id: `clinic-${h}.org`, ...hospitalOf(h) }),
}));
const practitionerId = (i: number) => `clinic-${i % HOSPITALS}.dr-${i}`;

function expertResources(i: number): DirectoryResource[] {
  const script = scriptOf(i % HOSPITALS);
  const specialties = new Set([pick(SPECIALTIES), ...(rand() < 0.3 ? [pick(SPECIALTIES)] : [])]);
  const languages = new Set([
    script !== 'latin' ? script : rand() < 0.7 ? 'nb' : pick(LANGUAGES),
    ...(rand() < 0.6 ? ['en'] : []),
    ...(rand() < 0.25 ? [pick(LANGUAGES)] : []),
  ]);
  return buildExpertEntry({
    practitionerId: practitionerId(i),
    ...personOf(script),
    ...(rand() < 0.3 && { prefix: 'Dr.' }),
    languages: [...languages],
    specialties: [...specialties].map((text) => ({ text })),
    organizationId: `clinic-${i % HOSPITALS}.org`,
    endpoints: [`ws-${i % HOSPITALS}-${i % 7}`],
    signingCertificate: DUMMY_CERTIFICATE,
    encryptionCertificate: DUMMY_CERTIFICATE,
  });
}

const STATUSES: readonly (readonly [ConsultStatus, number])[] = [
  ['requested', 20],
  ['accepted', 25],
  ['more-information-needed', 10],
  ['information-provided', 10],
  ['completed', 25],
  ['declined', 4],
  ['redirected', 3],
  ['cancelled', 3],
];
const REASONS = [
  'Chest pain, ST elevation',
  'Syncope during exercise',
  'Palpitations and dizziness',
  'Rash after antibiotics',
  'Suspected stroke, left-sided weakness',
  'Shortness of breath, low SpO2',
  'Abdominal pain, fever',
  'Headache and blurred vision',
  'Atrial fibrillation, new onset',
  'Wound not healing after surgery',
  'Confusion in an elderly patient',
  'Second opinion on a skin lesion',
];

const PRIORITIES = [
  ['routine', 60],
  ['urgent', 25],
  ['asap', 10],
  ['stat', 5],
] as const;

/** Fills the store as the core would find it after a directory snapshot and months of consultations. */
export async function seedStore(
  dataDir: string,
  vault: SecretVault,
  size: { experts: number; cases: number },
): Promise<{ expertsSeconds: number; casesSeconds: number }> {
  const { experts: EXPERTS, cases: CASES } = size;
  const settings = openWorkstationSettings(dataDir);
  settings.setProfile({ hosts: [{ host: '127.0.0.1', port: 1 }], vhost: 'rts', endpointId: ENDPOINT });
  await vault.set(brokerPasswordAccount(ENDPOINT), 'the broker is never reached');
  const db = await openWorkstationStore({ dir: dataDir, vault, settings });
  try {
    let started = performance.now();
    const mirror = openDirectoryMirror(db);
    const batchId = randomUUID();
    const count = Math.ceil(EXPERTS / BATCH_ROLES);
    for (let index = 1; index <= count; index++) {
      const resources: DirectoryResource[] = index === 1 ? hospitals.map((h) => h.organization) : [];
      for (let i = (index - 1) * BATCH_ROLES; i < Math.min(index * BATCH_ROLES, EXPERTS); i++)
        resources.push(...expertResources(i));
      mirror.applySnapshotBatch({ batchId, index, count, version: 1, resources });
    }
    const expertsSeconds = (performance.now() - started) / 1000;

    started = performance.now();
    const cases = openCaseStore(db);
    const now = Date.now();
    db.transaction(() => {
      for (let n = 0; n < CASES; n++) {
        const role = rand() < 0.55 ? 'expert' : 'applicant';
        const otherExpert = Math.floor(rand() * EXPERTS);
        const other = practitionerId(otherExpert);
        const otherHospital = otherExpert % HOSPITALS;
        const caseId = randomUUID();
        cases.create({
          caseId,
          role,
          status: weighted(STATUSES),
          priority: weighted(PRIORITIES),
          applicantId: role === 'applicant' ? ME : other,
          expertId: role === 'applicant' ? other : ME,
          createdAt: now - Math.floor(rand() * 180 * 86_400_000),
          unread: rand() < 0.15,
          mySequence: role === 'applicant' ? 1 : 0,
        });
        // What the inbox shows and the case search finds, as a request would have told it.
        cases.describe(caseId, {
          patientName: nameOf(anyScript()),
          patientBirthDate: `19${String(20 + Math.floor(rand() * 80))}-0${1 + Math.floor(rand() * 9)}-1${Math.floor(rand() * 9)}`,
          patientGender: rand() < 0.5 ? 'female' : 'male',
          reason: pick(REASONS),
          peerName: nameOf(scriptOf(otherHospital)),
          peerHospital: hospitalOf(otherHospital).name,
          ...(rand() < 0.3 && { diagnosis: pick(REASONS) }),
        });
      }
    })();
    return { expertsSeconds, casesSeconds: (performance.now() - started) / 1000 };
  } finally {
    db.close();
  }
}

/**
 * The practitioner's identity, imported as a user would on first run: trust, then the two certificates. Returns once the
 * core's background check has judged every expert's certificates (the placeholders fail it), as it has on a workstation
 * in use: the benchmarks measure that steady state, not the check.
 */
export async function setUpIdentity(core: WorkstationCore, dir: string): Promise<void> {
  const region = await createTestRegion(join(dir, 'pki'));
  const practitioner = await region.practitioner(ME);
  const call = async (command: CommandChannel, input: unknown) => {
    const result = await core.dispatch(command, input);
    if (!result.ok) throw new Error(`${command}: ${result.error.code}: ${result.error.message}`);
  };
  await call(COMMANDS.setTrust, {
    anchorsPem: derToPem(region.ca.certificate, PEM_LABELS.certificate),
    crlsPem: readFileSync(region.files.crl, 'utf8'),
    hubCertificatePem: derToPem(region.hub.certificate, PEM_LABELS.certificate),
  });
  for (const use of ['signing', 'encryption'] as const) {
    const identity = practitioner[use];
    const pkcs12 = await createPkcs12({
      privateKeyPkcs8: await exportPrivateKeyPkcs8(identity.privateKey),
      certificate: identity.certificate,
      chain: [region.ca.certificate],
      password: P12_PASSWORD,
    });
    await call(COMMANDS.importPkcs12, {
      use,
      pkcs12Base64: Buffer.from(pkcs12).toString('base64'),
      password: P12_PASSWORD,
    });
  }
  const deadline = Date.now() + 600_000;
  for (;;) {
    const state = await core.dispatch(COMMANDS.getDirectoryState, undefined);
    if (state.ok && (state.value as DirectoryState).certificatesUnchecked === undefined) return;
    if (Date.now() > deadline) throw new Error('the background certificate check did not finish');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
