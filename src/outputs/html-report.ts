/**
 * `--report report.html`: one self-contained page (no network, no external assets). It opens
 * with the triage view (server runs, what to do first, each with its cause and first fix), then
 * a timeline of incidents by class and subject, a sortable table, and each incident expandable
 * to its diagnosis and evidence. Rendered here, so it reads without JavaScript; a small inline
 * script adds sorting, expanding, and chart-to-row links. Generic: it knows no rule.
 *
 * The timeline compresses long quiet gaps (shown as a break), so one incident far away in time
 * does not squash all the others against one edge.
 */
import type { AnalyzerStats } from '../incidents/stats';
import type { Incident } from '../incidents/incident';
import { evidenceRanges, factText, subjectLabel } from './pretty';
import { SummaryCollector, type Problem, type RootProblem } from './summary';

/** Incidents kept for the page; more are counted and said to be left out. */
export const REPORT_MAX_INCIDENTS = 5000;
/** Evidence kept per incident in the page, and characters per line: the NDJSON output has all of it. */
export const REPORT_EVIDENCE_LINES = 12;
export const REPORT_EVIDENCE_CHARS = 1000;

export interface ReportContext {
  stats: AnalyzerStats;
  inputs: readonly string[];
  generatedAt: Date;
}

const PALETTE = ['#c0392b', '#2471a3', '#7d3c98', '#d68910', '#138d75', '#566573', '#a04000', '#1e8449', '#1a5276', '#943126', '#6c3483'];

/**
 * The incident as the page shows it: its first evidence lines, each cut to a readable length.
 * What the report holds then stays small whatever the lines were (5,000 incidents of 32 lines of
 * 2 KB each made a 300 MB page and a 2.9 GB process).
 */
function forThePage(incident: Incident): Incident {
  const long = incident.evidence.some((e) => e.text.length > REPORT_EVIDENCE_CHARS);
  if (incident.evidence.length <= REPORT_EVIDENCE_LINES && !long) return incident;
  const kept = incident.evidence.slice(0, REPORT_EVIDENCE_LINES).map((e) =>
    e.text.length <= REPORT_EVIDENCE_CHARS ? e : { ...e, text: e.text.slice(0, REPORT_EVIDENCE_CHARS), length: e.length ?? e.text.length },
  );
  return { ...incident, evidence: kept, evidenceOmitted: incident.evidenceOmitted + incident.evidence.length - kept.length };
}

export class HtmlReport {
  private readonly incidents: Incident[] = [];
  private readonly triage = new SummaryCollector();
  private leftOut = 0;

  add(incident: Incident): void {
    this.triage.add(incident);
    if (this.incidents.length < REPORT_MAX_INCIDENTS) this.incidents.push(forThePage(incident));
    else this.leftOut++;
  }

  render(context: ReportContext): string {
    const parts: string[] = [];
    this.renderTo(context, (text) => parts.push(text));
    return parts.join('');
  }

