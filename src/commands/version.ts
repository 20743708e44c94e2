/** The Redis version ringkv reports: clients gate features on it (HELLO, INFO redis_version). */
export const REDIS_VERSION = '7.2.5';
export const RINGKV_VERSION = '0.1.0';
