import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildOrganization } from '../../../shared/protocol/fhir/index.ts';
import { scratchDatabase, type SqliteDatabase } from '../../../transport/index.ts';
import { openDirectoryMirror, type DirectoryMirror } from './directory-mirror.ts';
import { expertEntry } from './mirror-test-entries.ts';

// Search across scripts (issue 22): Chinese, Bengali and Norwegian names and hospitals in one directory.

let db: SqliteDatabase;
let dispose: () => void;
let mirror: DirectoryMirror;

beforeEach(() => {
  ({ db, dispose } = scratchDatabase());
  mirror = openDirectoryMirror(db);
  mirror.applySnapshotBatch({
    batchId: 'b1',
    index: 1,
    count: 1,
    version: 1,
    resources: [
      buildOrganization({ id: 'cn.zhengzhou', name: '郑州市第一人民医院', city: '郑州' }),
      buildOrganization({ id: 'cn.xiehe', name: '北京协和医院', city: '北京' }),
      buildOrganization({ id: 'bd.dmch', name: 'ঢাকা মেডিকেল কলেজ হাসপাতাল', city: 'ঢাকা' }),
      buildOrganization({ id: 'no.as', name: 'Ås legesenter', city: 'Ås' }),
      buildOrganization({ id: 'no.as-town', name: 'As Clinic', city: 'Aas' }),
      buildOrganization({ id: 'no.tromso', name: 'Universitetssykehuset Nord-Norge', city: 'Tromsø' }),
      ...expertEntry('cn.zhang-weiming', '张', '伟明', '心内科', 'cn.zhengzhou', ['zh']),
      ...expertEntry('cn.li-zhangwei', '李', '张伟', '神经内科', 'cn.xiehe', ['zh']),
      ...expertEntry('cn.wang-fang', '王', '芳', '儿科', 'cn.zhengzhou', ['zh', 'en']),
      ...expertEntry('bd.rahman', 'রহমান', 'মোহাম্মদ', 'হৃদরোগ', 'bd.dmch', ['bn']),
      ...expertEntry('bd.akter', 'আক্তার', 'লক্ষ্মী', 'শিশুরোগ', 'bd.dmch', ['bn', 'en']),
      ...expertEntry('no.aasen', 'Åsen', 'Bjørn', 'Kardiologi', 'no.as', ['nb']),
      ...expertEntry('no.asen', 'Asen', 'Bjorn', 'Kardiologi', 'no.as-town', ['nb']),
      ...expertEntry('no.saether', 'Sæther', 'Øyvind', 'Nevrologi', 'no.tromso', ['nb']),
      ...expertEntry('fr.andre', 'Dubois', 'André', 'Cardiologie', 'no.tromso', ['fr']),
    ],
  });
});
afterEach(() => dispose());

const found = (text: string, limit?: number) =>
  mirror.search({ text, ...(limit && { limit }) }).experts.map((e) => e.practitionerId);

