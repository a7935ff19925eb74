/**
 * `--report report.html`: one self-contained page (no network, no external assets): a
 * timeline of incidents by rule and repository, a sortable table, and each incident
 * expandable to its diagnosis and evidence lines. Rendered here, so it reads without
 * JavaScript; a small inline script adds sorting, expanding, and chart-to-row links.
 */
import type { AnalyzerStats } from '../analyzer';
import type { Incident } from '../incidents/incident';
import { isDockerPushIncident } from '../rules/builtin/docker-manifest-missing-layers';
import { formatImageRef } from '../rules/builtin/docker-messages';

/** Incidents kept for the page; more are counted and said to be left out. */
export const REPORT_MAX_INCIDENTS = 5000;

export interface ReportContext {
  stats: AnalyzerStats;
  inputs: readonly string[];
  generatedAt: Date;
}

const PALETTE = ['#c0392b', '#2471a3', '#7d3c98', '#d68910', '#138d75', '#566573', '#a04000', '#1e8449'];

export class HtmlReport {
  private readonly incidents: Incident[] = [];
  private leftOut = 0;

  add(incident: Incident): void {
    if (this.incidents.length < REPORT_MAX_INCIDENTS) this.incidents.push(incident);
    else this.leftOut++;
  }

  render(context: ReportContext): string {
    const incidents = [...this.incidents].sort((a, b) => a.firstSeen.localeCompare(b.firstSeen));
    const total = incidents.length + this.leftOut;
    const title = `Nexus log analysis: ${total === 1 ? '1 incident' : `${total} incidents`}`;
    const range = incidents.length === 0 ? '' : ` from ${short((incidents[0] as Incident).firstSeen)} to ${short((incidents[incidents.length - 1] as Incident).lastSeen)} UTC`;
    const { stats } = context;
    return `<!doctype html>
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
<p class="meta">${escape(`${stats.lines} lines read (${stats.events} events, ${stats.unparsedLines} unparsed) from ${context.inputs.length} input(s)${range}. Generated ${context.generatedAt.toISOString()} by nexus-log-analyzer.`)}</p>
<p class="meta inputs">${context.inputs.map((input) => `<code>${escape(input)}</code>`).join(' ')}</p>
</header>
<main>
<section aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline</h2>
${timeline(incidents)}
</section>
<section aria-labelledby="table-title">
<h2 id="table-title">Incidents</h2>
${this.leftOut > 0 ? `<p class="note">The first ${REPORT_MAX_INCIDENTS} incidents are shown; ${this.leftOut} more were left out of this page (the NDJSON output has them all).</p>` : ''}
${incidents.length === 0 ? '<p class="empty">No incidents: nothing failed in the logs read.</p>' : table(incidents)}
</section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
  }
}

function lane(incident: Incident): string {
  const repository = isDockerPushIncident(incident) ? (incident.repository ?? 'repository unknown') : '';
  return repository === '' ? incident.rule : `${incident.rule} · ${repository}`;
}

/** A lane's label: the repository (colour tells the rule), the rule too when several rules share the page. */
function laneLabel(name: string, severalRules: boolean): string {
  const [rule, repository] = name.split(' · ');
  const text = repository === undefined ? (rule as string) : severalRules ? name : repository;
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

function imageOf(incident: Incident): string {
  if (!isDockerPushIncident(incident) || incident.image === null) return '';
  return formatImageRef(incident.image, incident.reference);
}

/** An SVG strip per rule and repository, a dot per incident, 4 time ticks. */
function timeline(incidents: Incident[]): string {
  if (incidents.length === 0) return '<p class="empty">Nothing to draw.</p>';
  const lanes = [...new Set(incidents.map(lane))].sort();
  const rules = [...new Set(incidents.map((i) => i.rule))].sort();
  const times = incidents.map((i) => Date.parse(i.firstSeen));
  const start = Math.min(...times);
  const end = Math.max(...times);
  const span = Math.max(1, end - start);
  const left = 280;
  const right = 960;
  const rowHeight = 28;
  const height = lanes.length * rowHeight + 40;
  const x = (t: number): number => (end === start ? (left + right) / 2 : left + ((t - start) / span) * (right - left));
  const parts: string[] = [];
  lanes.forEach((name, row) => {
    const y = 20 + row * rowHeight;
    parts.push(`<line x1="${left}" x2="${right}" y1="${y}" y2="${y}" class="lane"/>`);
    parts.push(`<text x="${left - 10}" y="${y + 4}" text-anchor="end" class="lane-label">${escape(laneLabel(name, rules.length > 1))}</text>`);
  });
  const TICKS = 3;
  for (let tick = 0; tick <= TICKS; tick++) {
    if (end === start && tick > 0) break; // one moment: one label, centred
    const t = start + (span * tick) / TICKS;
    const tx = x(t);
    const anchor = end === start ? 'middle' : tick === 0 ? 'start' : tick === TICKS ? 'end' : 'middle';
    parts.push(`<text x="${tx.toFixed(1)}" y="${height - 6}" text-anchor="${anchor}" class="tick">${escape(short(new Date(t).toISOString()))}</text>`);
  }
  incidents.forEach((incident) => {
    const y = 20 + lanes.indexOf(lane(incident)) * rowHeight;
    const color = PALETTE[rules.indexOf(incident.rule) % PALETTE.length] as string;
    parts.push(
      `<circle cx="${x(Date.parse(incident.firstSeen)).toFixed(1)}" cy="${y}" r="6" fill="${color}" data-id="${escape(incident.id)}" class="dot">` +
        `<title>${escape(`${short(incident.firstSeen)} ${incident.summary}`)}</title></circle>`,
    );
  });
  const legend = rules
    .map((rule, i) => `<span class="key"><span class="swatch" style="background:${PALETTE[i % PALETTE.length] as string}"></span>${escape(rule)}</span>`)
    .join(' ');
  return `<svg id="timeline" viewBox="0 0 980 ${height}" role="img" aria-label="Incidents over time by rule and repository">${parts.join('')}</svg>
<p class="legend">${legend}</p>`;
}

const COLUMNS: Array<{ key: string; label: string; numeric?: boolean }> = [
  { key: 'time', label: 'First seen (UTC)' },
  { key: 'rule', label: 'Rule' },
  { key: 'repository', label: 'Repository' },
  { key: 'image', label: 'Image' },
  { key: 'user', label: 'User' },
  { key: 'layers', label: 'Missing layers', numeric: true },
  { key: 'outcome', label: 'Outcome' },
];

function table(incidents: Incident[]): string {
  const head = COLUMNS.map(
    (c) => `<th scope="col" data-key="${c.key}"${c.numeric === true ? ' data-numeric="1"' : ''} aria-sort="${c.key === 'time' ? 'ascending' : 'none'}"><button type="button">${c.label}</button></th>`,
  ).join('');
  const rows = incidents.map((incident) => {
    const push = isDockerPushIncident(incident) ? incident : null;
    const cells: Record<string, string> = {
      time: short(incident.firstSeen),
      rule: incident.rule,
      repository: push?.repository ?? '',
      image: imageOf(incident),
      user: incident.user ?? '',
      layers: push === null ? '' : String(push.missingLayers.length + push.missingLayersOmitted),
      outcome: push?.request != null ? `${push.request.status} ${push.request.method}` : (incident.closeReason ?? 'open'),
    };
    const tds = COLUMNS.map((c) => `<td data-value="${escape(cells[c.key] as string)}">${escape(cells[c.key] as string)}</td>`).join('');
    return (
      `<tr class="incident" id="incident-${escape(incident.id)}" tabindex="0" aria-expanded="false" data-id="${escape(incident.id)}">${tds}</tr>` +
      `<tr class="details" hidden><td colspan="${COLUMNS.length}">${details(incident)}</td></tr>`
    );
  });
  return `<table id="incidents"><thead><tr>${head}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

function details(incident: Incident): string {
  const d = incident.diagnosis;
  const push = isDockerPushIncident(incident) ? incident : null;
  const layers =
    push === null || push.missingLayers.length === 0
      ? ''
      : `<h4>Missing layers</h4><ul class="layers">${push.missingLayers.map((l) => `<li><code>${escape(l)}</code></li>`).join('')}</ul>`;
  const references = d.references
    .map((r) => `<li>${r.url === null ? escape(r.title) : `<a href="${escape(r.url)}" rel="noreferrer">${escape(r.title)}</a>`}</li>`)
    .join('');
  const evidence = incident.evidence.map((e) => `${escape(`${e.source}:${e.line}`)}  ${escape(e.text)}`).join('\n');
  const omitted = incident.evidenceOmitted > 0 ? `\n… ${incident.evidenceOmitted} more lines not kept` : '';
  return `<div class="detail">
<p class="summary">${escape(incident.summary)}</p>
<p class="facts">${escape(`id ${incident.id} · fingerprint ${incident.fingerprint} · ${incident.severity} · closed: ${incident.closeReason} · thread ${incident.thread ?? '-'}${incident.node === null ? '' : ` on ${incident.node}`} · ${incident.firstSeen} .. ${incident.lastSeen}`)}</p>
<h4>Cause: <code>${escape(d.cause)}</code> (${escape(d.confidence)} confidence)</h4>
<p>${escape(d.explanation)}</p>
<h4>Fix</h4><ol>${d.remediation.map((step) => `<li>${escape(step)}</li>`).join('')}</ol>
${layers}
<h4>Evidence</h4><pre class="evidence">${evidence}${omitted}</pre>
${references === '' ? '' : `<h4>References</h4><ul>${references}</ul>`}
</div>`;
}

/** `2025-09-10 01:36:22` from an ISO time. */
function short(iso: string): string {
  return iso.slice(0, 19).replace('T', ' ');
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2833;background:#fbfcfc}
header{padding:18px 28px;background:#1c2833;color:#fdfefe}header h1{margin:0 0 4px;font-size:22px}
.meta{margin:2px 0;color:#d5dbdb}.meta code{color:#fdfefe}main{padding:8px 28px 40px}
h2{font-size:17px;margin:22px 0 8px}svg{width:100%;max-width:980px;background:#fff;border:1px solid #d5dbdb;border-radius:4px}
.lane{stroke:#e5e8e8}.lane-label{font-size:12px;fill:#34495e}.tick{font-size:11px;fill:#5d6d7e}.dot{cursor:pointer;stroke:#fff;stroke-width:1.5}
.legend .key{margin-right:14px}.swatch{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:5px}
table{border-collapse:collapse;width:100%;max-width:1400px;table-layout:fixed;background:#fff;border:1px solid #d5dbdb}
th:nth-child(1){width:11em}th:nth-child(2){width:16em}th:nth-child(5){width:8em}th:nth-child(6){width:8em}th:nth-child(7){width:7em}
th{background:#eaeded;text-align:left;padding:0}th button{all:unset;cursor:pointer;display:block;padding:7px 10px;font-weight:600}
th[aria-sort=ascending] button::after{content:" ▲"}th[aria-sort=descending] button::after{content:" ▼"}
td{padding:6px 10px;border-top:1px solid #eaeded;vertical-align:top;word-break:break-word}
tr.incident{cursor:pointer}tr.incident:hover,tr.incident:focus{background:#f4f6f7;outline:none}tr.incident[aria-expanded=true]{background:#ebf5fb}
tr.details td{background:#fdfefe}.detail h4{margin:12px 0 4px}.summary{font-weight:600}.facts{color:#5d6d7e;font-size:12px}
pre.evidence{background:#17202a;color:#e5e8e8;padding:10px;overflow:auto;font-size:12px;white-space:pre-wrap;word-break:break-all}
ul.layers{columns:2;font-size:12px}.note,.empty{color:#5d6d7e}
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
  body.addEventListener('click', function (event) {
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
  document.querySelectorAll('circle.dot').forEach(function (dot) {
    dot.addEventListener('click', function () {
      var row = document.getElementById('incident-' + dot.getAttribute('data-id'));
      if (!row) return;
      toggle(row, true);
      row.scrollIntoView({ block: 'center' });
      row.focus();
    });
  });
})();
`;
