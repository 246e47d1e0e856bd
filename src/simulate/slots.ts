// Arrays indexed by pod, which a simulation fills with holes (pods without a sample) and reuses from
// sync to sync.

/**
 * An empty array made holey before its first element: every instance's array then has the elements
 * kind it would reach anyway, and the JIT's code for the first run serves all the others (a day of
 * syncs for a hundred policies otherwise recompiled the sync for arrays that were not holey yet).
 */
export function emptySlots<T>(): (T | undefined)[] {
  const slots = new Array<T | undefined>(1);
  slots[0] = undefined;
  slots.length = 0;
  return slots;
}
