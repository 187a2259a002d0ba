import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteTransportStore, scratchDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { openCaseStore, type CaseDetails, type CaseStore } from './case-store.ts';

// Case search across scripts (issue 22): patients, reasons, diagnoses and colleagues in Chinese, Bengali, Norwegian.

let db: SqliteDatabase;
let dispose: () => void;
let cases: CaseStore;

beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
  createSqliteTransportStore(db);
  cases = openCaseStore(db);
});
afterEach(() => dispose());

let next = 0;
function add(details: CaseDetails): string {
  const caseId = `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}`;
  cases.create({
    caseId,
    role: 'expert',
    status: 'requested',
    priority: 'routine',
    applicantId: 'clinic-b.dr-berg',
    expertId: 'clinic-a.dr-ahmed',
    createdAt: next,
    mySequence: 0,
  });
  cases.describe(caseId, details);
  return caseId;
}

const found = (query: string) => cases.list({ query }).map((c) => c.caseId);

describe('case search across scripts', () => {
  it('finds a Chinese patient, reason and colleague by any part, in the middle too', () => {
    // A request gives the patient given names first (patientNameOf): 伟明 张 is written 张伟明.
    const zhang = add({
      patientName: '伟明 张',
      patientGender: 'male',
      reason: '急性胸痛，心电图ST段抬高',
      peerName: '芳 王',
      peerHospital: '郑州市第一人民医院',
    });
    const li = add({ patientName: '李张伟', reason: '头痛' });
    // The most recently updated case first, as every search of the inbox without a tab.
    expect(found('伟')).toEqual([li, zhang]);
    expect(found('伟明')).toEqual([zhang]);
    expect(found('张伟明')).toEqual([zhang]);
    expect(found('张伟')).toEqual([li, zhang]);
    expect(found('胸痛')).toEqual([zhang]);
    expect(found('人民医院')).toEqual([zhang]);
    expect(found('王芳')).toEqual([zhang]);
    expect(found('张明')).toEqual([]);
    // Every tab's order and the patients a new request can start from.
    expect(cases.list({ query: '伟明', bucket: 'new' }).map((c) => c.caseId)).toEqual([zhang]);
    expect(cases.patients('伟明', 10).map((p) => p.name)).toEqual(['伟明 张']);
    expect(cases.patients('张', 10).map((p) => p.name)).toEqual(['李张伟', '伟明 张']);
  });

  it('finds a Bengali patient by a whole word and by a prefix', () => {
    const rahman = add({ patientName: 'মোহাম্মদ রহমান', reason: 'বুকে ব্যথা' });
    const akter = add({ patientName: 'লক্ষ্মী আক্তার', reason: 'জ্বর' });
    expect(found('রহমান')).toEqual([rahman]);
    expect(found('রহমা')).toEqual([rahman]);
    expect(found('মোহা রহ')).toEqual([rahman]);
    expect(found('লক্ষ')).toEqual([akter]);
    expect(found('ব্যথা')).toEqual([rahman]);
    expect(found('মান')).toEqual([]);
    expect(cases.patients('আক্', 10).map((p) => p.name)).toEqual(['লক্ষ্মী আক্তার']);
  });

  it('keeps å apart from a, and finds é by e; a diagnosis given alone keeps what the request said', () => {
    const aase = add({ patientName: 'Åse Ås', reason: 'Brystsmerter' });
    const asa = add({ patientName: 'Asa As', reason: 'Synkope' });
    const rene = add({ patientName: 'René Sørvik', reason: 'Hjertesvikt' });
    expect(found('ås')).toEqual([aase]);
    expect(found('åse')).toEqual([aase]);
    expect(found('as')).toEqual([asa]);
    expect(found('rene')).toEqual([rene]);
    expect(found('sorvik')).toEqual([]);
    cases.describe(rene, { diagnosis: 'Hjertesvikt med redusert ejeksjonsfraksjon, 心力衰竭' });
    expect(found('ejeksjon')).toEqual([rene]);
    expect(found('衰竭')).toEqual([rene]);
    cases.describe(rene, { peerName: 'Øyvind Sæther' });
    expect(found('衰竭 øyvind')).toEqual([rene]);
    expect(found('rene')).toEqual([rene]);
  });
});
