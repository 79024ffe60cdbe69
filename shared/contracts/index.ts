export * from './limits';
export * from './inbound';
export * from './validate';
export * from './outbound';
export * from './table';
export * from './recluster';
