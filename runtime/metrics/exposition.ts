/**
 * The Prometheus text exposition format, version 0.0.4, written by hand:
 * `# HELP` and `# TYPE` lines, then one `name{label="value"} number` line per
 * sample; histograms as cumulative `_bucket{le=…}`, `_sum` and `_count`.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

/** The Content-Type of the exposition. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Label names and values of one sample. */
export type Labels = Readonly<Record<string, string>>;

/** One sample of a counter or gauge. */
export interface Sample {
  labels?: Labels;
  value: number;
}

/** Escape a label value: backslash, double quote and line feed. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** A number as Prometheus writes it (`+Inf`, `-Inf`, `NaN`). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function labelText(labels: Labels | undefined): string {
  if (!labels) return '';
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
}

/** A histogram with fixed upper bounds (seconds, bytes…), each observation counted in one bucket. */
export class Histogram {
  readonly bounds: readonly number[];
  readonly #counts: number[];
  #sum = 0;
  #count = 0;

  /** @param bounds - increasing finite upper bounds; `+Inf` is implied */
  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.#counts = new Array<number>(bounds.length).fill(0);
  }

  observe(value: number): void {
    this.#sum += value;
    this.#count++;
    for (let i = 0; i < this.bounds.length; i++) {
      if (value <= this.bounds[i]!) {
        this.#counts[i]!++;
        return;
      }
    }
  }

  get count(): number {
    return this.#count;
  }

  get sum(): number {
    return this.#sum;
  }

  /** @return cumulative counts per bound, then the total for `+Inf`. */
  cumulative(): number[] {
    const out: number[] = [];
    let running = 0;
    for (const c of this.#counts) {
      running += c;
      out.push(running);
    }
    out.push(this.#count);
    return out;
  }
}

/** Builds one exposition document. */
export class Exposition {
  readonly #lines: string[] = [];

  #header(name: string, type: string, help: string): void {
    this.#lines.push(`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`);
  }

  #samples(name: string, samples: readonly Sample[]): void {
    for (const s of samples) this.#lines.push(`${name}${labelText(s.labels)} ${formatValue(s.value)}`);
  }

  /** A monotonically increasing count; by convention `name` ends in `_total`. */
  counter(name: string, help: string, samples: readonly Sample[]): this {
    this.#header(name, 'counter', help);
    this.#samples(name, samples);
    return this;
  }

  /** A value that goes up and down. */
  gauge(name: string, help: string, samples: readonly Sample[]): this {
    this.#header(name, 'gauge', help);
    this.#samples(name, samples);
    return this;
  }

  /** A histogram; `series` pairs label sets with their histogram. */
  histogram(name: string, help: string, series: ReadonlyArray<{ labels?: Labels; histogram: Histogram }>): this {
    this.#header(name, 'histogram', help);
    for (const { labels, histogram } of series) {
      const cumulative = histogram.cumulative();
      histogram.bounds.forEach((bound, i) => {
        this.#lines.push(`${name}_bucket${labelText({ ...labels, le: formatValue(bound) })} ${cumulative[i]}`);
      });
      this.#lines.push(`${name}_bucket${labelText({ ...labels, le: '+Inf' })} ${histogram.count}`);
      this.#lines.push(`${name}_sum${labelText(labels)} ${formatValue(histogram.sum)}`);
      this.#lines.push(`${name}_count${labelText(labels)} ${histogram.count}`);
    }
    return this;
  }

  /** @return the document; it ends with a line feed. */
  toString(): string {
    return this.#lines.length === 0 ? '' : `${this.#lines.join('\n')}\n`;
  }
}

/** @return samples from a `{key: count}` map, one label named `label`. */
export function fromRecord(record: Readonly<Record<string, number>>, label: string, extra: Labels = {}): Sample[] {
  return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ labels: { ...extra, [label]: key }, value }));
}
