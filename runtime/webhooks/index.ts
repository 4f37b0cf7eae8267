/**
 * Webhook client: signed Twilio-compatible HTTP requests (issue 4).
 */
export * from './client.js';
export * from './errors.js';
export * from './params.js';
export * from './sign.js';
