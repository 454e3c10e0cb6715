// Type-level assertions for the typings tests (these files are only compiled, never run).

/** `true` when `A` and `B` are the same type (not merely mutually assignable; `any` is only `any`). */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** Compiles only when `T` is `true`: `type _ = Assert<Equal<typeof x, Expected>>`. */
export type Assert<T extends true> = T

