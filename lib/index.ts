// The public API of sessionvault: the three layers' entry points together. Each entry lists
// its exports by hand, and all give the errors of public-errors.ts.

export * from './cache/index'
export * from './store/index'
export * from './middleware/index'
