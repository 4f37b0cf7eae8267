/**
 * Webhook client: signed Twilio-compatible HTTP requests.
 */
export * from './client.js';
export * from './errors.js';
export * from './params.js';
export * from './sign.js';
