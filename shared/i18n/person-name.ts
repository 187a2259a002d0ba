/** Han characters: a name written in them puts the family name first, without a space, in any language's screen. */
const HAN = /\p{Script=Han}/u;

/** Whether a text holds Han characters (then a name in it reads family name first). */
export const writtenInHan = (text: string): boolean => HAN.test(text);

/**
 * A person's name as one line from FHIR's parts: given names then family name, or family name first and joined when
 * written in Han characters (张伟明, not 伟明 张). Empty when there are no parts.
 */
export function personName(name: { readonly given: readonly string[]; readonly family?: string | undefined }): string {
  const given = name.given.filter(Boolean).join(' ');
  const family = name.family ?? '';
  if (!given || !family) return (given || family).trim();
  return HAN.test(family + given) ? `${family}${given}` : `${given} ${family}`;
}
