/**
 * Values worth computing once per name (a verified token's claims, a key's Z_A), at most `max`
 * of them, the oldest forgotten first. A value is remembered only once `make` returns it: a throw
 * leaves nothing behind, so what failed is tried again the next time.
 */
export class Remembered<V> {
  readonly #values = new Map<string, V>()

  constructor(readonly max: number) {}

  get(name: string, make: () => V): V {
    const known = this.#values.get(name)
    if (known !== undefined) return known
    const value = make()
    if (this.#values.size >= this.max) this.#values.delete(this.#values.keys().next().value as string)
    this.#values.set(name, value)
    return value
  }
}
