/**
 * Whether a parsed JSON value nests arrays and objects more than `limit` levels deep. Iterative, so that it answers
 * for any depth: JSON.parse itself accepts a million nested arrays, but every recursive walk after it (schema and
 * FHIR validation, JSON.stringify) overflows the stack at about ten thousand, and a RangeError would pass for a
 * transient failure and be retried to the delivery limit.
 */
export function jsonDeeperThan(value: unknown, limit: number): boolean {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (current === null || typeof current !== 'object') continue;
    if (depth + 1 > limit) return true;
    for (const child of Array.isArray(current) ? current : Object.values(current)) {
      if (child !== null && typeof child === 'object') stack.push({ value: child, depth: depth + 1 });
    }
  }
  return false;
}