  /**
   * The page in pieces, in order (a row of the table at a time): written straight to a file, a
   * report of thousands of incidents never exists whole in memory.
   */
  renderTo(context: ReportContext, write: (text: string) => void): void {
    const incidents = [...this.incidents].sort((a, b) => (a.firstSeen ?? '').localeCompare(b.firstSeen ?? ''));
    const total = incidents.length + this.leftOut;
    const title = `Nexus log analysis: ${total === 1 ? '1 incident' : `${total} incidents`}`;
    const timed = incidents.filter((i) => i.firstSeen !== null);
    const range = timed.length === 0 ? '' : ` from ${short((timed[0] as Incident).firstSeen)} to ${short(timed.reduce((last, i) => ((i.lastSeen ?? '') > last ? (i.lastSeen as string) : last), ''))} UTC`;
    const { stats } = context;
    write(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${escape(title)}</h1>
<p class="meta">${escape(`${stats.lines} lines read (${stats.events} records, ${stats.unparsedLines} unparsed) from ${context.inputs.length} input(s)${range}. Generated ${context.generatedAt.toISOString()} by nexus-log-analyzer.`)}</p>
<p class="meta inputs">${context.inputs.slice(0, 30).map((input) => `<code>${escape(input)}</code>`).join(' ')}${context.inputs.length > 30 ? ` and ${context.inputs.length - 30} more` : ''}</p>
</header>
<main>
${triageSection(this.triage.serverRuns(), this.triage.rootProblems(8))}
<section aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
${timeline(incidents)}
</section>
<section aria-labelledby="table-title">
<h2 id="table-title">Incidents</h2>
${this.leftOut > 0 ? `<p class="note">The first ${REPORT_MAX_INCIDENTS} incidents are shown; ${this.leftOut} more were left out of this page (the NDJSON output has them all).</p>` : ''}
`);
    if (incidents.length === 0) write('<p class="empty">No incidents: nothing failed in the logs read.</p>');
    else tableTo(incidents, write);
    write(`
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`);
  }
}

function triageSection(runs: readonly Problem[], roots: readonly RootProblem[]): string {
  if (runs.length === 0 && roots.length === 0) return '';
  const runList =
    runs.length === 0
      ? ''
      : `<h3>Server runs</h3><ol class="runs">${runs
          .map((run) => `<li class="${run.severity === 'info' ? 'run' : 'run bad'}"><span class="when">${escape(`${short(run.firstSeen)} .. ${short(run.lastSeen)}`)}</span> ${escape(run.summary)}</li>`)
          .join('')}</ol>`;
  const first =
    roots.length === 0
      ? ''
      : `<h3>What to do first</h3><ol class="first">${roots
          .map(
            (p) =>
              `<li><a href="#incident-${escape(p.id)}" class="sev ${p.severity}">${escape(p.severity)}</a> <strong>${escape(p.title)}</strong>` +
              `${p.subjects.length === 0 ? '' : ` · ${escape(p.subjects.join(', '))}${p.subjectCount > p.subjects.length ? ` and ${p.subjectCount - p.subjects.length} more` : ''}`}` +
              `${p.incidents > 1 ? ` <span class="count">(${p.incidents} incidents)</span>` : ''}` +
              `<p>${escape(p.summary)}</p><p class="cause">Cause: <code>${escape(p.cause)}</code>${p.consequences > 0 ? ` · explains ${p.consequences} other incident(s)` : ''}</p>` +
              `${p.fix === null ? '' : `<p class="fix">Fix: ${escape(p.fix)}</p>`}</li>`,
          )
          .join('')}</ol>`;
  return `<section aria-labelledby="triage-title" id="triage"><h2 id="triage-title">Triage</h2>${runList}${first}</section>`;
}

function lane(incident: Incident): string {
  const subject = subjectLabel(incident);
  return subject === null ? incident.rule : `${incident.rule} · ${subject}`;
}

/** A lane's label: the subject (colour tells the rule), the rule too when several rules share the page. */
function laneLabel(name: string, severalRules: boolean): string {
  const [rule, subject] = name.split(' · ');
  const text = subject === undefined ? (rule as string) : severalRules ? name : subject;
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/**
 * The gaps (by the index of the time after them) to leave out: from the longest down, a gap over
 * an hour and over a tenth of what the timeline would still span without it, at most
 * MAX_BREAKS. Measured against what is left, not the whole span, so that one outlier months
 * away does not hide the day-long pause between two later stretches.
 */
function longGaps(sorted: readonly number[]): Set<number> {
  const gaps = sorted.slice(1).map((t, i) => ({ after: i + 1, length: t - (sorted[i] as number) }));
  gaps.sort((a, b) => b.length - a.length);
  let remaining = (sorted[sorted.length - 1] ?? 0) - (sorted[0] ?? 0);
  const cuts = new Set<number>();
  for (const gap of gaps) {
    if (cuts.size === MAX_BREAKS || gap.length <= 60 * 60_000) break;
    if (gap.length > (remaining - gap.length) / 10) {
      cuts.add(gap.after);
      remaining -= gap.length;
    }
  }
  return cuts;
}

/** Breaks in one timeline: each costs a gap marker and a stretch with room for its label. */
const MAX_BREAKS = 4;

/** Width of a full `YYYY-MM-DD HH:MM:SS` tick label at the tick font size (11px), in SVG units. */
const TICK_LABEL_WIDTH = 120;

/**
 * A time scale over [left, right] that gives each busy stretch room in proportion to its
 * length and each long quiet gap a fixed narrow break.
 */
export function compressedScale(times: readonly number[], left: number, right: number): { x: (t: number) => number; breaks: number[]; segments: Array<[number, number]> } {
  const sorted = [...new Set(times)].sort((a, b) => a - b);
  const start = sorted[0] ?? 0;
  const end = sorted[sorted.length - 1] ?? start;
  const cuts = longGaps(sorted);
  const segments: Array<[number, number]> = [];
  let segmentStart = start;
  for (let i = 1; i < sorted.length; i++) {
    if (cuts.has(i)) {
      segments.push([segmentStart, sorted[i - 1] as number]);
      segmentStart = sorted[i] as number;
    }
  }
  segments.push([segmentStart, end]);
  const gapWidth = 24;
  const gaps = segments.length - 1;
  const busy = segments.reduce((sum, [a, b]) => sum + (b - a), 0);
  const room = right - left - gaps * gapWidth;
  // Every stretch, even one instant, gets room for its time label (as long as that leaves half the width).
  const minimum = Math.min(TICK_LABEL_WIDTH, room / Math.max(1, segments.length) / 2);
  const flexible = room - minimum * segments.length;
  const widths = segments.map(([a, b]) => minimum + (busy === 0 ? flexible / segments.length : ((b - a) / busy) * flexible));
  const offsets: number[] = [];
  let at = left;
  for (const [i, w] of widths.entries()) {
    offsets.push(at);
    at += w + (i < gaps ? gapWidth : 0);
  }
  const breaks = offsets.slice(1).map((offset) => offset - gapWidth / 2);
  const x = (t: number): number => {
    let index = segments.findIndex(([, b]) => t <= b);
    if (index === -1) index = segments.length - 1;
    const [a, b] = segments[index] as [number, number];
    const w = widths[index] as number;
    const base = offsets[index] as number;
    return b === a ? base + w / 2 : base + ((Math.min(Math.max(t, a), b) - a) / (b - a)) * w;
  };
  return { x, breaks, segments };
}

/** An SVG strip per rule and subject, a dot per incident, ticks at each busy stretch. */
function timeline(all: Incident[]): string {
  const incidents = all.filter((i) => i.firstSeen !== null);
  const untimed = all.length - incidents.length;
  const note = untimed === 0 ? '' : `<p class="note">${untimed} incident(s) from lines with no timestamp are not on the timeline.</p>`;
  if (incidents.length === 0) return `<p class="empty">Nothing to draw.</p>${note}`;
  const lanes = [...new Set(incidents.map(lane))].sort();
  const rules = [...new Set(incidents.map((i) => i.rule))].sort();
  const left = 280;
  const right = 960;
  const rowHeight = 28;
  const height = lanes.length * rowHeight + 40;
  const scale = compressedScale(
    incidents.map((i) => Date.parse(i.firstSeen as string)),
    left,
    right,
  );
  const parts: string[] = [];
  lanes.forEach((name, row) => {
    const y = 20 + row * rowHeight;
    parts.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" class="lane"/>`);
    parts.push(`<text x="${left - 10}" y="${y + 4}" text-anchor="end" class="lane-label">${escape(laneLabel(name, rules.length > 1))}</text>`);
  });
  for (const at of scale.breaks) {
    parts.push(`<rect x="${(at - 6).toFixed(1)}" y="8" width="12" height="${height - 36}" class="gap"><title>quiet gap left out</title></rect>`);
  }
  // Tick labels left to right; one that would overprint the label before it is left out.
  let labelsEnd = -Infinity;
  for (const [a, b] of scale.segments) {
    const labels = a === b ? [a] : [a, b];
    labels.forEach((t, i) => {
      const anchor = labels.length === 1 ? 'middle' : i === 0 ? 'start' : 'end';
      const text = short(new Date(t).toISOString()).slice(a === b || i === 0 ? 0 : 11);
      const width = (text.length / 19) * TICK_LABEL_WIDTH;
      const x = scale.x(t);
      const from = anchor === 'start' ? x : anchor === 'middle' ? x - width / 2 : x - width;
      if (from < labelsEnd + 8) return;
      labelsEnd = from + width;
      parts.push(`<text x="${x.toFixed(1)}" y="${height - 6}" text-anchor="${anchor}" class="tick">${escape(text)}</text>`);
    });
  }
  incidents.forEach((incident) => {
    const y = 20 + lanes.indexOf(lane(incident)) * rowHeight;
    const color = PALETTE[rules.indexOf(incident.rule) % PALETTE.length] as string;
    const radius = Math.min(11, 5 + Math.log10(Math.max(1, incident.count)) * 2);
    parts.push(
      `<circle cx="${scale.x(Date.parse(incident.firstSeen as string)).toFixed(1)}" cy="${y}" r="${radius.toFixed(1)}" fill="${color}" data-id="${escape(incident.id)}" class="dot">` +
        `<title>${escape(`${short(incident.firstSeen)} ${incident.summary}`)}</title></circle>`,
    );
  });
  const legend = rules.map((rule, i) => `<span class="key"><span class="swatch" style="background:${PALETTE[i % PALETTE.length] as string}"></span>${escape(rule)}</span>`).join(' ');
  return `<svg id="timeline" viewBox="0 0 980 ${height}" role="img" aria-label="Incidents over time by rule and subject">${parts.join('')}</svg>
<p class="legend">${legend}${scale.breaks.length > 0 ? ' <span class="key"><span class="swatch gap-key"></span>long quiet gap, left out</span>' : ''}</p>${note}`;
}

