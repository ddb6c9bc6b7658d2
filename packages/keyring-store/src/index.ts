export {
  type CreatedTokenStore,
  type CreateTokenStoreOptions,
  createTokenStore,
  defaultStoreDirectory,
  type StoreEnvironment,
  TOKEN_STORE_KINDS,
  type TokenStoreKind,
} from "./create.js";
export { FileTokenStore, type FileTokenStoreOptions } from "./file.js";
export { MemoryTokenStore } from "./memory.js";
