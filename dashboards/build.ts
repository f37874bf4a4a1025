// Generates the Grafana dashboards in dashboards/grafana/*.json from the panel list below, so
// every query lives in one place and the Prometheus test (dashboards/test/prometheus.test.ts)
// evaluates exactly what the JSON holds. Run after editing: `npx node dashboards/build.ts`
// (the test fails when the committed JSON differs from what this prints).
//
// Every panel and variable uses the datasource `${DS_PROMETHEUS}`: the import dialog asks for
// it (__inputs), and a provisioned copy resolves it through the datasource variable of the
// same name. Only metric names perpx exports (engine/telemetry/producer.ts, the load
// generator's dashboards/generator-exporter.ts) appear in the queries.

import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const DS = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

/** Selector of the job/instance variables, spliced into every perpx query. */
const SEL = 'job=~"$job",instance=~"$instance"';
const LG = 'job=~"$loadgen_job"';
const RI = '$__rate_interval';

export interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  kind?: 'timeseries' | 'stat';
  stack?: boolean;
  targets: { expr: string; legend: string }[];
}

interface RowSpec {
  row: string;
  panels: PanelSpec[];
}

interface DashboardSpec {
  uid: string;
  file: string;
  title: string;
  description: string;
  variables: ('job' | 'instance' | 'route' | 'thread' | 'loadgen_job')[];
  rows: RowSpec[];
}

const q = (expr: string, legend: string) => ({ expr, legend });
/** Mean (sum ÷ count) and p99 of a histogram metric, over the dashboard's rate interval. */
const meanAndP99 = (metric: string) => [
  q(`sum(rate(${metric}_sum{${SEL}}[${RI}])) / sum(rate(${metric}_count{${SEL}}[${RI}]))`, 'mean'),
  q(`histogram_quantile(0.99, sum by (le) (rate(${metric}_bucket{${SEL}}[${RI}])))`, 'p99'),
];

