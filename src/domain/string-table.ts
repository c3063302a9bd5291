// Strings interned as small integers: each distinct string stored once, referred to by its index.

export class StringTable {
  private readonly ids = new Map<string, number>();
  private readonly values: string[] = [];

  id(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(s);
      this.ids.set(s, id);
    }
    return id;
  }

  /** the id of a string already interned, else -1 */
  find(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  get(id: number): string {
    return this.values[id];
  }

  /** every string, by id */
  get all(): readonly string[] {
    return this.values;
  }
}