describe('directory search across scripts', () => {
  it('finds a Chinese name by any part of it: one character, two, the whole name as it is written', () => {
    // 伟 is in the middle of 张伟明 (a substring no prefix of the word would find) and the end of 李张伟.
    expect(found('伟').sort()).toEqual(['cn.li-zhangwei', 'cn.zhang-weiming']);
    expect(found('伟明')).toEqual(['cn.zhang-weiming']);
    expect(found('明')).toEqual(['cn.zhang-weiming']);
    expect(found('张伟明')).toEqual(['cn.zhang-weiming']);
    expect(found('王芳')).toEqual(['cn.wang-fang']);
    // With a title before the name, as the demo region publishes its experts.
    const [titled, role] = expertEntry('cn.chen-jing', '陈', '静', '儿科', 'cn.xiehe', ['zh']);
    expect(
      mirror.applyUpdate({
        baseVersion: 1,
        version: 2,
        changes: [
          { upsert: { ...titled, name: [{ prefix: ['Dr.'], family: '陈', given: ['静'] }] } },
          { upsert: role },
        ],
      }),
    ).toBe('applied');
    expect(found('陈静')).toEqual(['cn.chen-jing']);
    expect(mirror.search({ text: '陈静' }).experts[0]!.name).toBe('Dr. 陈静');
    // The characters must be next to each other, in this order.
    expect(found('张明')).toEqual([]);
    expect(found('明伟')).toEqual([]);
  });

  it('ranks a name that begins with what is typed before one that has it further on', () => {
    // 张伟明 begins with 张伟; 李张伟 has it after the family name.
    expect(found('张伟')).toEqual(['cn.zhang-weiming', 'cn.li-zhangwei']);
    expect(found('张')).toEqual(['cn.zhang-weiming', 'cn.li-zhangwei']);
    // Paging follows the same order.
    expect(mirror.search({ text: '张', limit: 1 })).toMatchObject({
      experts: [{ practitionerId: 'cn.zhang-weiming' }],
      more: true,
    });
    expect(mirror.search({ text: '张', limit: 1, offset: 1 }).experts.map((e) => e.practitionerId)).toEqual([
      'cn.li-zhangwei',
    ]);
  });

  it('finds a Chinese hospital, place and specialty by a part from its middle', () => {
    expect(found('人民医院').sort()).toEqual(['cn.wang-fang', 'cn.zhang-weiming']);
    expect(found('协和').sort()).toEqual(['cn.li-zhangwei']);
    expect(found('医院').sort()).toEqual(['cn.li-zhangwei', 'cn.wang-fang', 'cn.zhang-weiming']);
    expect(found('内科').sort()).toEqual(['cn.li-zhangwei', 'cn.zhang-weiming']);
    expect(found('郑州 儿科')).toEqual(['cn.wang-fang']);
    expect(mirror.search({ specialty: '心内科' }).experts.map((e) => e.practitionerId)).toEqual(['cn.zhang-weiming']);
    expect(mirror.search({ text: '医院', organization: 'cn.zhengzhou' }).experts).toHaveLength(2);
  });

  it('finds Bengali names and hospitals by a whole word and by a prefix, vowel signs and virama inside the word', () => {
    expect(found('রহমান')).toEqual(['bd.rahman']);
    // রহমা ends in a vowel sign; মোহা has one inside.
    expect(found('রহমা')).toEqual(['bd.rahman']);
    expect(found('মোহা')).toEqual(['bd.rahman']);
    // লক্ষ্মী: conjuncts joined by the virama are one word.
    expect(found('লক্ষ')).toEqual(['bd.akter']);
    expect(found('লক্ষ্মী আক্তার')).toEqual(['bd.akter']);
    expect(found('ঢাকা মেডি').sort()).toEqual(['bd.akter', 'bd.rahman']);
    expect(found('শিশু')).toEqual(['bd.akter']);
    // A part from the middle of a Bengali word is not a word of it.
    expect(found('মান')).toEqual([]);
  });

  it('keeps æ, ø and å letters of their own, while é is found by e', () => {
    expect(found('ås').sort()).toEqual(['no.aasen']);
    expect(found('åsen')).toEqual(['no.aasen']);
    expect(found('asen')).toEqual(['no.asen']);
    expect(found('as clinic')).toEqual(['no.asen']);
    expect(found('bjørn')).toEqual(['no.aasen']);
    expect(found('bjorn')).toEqual(['no.asen']);
    expect(found('sæther')).toEqual(['no.saether']);
    expect(found('saether')).toEqual([]);
    expect(found('øyvind tromsø')).toEqual(['no.saether']);
    expect(found('tromso')).toEqual([]);
    expect(found('andre')).toEqual(['fr.andre']);
    expect(found('ANDRÉ')).toEqual(['fr.andre']);
    expect(found('Åsen Bjørn')).toEqual(['no.aasen']);
  });

  it('shows names as they are read (a Chinese name family first) and hospitals as given, not as indexed', () => {
    expect(mirror.search({ text: '伟明' }).experts).toEqual([
      {
        practitionerId: 'cn.zhang-weiming',
        name: '张伟明',
        specialties: '心内科',
        organization: '郑州市第一人民医院',
        city: '郑州',
        languages: 'zh',
        // Nothing has checked its certificates (certificate-checks.ts).
        certificates: 'unchecked',
      },
    ]);
    expect(mirror.people(['bd.rahman']).get('bd.rahman')).toEqual({
      name: 'মোহাম্মদ রহমান',
      specialties: 'হৃদরোগ',
      organization: 'ঢাকা মেডিকেল কলেজ হাসপাতাল',
    });
  });
});