const COLUMNS: Array<{ key: string; label: string; numeric?: boolean }> = [
  { key: 'time', label: 'First seen (UTC)' },
  { key: 'severity', label: 'Severity' },
  { key: 'rule', label: 'Rule' },
  { key: 'subject', label: 'About' },
  { key: 'count', label: 'Lines', numeric: true },
  { key: 'cause', label: 'Cause' },
  { key: 'outcome', label: 'Closed' },
];

/** Fleet incidents (`nexus-log-analyzer fleet --report`) name the nodes they happened on. */
function nodesOf(incident: Incident): string[] | null {
  return Array.isArray(incident.nodes) ? (incident.nodes as unknown[]).map(String) : null;
}

/** With fleet incidents: a node column, and a filter that shows one node's rows. */
function nodeFilter(incidents: Incident[]): string {
  const nodes = [...new Set(incidents.flatMap((incident) => nodesOf(incident) ?? []))].sort();
  if (nodes.length === 0) return '';
  const options = nodes.map((node) => `<option value="${escape(node)}">${escape(node)}</option>`).join('');
  return `<p class="filter"><label>Node <select id="node-filter"><option value="">all nodes</option>${options}</select></label></p>`;
}

function tableTo(incidents: Incident[], write: (text: string) => void): void {
  const fleet = incidents.some((incident) => nodesOf(incident) !== null);
  const columns = fleet ? [COLUMNS[0] as (typeof COLUMNS)[number], { key: 'nodes', label: 'Nodes' }, ...COLUMNS.slice(1)] : COLUMNS;
  const head = columns.map(
    (c) => `<th scope="col" data-key="${c.key}"${c.numeric === true ? ' data-numeric="1"' : ''} aria-sort="${c.key === 'time' ? 'ascending' : 'none'}"><button type="button">${c.label}</button></th>`,
  ).join('');
  write(`${fleet ? nodeFilter(incidents) : ''}<table id="incidents"><thead><tr>${head}</tr></thead><tbody>`);
  incidents.forEach((incident, index) => {
    const cells: Record<string, string> = {
      time: short(incident.firstSeen),
      severity: incident.severity,
      rule: incident.rule,
      subject: subjectLabel(incident) ?? '',
      count: String(incident.count),
      cause: incident.diagnosis.cause,
      outcome: incident.closeReason ?? 'open',
      nodes: (nodesOf(incident) ?? []).join(', '),
    };
    const nodes = nodesOf(incident);
    const tds = columns.map((c) => `<td data-value="${escape(cells[c.key] as string)}">${escape(cells[c.key] as string)}</td>`).join('');
    write(
      `${index === 0 ? '' : '\n'}<tr class="incident sev-${incident.severity}" id="incident-${escape(incident.id)}" tabindex="0" aria-expanded="false" data-id="${escape(incident.id)}"${nodes === null ? '' : ` data-nodes="${escape(` ${nodes.join(' ')} `)}"`}>${tds}</tr>` +
      `<tr class="details" hidden><td colspan="${columns.length}">${details(incident)}</td></tr>`,
    );
  });
  write('</tbody></table>');
}

