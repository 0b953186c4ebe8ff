// The errors every entry point exports: one module, so `sessionvault/cache`, `/store`,
// `/middleware` and the root all give the same classes.

export {
  SessionVaultError,
  OptionError,
  UsageError,
  CacheError,
  isSessionVaultError,
  isCacheError,
  isOptionError,
  isUsageError,
  isUnavailableError,
  isFullError,
} from './errors'
export type { ErrorCode, CacheErrorCode } from './errors'
