export * from './clock.js';
export * from './errors.js';
export * from './logger.js';
export * from './find-command.js';
export * from './lease-expiry.js';
export * from './poll-until.js';
export * from './seeded-random.js';
