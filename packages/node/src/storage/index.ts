/**
 * storage: one LMDB environment per member. `Backend` opens it and runs write transactions;
 * `schema.ts` lists every named database and its byte layout.
 */
export { Backend, type BackendOptions, type BinaryDb, type Durability, type WriteTxn } from './backend.js';
export * as schema from './schema.js';
