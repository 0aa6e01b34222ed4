import { describe, expect, it } from 'vitest';
import { IdSet } from '../../src/onboarding/id-set.ts';

describe('IdSet', () => {
  it('finds duplicates before and after spilling to its scratch file', () => {
    const ids = new IdSet(3);
    expect(['a', 'b', 'a', 'c'].map((id) => ids.add(id))).toEqual([true, true, false, true]);
    expect(ids.add('d')).toBe(true); // the fourth id spills the set to disk
    expect(['a', 'd', 'e', 'e'].map((id) => ids.add(id))).toEqual([false, false, true, false]);
    for (let i = 0; i < 25_000; i += 1) ids.add(`x${i}`);
    expect(ids.add('x24999')).toBe(false);
    expect(ids.has('b')).toBe(true);
    expect(ids.has('zz')).toBe(false);
    ids.close();
  });
});
