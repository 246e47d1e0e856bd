// Cached objects repeat the same strings many times: every child of a policy carries the policy's name
// in its name, labels, selector and owner reference and the policy's uid in that reference; thousands of
// objects carry the same images, condition messages, and timestamps of the same second when they were
// created together. JSON.parse gives each occurrence its own copy
// (V8 shares only keys and values of up to 10 characters), and strings are most of what a cached
// object weighs. Interning them as objects enter a cache makes equal strings one string.

/** Strings shorter than this are already shared by JSON.parse, or cost less than a lookup. */
const MIN_LENGTH = 11;
/** Longer strings (a large annotation) are rarely repeated; they are left as they are. */
const MAX_LENGTH = 512;

/**
 * A table of strings seen, bounded: when it holds `capacity` strings it starts again empty, so that
 * strings no cached object holds any more (a deleted object's name) do not stay forever. Strings shared
 * by many objects are back in the table as soon as the next object carrying them arrives.
 */
export class StringTable {
  private readonly strings = new Map<string, string>();

  constructor(private readonly capacity = 16_384) {}

  /** The table's copy of `value`, which becomes the copy when there is none. */
  intern(value: string): string {
    const found = this.strings.get(value);
    if (found !== undefined) return found;
    if (this.strings.size >= this.capacity) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }

  get size(): number {
    return this.strings.size;
  }
}

/** The table the informers of a process share: the same strings occur in objects of every kind. */
export const sharedStrings = new StringTable();

/**
 * Replaces, in place, the string values of a JSON object from the server with the table's copies, and
 * returns it. Frozen objects (already cached) are left as they are.
 */
export function internStrings<T>(value: T, table: StringTable = sharedStrings): T {
  internInto(value, table);
  return value;
}

function internInto(value: unknown, table: StringTable): void {
  if (typeof value !== "object" || value === null || Object.isFrozen(value)) return;
  if (Array.isArray(value)) {
    const elements: unknown[] = value;
    for (let index = 0; index < elements.length; index++) {
      const element = elements[index];
      if (typeof element === "string")
        elements[index] = internable(element) ? table.intern(element) : element;
      else internInto(element, table);
    }
    return;
  }
  const record = value as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    const fieldValue = record[field];
    if (typeof fieldValue === "string") {
      if (internable(fieldValue)) record[field] = table.intern(fieldValue);
    } else {
      internInto(fieldValue, table);
    }
  }
}

function internable(value: string): boolean {
  return value.length >= MIN_LENGTH && value.length <= MAX_LENGTH;
}
