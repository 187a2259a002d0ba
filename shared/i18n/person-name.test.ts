import { describe, expect, it } from 'vitest';
import { personName } from './person-name.ts';

describe('person names', () => {
  it('puts a Han family name first without a space, and other names given first', () => {
    expect(personName({ given: ['伟明'], family: '张' })).toBe('张伟明');
    expect(personName({ given: ['Åse', 'Marie'], family: 'Ødegård' })).toBe('Åse Marie Ødegård');
    expect(personName({ given: ['আয়েশা'], family: 'রহমান' })).toBe('আয়েশা রহমান');
    expect(personName({ given: [], family: '张' })).toBe('张');
    expect(personName({ given: [''], family: undefined })).toBe('');
  });
});