function details(incident: Incident): string {
  const d = incident.diagnosis;
  const facts = Object.entries(incident.facts)
    .map(([label, value]) => `<dt>${escape(label)}</dt><dd>${escape(factText(value))}</dd>`)
    .join('');
  const distinct = Object.entries(incident.distinct)
    .filter(([, values]) => values.total > 1)
    .map(([name, values]) => `<dt>${escape(`${name}s (${values.total}${values.capped === true ? '+' : ''})`)}</dt><dd><code>${values.values.map(escape).join('</code> <code>')}</code></dd>`)
    .join('');
  const references = d.references.map((r) => `<li>${r.url === null ? escape(r.title) : `<a href="${escape(r.url)}" rel="noreferrer">${escape(r.title)}</a>`}</li>`).join('');
  const evidence = incident.evidence.map((e) => `${escape(`${e.source}:${e.line}`)}  ${escape(e.text)}${e.length === undefined ? '' : escape(` … (${e.length} characters)`)}`).join('\n');
  const omitted = incident.evidenceOmitted > 0 ? `\n… ${incident.evidenceOmitted} more lines not kept` : '';
  const links = [...incident.causes.map((id) => `caused by <a href="#incident-${escape(id)}">${escape(id)}</a>`), ...incident.consequences.map((id) => `led to <a href="#incident-${escape(id)}">${escape(id)}</a>`)];
  return `<div class="detail">
<p class="summary">${escape(incident.summary)}</p>
<p class="facts">${escape(`id ${incident.id} · fingerprint ${incident.fingerprint} · ${incident.severity} · ${incident.count} line(s), ${incident.ratePerMinute}/min · closed: ${incident.closeReason} · ${incident.firstSeen} .. ${incident.lastSeen}`)}${incident.thread === null ? '' : escape(` · thread ${incident.thread}`)}</p>
${facts + distinct === '' ? '' : `<dl>${facts}${distinct}</dl>`}
${links.length === 0 ? '' : `<p class="links">${links.join(' · ')}</p>`}
<h4>Cause: <code>${escape(d.cause)}</code> (${escape(d.confidence)} confidence)</h4>
<p>${escape(d.explanation)}</p>
<h4>Fix</h4><ol>${d.remediation.map((step) => `<li>${escape(step)}</li>`).join('')}</ol>
<h4>Evidence</h4><p class="facts">${escape(evidenceRanges(incident))}</p><pre class="evidence">${evidence}${omitted}</pre>
${references === '' ? '' : `<h4>References</h4><ul>${references}</ul>`}
<p class="facts">Rule page: <a href="${escape(incident.docs)}" rel="noreferrer">${escape(incident.docs)}</a></p>
</div>`;
}