export const DASHBOARDS: DashboardSpec[] = [
  {
    uid: 'perpx-gateway',
    file: 'perpx-gateway.json',
    title: 'perpx — gateway (RED per route, shed load, WebSocket)',
    description: 'Rate, errors and duration of every REST route and WebSocket API method, load shed (-1008), WebSocket connections and drops.',
    variables: ['job', 'instance', 'route'],
    rows: [
      {
        row: 'RED per route',
        panels: [
          { title: 'Requests per second by route', description: 'Answered REST requests per route template. (WebSocket API orders are not counted here yet: the WS API records no request metrics; see the WebSocket row.)', unit: 'reqps', stack: true,
            targets: [q(`sum by (method, route) (rate(perpx_http_requests_total{${SEL},route=~"$route"}[${RI}]))`, '{{method}} {{route}}')] },
          { title: 'Errors per second by route and status', description: 'Non-2xx answers. 400 on DELETE /fapi/v1/order is usually -2011 (the order already filled): business rejections, not faults.', unit: 'reqps',
            targets: [q(`sum by (method, route, status) (rate(perpx_http_requests_total{${SEL},route=~"$route",status!~"2.."}[${RI}]))`, '{{method}} {{route}} {{status}}')] },
          { title: 'Error ratio by route', description: 'Share of non-2xx answers per route.', unit: 'percentunit',
            targets: [q(`sum by (method, route) (rate(perpx_http_requests_total{${SEL},route=~"$route",status!~"2.."}[${RI}])) / sum by (method, route) (rate(perpx_http_requests_total{${SEL},route=~"$route"}[${RI}]))`, '{{method}} {{route}}')] },
          { title: 'Request duration p99 by route', description: 'Head parsed → response written, server side (histogram_quantile over 25 µs … 10 s buckets).', unit: 's',
            targets: [q(`histogram_quantile(0.99, sum by (le, method, route) (rate(perpx_http_request_duration_seconds_bucket{${SEL},route=~"$route"}[${RI}])))`, 'p99 {{method}} {{route}}')] },
          { title: 'Request duration p50 by route', description: 'Median server-side request duration.', unit: 's',
            targets: [q(`histogram_quantile(0.5, sum by (le, method, route) (rate(perpx_http_request_duration_seconds_bucket{${SEL},route=~"$route"}[${RI}])))`, 'p50 {{method}} {{route}}')] },
          { title: 'Load shed (-1008) per second', description: 'Answers with code -1008 (503): the engine ring or the pending table was full, or the server is shutting down. Any sustained rate means overload.', unit: 'reqps',
            targets: [q(`sum by (instance) (rate(perpx_gateway_errors_total{${SEL},code="-1008"}[${RI}]))`, 'shed {{instance}}')] },
          { title: 'Gateway errors by Binance code', description: 'Every {code,msg} answer of the REST gateway by code.', unit: 'reqps', stack: true,
            targets: [q(`sum by (code) (rate(perpx_gateway_errors_total{${SEL}}[${RI}]))`, '{{code}}')] },
        ],
      },
      {
        row: 'WebSocket',
        panels: [
          { title: 'Open WebSocket connections', description: 'Market, user-data and WebSocket API connections currently open.', unit: 'short', kind: 'stat',
            targets: [q(`sum(perpx_ws_connections{${SEL}})`, 'connections')] },
          { title: 'WebSocket connections opened and refused per second', description: 'Upgrades accepted, and refused (connection limit, bad stream name, shutting down).', unit: 'ops',
            targets: [q(`sum(rate(perpx_ws_connections_opened_total{${SEL}}[${RI}]))`, 'opened'), q(`sum(rate(perpx_ws_connections_rejected_total{${SEL}}[${RI}]))`, 'refused')] },
          { title: 'WebSocket drops per second by reason', description: 'Connections the server closed: slow_consumer (outbound buffer full), ping_timeout (no pong).', unit: 'ops',
            targets: [q(`sum by (reason) (rate(perpx_ws_dropped_total{${SEL}}[${RI}]))`, '{{reason}}')] },
          { title: 'WebSocket messages per second', description: 'Frames received and sent.', unit: 'ops',
            targets: [q(`sum by (direction) (rate(perpx_ws_messages_total{${SEL}}[${RI}]))`, '{{direction}}')] },
        ],
      },
    ],
  },
  {
    uid: 'perpx-engine',
    file: 'perpx-engine.json',
    title: 'perpx — engine, journal and runtime',
    description: 'Where an order spends its time (pipeline stages), queue depth, journal fsync and group commit, liquidations, event loop, GC, heap, CPU per thread.',
    variables: ['job', 'instance', 'thread'],
    rows: [
      {
        row: 'Order pipeline',
        panels: [
          { title: 'Stage latency p99', description: 'decode_auth (gateway: parse, auth, filters) → queue_wait (ring until the engine takes it) → engine_apply → journal_wait (until the fsync covering it) → encode_write; host_round_trip = submit → reply.', unit: 's',
            targets: [q(`histogram_quantile(0.99, sum by (le, stage) (rate(perpx_stage_duration_seconds_bucket{${SEL}}[${RI}])))`, '{{stage}}')] },
          { title: 'Stage latency p50', description: 'Median time per stage.', unit: 's',
            targets: [q(`histogram_quantile(0.5, sum by (le, stage) (rate(perpx_stage_duration_seconds_bucket{${SEL}}[${RI}])))`, '{{stage}}')] },
          { title: 'Mean time per order by stage (stacked)', description: 'Mean stage time; the stacked height is the mean server time of an order (host_round_trip excluded: it contains queue_wait, engine_apply and journal_wait).', unit: 's', stack: true,
            targets: [q(`sum by (stage) (rate(perpx_stage_duration_seconds_sum{${SEL},stage!="host_round_trip"}[${RI}])) / sum by (stage) (rate(perpx_stage_duration_seconds_count{${SEL},stage!="host_round_trip"}[${RI}]))`, '{{stage}}')] },
          { title: 'Queue depth (commands in flight to the engine)', description: 'Commands submitted by the gateway and not yet answered: in the ring, being applied, or waiting for their fsync. Bounded by the pending table (default 16,384); at the bound new orders get -1008.', unit: 'short',
            targets: [q(`sum by (instance) (perpx_host_inflight_commands{${SEL}})`, 'in flight {{instance}}')] },
          { title: 'Commands applied per second', description: 'Commands the engine thread applied (orders, cancels, clock ticks, admin).', unit: 'ops',
            targets: [q(`sum(rate(perpx_engine_batch_size_sum{${SEL}}[${RI}]))`, 'commands/s')] },
          { title: 'Engine batch size', description: 'Commands the engine thread takes off the ring per drain: mean and p99. Larger batches under load amortize the hand-off.', unit: 'short',
            targets: meanAndP99('perpx_engine_batch_size') },
          { title: 'Liquidations per second', description: 'Liquidation events applied (one per liquidated position). A burst is a cascade.', unit: 'ops',
            targets: [q(`sum(rate(perpx_liquidations_total{${SEL}}[${RI}]))`, 'liquidations/s')] },
        ],
      },
      {
        row: 'Journal',
        panels: [
          { title: 'Journal fsync latency p50 / p99', description: 'Each fsync of the journal segment (group commit). Acknowledgements wait for it under the fsync policy.', unit: 's',
            targets: [
              q(`histogram_quantile(0.5, sum by (le) (rate(perpx_journal_fsync_duration_seconds_bucket{${SEL}}[${RI}])))`, 'p50'),
              q(`histogram_quantile(0.99, sum by (le) (rate(perpx_journal_fsync_duration_seconds_bucket{${SEL}}[${RI}])))`, 'p99'),
            ] },
          { title: 'Journal group commit size', description: 'Commands made durable per fsync: mean and p99. Grows with load (that is how the journal keeps up).', unit: 'short',
            targets: meanAndP99('perpx_journal_batch_size') },
          { title: 'fsyncs per second', description: 'Group commits per second (the device tops out near 1,650 flushes/s on the build machine).', unit: 'ops',
            targets: [q(`sum(rate(perpx_journal_fsync_duration_seconds_count{${SEL}}[${RI}]))`, 'fsyncs/s')] },
          { title: 'Journal write rate', description: 'Bytes appended to the journal per second (made durable by the fsyncs).', unit: 'Bps',
            targets: [q(`sum(rate(perpx_journal_written_bytes_total{${SEL}}[${RI}]))`, 'bytes/s')] },
        ],
      },
      {
        row: 'Runtime per thread',
        panels: [
          { title: 'Event-loop delay p99 and max by thread', description: 'monitorEventLoopDelay over the last second (10 ms resolution subtracted). A blocked loop delays every request on that thread.', unit: 's',
            targets: [q(`max by (thread) (perpx_eventloop_delay_seconds{${SEL},thread=~"$thread",stat="p99"})`, 'p99 {{thread}}'), q(`max by (thread) (perpx_eventloop_delay_seconds{${SEL},thread=~"$thread",stat="max"})`, 'max {{thread}}')] },
          { title: 'Event-loop utilization by thread', description: 'Share of the last second the thread was busy (1 = saturated).', unit: 'percentunit',
            targets: [q(`max by (thread) (perpx_eventloop_utilization{${SEL},thread=~"$thread"})`, '{{thread}}')] },
          { title: 'GC pause time per second by thread and kind', description: 'Seconds of GC pause per second (PerformanceObserver).', unit: 's', stack: true,
            targets: [q(`sum by (thread, kind) (rate(perpx_gc_duration_seconds_sum{${SEL},thread=~"$thread"}[${RI}]))`, '{{thread}} {{kind}}')] },
          { title: 'GC pauses per second by thread', description: 'Number of GC pauses.', unit: 'ops',
            targets: [q(`sum by (thread) (rate(perpx_gc_duration_seconds_count{${SEL},thread=~"$thread"}[${RI}]))`, '{{thread}}')] },
          { title: 'Heap used by thread', description: 'V8 heap in use per thread.', unit: 'bytes',
            targets: [q(`max by (thread) (perpx_heap_used_bytes{${SEL},thread=~"$thread"})`, '{{thread}}')] },
          { title: 'Allocation rate by thread', description: 'Bytes allocated on the V8 heap per second (heap growth + bytes GC freed, sampled each second).', unit: 'Bps',
            targets: [q(`sum by (thread) (rate(perpx_heap_allocated_bytes_total{${SEL},thread=~"$thread"}[${RI}]))`, '{{thread}}')] },
          { title: 'Process CPU (cores)', description: 'CPU seconds per second of the whole process (all threads) by mode.', unit: 'short', stack: true,
            targets: [q(`sum by (mode) (rate(perpx_process_cpu_seconds_total{${SEL}}[${RI}]))`, '{{mode}}')] },
          { title: 'CPU per request', description: 'Process CPU time (all threads) per answered request: an efficiency figure perpx compare gates on (cpu_per_request).', unit: 's',
            targets: [q(`sum(rate(perpx_process_cpu_seconds_total{${SEL}}[${RI}])) / sum(rate(perpx_http_requests_total{${SEL}}[${RI}]))`, 'CPU per request')] },
          { title: 'Heap allocated per request', description: 'V8 heap bytes allocated (all threads) per answered request: perpx compare\'s alloc_per_request.', unit: 'bytes',
            targets: [q(`sum(rate(perpx_heap_allocated_bytes_total{${SEL}}[${RI}])) / sum(rate(perpx_http_requests_total{${SEL}}[${RI}]))`, 'allocated per request')] },
          { title: 'Resident memory', description: 'RSS of the perpx process.', unit: 'bytes', kind: 'stat',
            targets: [q(`max by (instance) (perpx_process_resident_memory_bytes{${SEL}})`, '{{instance}}')] },
        ],
      },
    ],
  },
  {
    uid: 'perpx-loadgen',
    file: 'perpx-loadgen.json',
    title: 'perpx — load generator health',
    description: 'The load generator\'s own numbers (perpx load/run --metrics-port): is it keeping its schedule? Read this before blaming the server.',
    variables: ['loadgen_job'],
    rows: [
      {
        row: 'Load generator',
        panels: [
          { title: 'Offered, sent and completed per second', description: 'Offered = the profile; sent below offered means the generator or its in-flight limit held requests; completed below sent means the target fell behind.', unit: 'reqps',
            targets: [q(`sum by (scenario) (perpx_loadgen_offered_rps{${LG}})`, 'offered {{scenario}}'), q(`sum by (scenario) (perpx_loadgen_sent_rps{${LG}})`, 'sent {{scenario}}'), q(`sum by (scenario) (perpx_loadgen_completed_rps{${LG}})`, 'completed {{scenario}}')] },
          { title: 'In flight and backlog', description: 'Requests outstanding, and arrivals waiting for a free in-flight slot (client-side queueing: corrected latency grows).', unit: 'short',
            targets: [q(`sum by (scenario) (perpx_loadgen_in_flight{${LG}})`, 'in flight {{scenario}}'), q(`sum by (scenario) (perpx_loadgen_backlog{${LG}})`, 'backlog {{scenario}}')] },
          { title: 'Worst schedule lag per second', description: 'Actual − intended send time, worst of the second. Above ~5 ms the run is invalid: the latencies would blame the target for the generator\'s delay.', unit: 's',
            targets: [q(`max by (scenario) (perpx_loadgen_schedule_lag_max_seconds{${LG}})`, 'lag max {{scenario}}')] },
          { title: 'Corrected p99 (generator side)', description: 'p99 from the intended send time of the latest fully completed second (coordinated-omission corrected).', unit: 's',
            targets: [q(`max by (scenario) (perpx_loadgen_corrected_p99_seconds{${LG}})`, 'p99 {{scenario}}')] },
          { title: 'Generator errors per second', description: 'Failed (4xx), indeterminate (timeouts, 5xx) and dropped requests per second.', unit: 'reqps',
            targets: [q(`sum by (scenario) (rate(perpx_loadgen_errors_total{${LG}}[${RI}]))`, 'errors {{scenario}}')] },
          { title: 'Run in progress', description: '1 while a load run goes on.', unit: 'short', kind: 'stat',
            targets: [q(`max(perpx_loadgen_up{${LG}})`, 'up')] },
        ],
      },
    ],
  },
];

