/**
 * The daemon's media engine from its configuration: `--media off` none
 * (signalling only, as before); `--rtpengine udp:HOST:PORT[,…]` the external
 * instances; otherwise an embedded rtpengine on loopback, when the binary is
 * installed. When media is on but no rtpengine can be had, the daemon still
 * starts (signalling works) and says so in one error line at start-up; media
 * verbs then fail per call with MediaUnavailableError.
 */
import { existsSync } from 'node:fs';
import type { Logger } from '../log.js';
import { MediaEngine, type NgAddress } from './engine.js';
import { DEFAULT_RTPENGINE_BINARY } from './supervisor.js';

/** The `media` part of the daemon's configuration. */
export interface MediaSettings {
  enabled: boolean;
  rtpengine?: NgAddress[];
}

/** What the daemon gives the media engine besides its settings. */
export interface MediaStartContext {
  /** Ports Patchbay uses (SIP listeners, HTTP): the embedded rtpengine keeps off them. */
  avoidPorts: readonly number[];
  logger: Logger;
  /** The rtpengine binary (default /usr/bin/rtpengine). */
  binary?: string;
}

/** Starts the media engine the settings ask for; undefined when media is off or unavailable (logged). */
export async function startMediaEngine(settings: MediaSettings, ctx: MediaStartContext): Promise<MediaEngine | undefined> {
  const log = ctx.logger.child('media');
  if (!settings.enabled) {
    log.info('media off: signalling only');
    return undefined;
  }
  if (settings.rtpengine !== undefined && settings.rtpengine.length > 0) {
    const engine = await MediaEngine.start({ mode: 'external', instances: settings.rtpengine, logger: ctx.logger });
    log.info('media through external rtpengine', { instances: settings.rtpengine.map((a) => `${a.host}:${a.port}`) });
    return engine;
  }
  const binary = ctx.binary ?? DEFAULT_RTPENGINE_BINARY;
  if (!existsSync(binary)) {
    log.error(`media unavailable: rtpengine not found at ${binary}; install rtpengine-daemon, give --rtpengine, or run with --media off (media verbs will fail)`);
    return undefined;
  }
  try {
    const engine = await MediaEngine.start({ mode: 'embedded', binary, avoidPorts: ctx.avoidPorts, logger: ctx.logger });
    const sup = engine.embedded;
    log.info('media through embedded rtpengine', { ng: `${sup?.address}:${sup?.ngPort}`, ...sup?.rtpRange });
    return engine;
  } catch (error) {
    log.error('media unavailable: the embedded rtpengine did not start (media verbs will fail)', { error: (error as Error).message });
    return undefined;
  }
}