/** `2025-09-10 01:36:22` from an ISO time; `time unknown` for none. */
function short(iso: string | null): string {
  return iso === null ? 'time unknown' : iso.slice(0, 19).replace('T', ' ');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2833;background:#fbfcfc}
header{padding:18px 28px;background:#1c2833;color:#fdfefe}header h1{margin:0 0 4px;font-size:22px}
.meta{margin:2px 0;color:#d5dbdb}.meta code{color:#fdfefe}main{padding:8px 28px 40px}
h2{font-size:17px;margin:22px 0 8px}h3{font-size:15px;margin:14px 0 6px}
#triage ol{padding-left:22px;max-width:1100px}#triage li{margin:6px 0}#triage p{margin:2px 0}.runs .bad{color:#922b21}.when{font-family:monospace;color:#5d6d7e}
.sev{display:inline-block;border-radius:3px;padding:0 6px;color:#fff;font-size:12px;text-decoration:none}.sev.critical{background:#7b241c}.sev.error{background:#c0392b}.sev.warning{background:#d68910}.sev.info{background:#2471a3}
.cause,.fix{color:#34495e}
svg{width:100%;max-width:980px;background:#fff;border:1px solid #d5dbdb;border-radius:4px}
.lane{stroke:#e5e8e8}.lane-label{font-size:12px;fill:#34495e}.tick{font-size:11px;fill:#5d6d7e}.dot{cursor:pointer;stroke:#fff;stroke-width:1.5}
.gap{fill:#f2f3f4;stroke:#aab7b8;stroke-dasharray:3 2}.gap-key{background:#f2f3f4;border:1px dashed #aab7b8;border-radius:2px}
.legend .key{margin-right:14px}.swatch{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:5px}
table{border-collapse:collapse;width:100%;max-width:1400px;table-layout:fixed;background:#fff;border:1px solid #d5dbdb}
th:nth-child(1){width:11em}th:nth-child(2){width:6em}th:nth-child(3){width:16em}th:nth-child(5){width:5em}th:nth-child(7){width:7em}
th{background:#eaeded;text-align:left;padding:0}th button{all:unset;cursor:pointer;display:block;padding:7px 10px;font-weight:600}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td{padding:6px 10px;border-top:1px solid #eaeded;vertical-align:top;word-break:break-word}
tr.incident{cursor:pointer}tr.incident:hover,tr.incident:focus{background:#f4f6f7;outline:none}tr.incident[aria-expanded=true]{background:#ebf5fb}
tr.details td{background:#fdfefe}.detail h4{margin:12px 0 4px}.summary{font-weight:600}.facts{color:#5d6d7e;font-size:12px}
dl{display:grid;grid-template-columns:12em 1fr;gap:2px 12px;margin:8px 0}dt{color:#5d6d7e}dd{margin:0;word-break:break-word}
pre.evidence{background:#17202a;color:#e5e8e8;padding:10px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
.note,.empty{color:#5d6d7e}
`;

const SCRIPT = `
(function () {
  var table = document.getElementById('incidents');
  if (!table) return;
  var body = table.tBodies[0];
  function toggle(row, open) {
    var details = row.nextElementSibling;
    var show = open === undefined ? details.hidden : open;
    details.hidden = !show;
    row.setAttribute('aria-expanded', String(show));
  }
  function reveal(id) {
    var row = document.getElementById('incident-' + id);
    if (!row) return;
    toggle(row, true);
    row.scrollIntoView({ block: 'center' });
    row.focus();
  }
  body.addEventListener('click', function (event) {
    var link = event.target.closest('a[href^="#incident-"]');
    if (link) { event.preventDefault(); reveal(link.getAttribute('href').slice(10)); return; }
    var row = event.target.closest('tr.incident');
    if (row) toggle(row);
  });
  body.addEventListener('keydown', function (event) {
    var row = event.target.closest('tr.incident');
    if (row && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); toggle(row); }
  });
  table.tHead.addEventListener('click', function (event) {
    var th = event.target.closest('th');
    if (!th) return;
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    var numeric = th.hasAttribute('data-numeric');
    Array.prototype.forEach.call(th.parentNode.children, function (other) { other.setAttribute('aria-sort', 'none'); });
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    var pairs = Array.prototype.map.call(body.querySelectorAll('tr.incident'), function (row) { return [row, row.nextElementSibling]; });
    pairs.sort(function (a, b) {
      var x = a[0].children[index].getAttribute('data-value');
      var y = b[0].children[index].getAttribute('data-value');
      var order = numeric ? (Number(x) - Number(y)) : x.localeCompare(y);
      return ascending ? order : -order;
    });
    pairs.forEach(function (pair) { body.appendChild(pair[0]); body.appendChild(pair[1]); });
  });
  document.querySelectorAll('a[href^="#incident-"]').forEach(function (link) {
    if (table.contains(link)) return;
    link.addEventListener('click', function (event) { event.preventDefault(); reveal(link.getAttribute('href').slice(10)); });
  });
  var nodeFilter = document.getElementById('node-filter');
  if (nodeFilter) nodeFilter.addEventListener('change', function () {
    var node = nodeFilter.value;
    body.querySelectorAll('tr.incident').forEach(function (row) {
      var shown = node === '' || (row.getAttribute('data-nodes') || '').indexOf(' ' + node + ' ') >= 0;
      row.hidden = !shown;
      if (!shown) toggle(row, false);
    });
  });
  document.querySelectorAll('circle.dot').forEach(function (dot) {
    dot.addEventListener('click', function () { reveal(dot.getAttribute('data-id')); });
  });
})();
`;