function variable(name: DashboardSpec['variables'][number]): object {
  const base = { datasource: DS, includeAll: true, multi: true, refresh: 2, sort: 1, type: 'query', current: {}, options: [], hide: 0, skipUrlSync: false, regex: '' };
  const def: Record<string, { label: string; query: string; allValue?: string }> = {
    job: { label: 'job', query: 'label_values(perpx_http_requests_total, job)' },
    instance: { label: 'instance', query: 'label_values(perpx_http_requests_total{job=~"$job"}, instance)' },
    route: { label: 'route', query: 'label_values(perpx_http_requests_total{job=~"$job",instance=~"$instance"}, route)' },
    thread: { label: 'thread', query: 'label_values(perpx_eventloop_utilization{job=~"$job",instance=~"$instance"}, thread)' },
    loadgen_job: { label: 'load generator job', query: 'label_values(perpx_loadgen_up, job)' },
  };
  const d = def[name]!;
  return { ...base, name, label: d.label, query: { query: d.query, refId: `${name}-query` }, definition: d.query };
}

function panel(p: PanelSpec, id: number, x: number, y: number): object {
  const kind = p.kind ?? 'timeseries';
  const targets = p.targets.map((t, i) => ({ refId: String.fromCharCode(65 + i), datasource: DS, expr: t.expr, legendFormat: t.legend, range: true, editorMode: 'code' }));
  const common = { id, type: kind, title: p.title, description: p.description, datasource: DS, gridPos: { h: 8, w: 12, x, y }, targets };
  if (kind === 'stat') {
    return { ...common, fieldConfig: { defaults: { unit: p.unit, color: { mode: 'thresholds' }, thresholds: { mode: 'absolute', steps: [{ color: 'green', value: null }] } }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto', justifyMode: 'auto', orientation: 'auto' } };
  }
  return {
    ...common,
    fieldConfig: {
      defaults: { unit: p.unit, min: 0, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: p.stack === true ? 30 : 8, showPoints: 'never', spanNulls: true, stacking: { mode: p.stack === true ? 'normal' : 'none', group: 'A' } } },
      overrides: [],
    },
    options: { legend: { displayMode: 'table', placement: 'bottom', showLegend: true, calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}

export function buildDashboard(d: DashboardSpec): object {
  const panels: object[] = [];
  let id = 1;
  let y = 0;
  for (const row of d.rows) {
    panels.push({ id: id++, type: 'row', title: row.row, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    row.panels.forEach((p, i) => {
      panels.push(panel(p, id++, (i % 2) * 12, y + Math.floor(i / 2) * 8));
    });
    y += Math.ceil(row.panels.length / 2) * 8;
  }
  const kinds = [...new Set(d.rows.flatMap((r) => r.panels.map((p) => p.kind ?? 'timeseries')))];
  return {
    __inputs: [{ name: 'DS_PROMETHEUS', label: 'Prometheus', description: 'The Prometheus that scrapes perpx (dashboards/prometheus.yml)', type: 'datasource', pluginId: 'prometheus', pluginName: 'Prometheus' }],
    __requires: [
      { type: 'grafana', id: 'grafana', name: 'Grafana', version: '10.0.0' },
      { type: 'datasource', id: 'prometheus', name: 'Prometheus', version: '1.0.0' },
      ...kinds.map((k) => ({ type: 'panel', id: k, name: k === 'stat' ? 'Stat' : 'Time series', version: '' })),
    ],
    uid: d.uid,
    title: d.title,
    description: d.description,
    tags: ['perpx'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    refresh: '5s',
    time: { from: 'now-15m', to: 'now' },
    timepicker: {},
    timezone: '',
    annotations: { list: [{ builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' }] },
    links: [{ type: 'dashboards', tags: ['perpx'], asDropdown: true, title: 'perpx dashboards', includeVars: true, keepTime: true }],
    templating: {
      list: [
        // Resolves ${DS_PROMETHEUS} when the file is provisioned rather than imported through the dialog.
        { name: 'DS_PROMETHEUS', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0, refresh: 1, regex: '', options: [], skipUrlSync: false },
        ...d.variables.map(variable),
      ],
    },
    panels,
  };
}

export function dashboardFiles(): { file: string; json: string }[] {
  return DASHBOARDS.map((d) => ({ file: d.file, json: `${JSON.stringify(buildDashboard(d), null, 2)}\n` }));
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && fileURLToPath(new URL(`file://${process.argv[1]}`)) === self) {
  const dir = join(dirname(self), 'grafana');
  mkdirSync(dir, { recursive: true });
  for (const { file, json } of dashboardFiles()) {
    writeFileSync(join(dir, file), json);
    process.stdout.write(`wrote ${join(dir, file)}\n`);
  }
}
