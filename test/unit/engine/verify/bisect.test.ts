/** The range arithmetic of the bisection on its own: cuts at sample keys, and cuts by value for integer keys. */
import { describe, expect, it } from 'vitest';
import { numericParts, splitRange } from '../../../../lambdas/engine/verify/bisect.js';

describe('splitRange', () => {
  it('cuts at each distinct bound, dropping one equal to the range end, and keeps both ends', () => {
    expect(splitRange({ lower: null, upper: ['9'] }, [['3'], ['3'], ['6'], ['9']])).toEqual([
      { lower: null, upper: ['3'] },
      { lower: ['3'], upper: ['6'] },
      { lower: ['6'], upper: ['9'] },
    ]);
    expect(splitRange({ lower: ['1'], upper: null }, [])).toEqual([{ lower: ['1'], upper: null }]);
  });
});

describe('numericParts', () => {
  it('cuts an open range between the smallest and greatest key, open at both ends', () => {
    const parts = numericParts({ lower: null, upper: null }, 1n, 100n, 4)!;
    expect(parts).toEqual([
      { lower: null, upper: ['25'] },
      { lower: ['25'], upper: ['50'] },
      { lower: ['50'], upper: ['75'] },
      { lower: ['75'], upper: null },
    ]);
  });

  it('cuts a bounded range between its own bounds, exactly beyond 2^53', () => {
    const lo = 2n ** 60n;
    const parts = numericParts({ lower: [String(lo)], upper: [String(lo + 8n)] }, 0n, 0n, 2)!;
    expect(parts).toEqual([
      { lower: [String(lo)], upper: [String(lo + 4n)] },
      { lower: [String(lo + 4n)], upper: [String(lo + 8n)] },
    ]);
  });

  it('cannot cut a span narrower than the parts', () => {
    expect(numericParts({ lower: ['5'], upper: ['7'] }, 0n, 0n, 4)).toBeNull();
    expect(numericParts({ lower: null, upper: null }, 3n, 3n, 2)).toBeNull();
  });
});
