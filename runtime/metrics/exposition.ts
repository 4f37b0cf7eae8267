/**
 * The Content-Type of `GET /metrics`: the Prometheus text exposition
 * format, version 0.0.4, which prom-client writes.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */
import { Registry } from 'prom-client';

/** The Content-Type of the exposition. */
export const CONTENT_TYPE: string = Registry.PROMETHEUS_CONTENT_TYPE;
