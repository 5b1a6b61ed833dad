// The page shell the HTML reports share (harness/report/html.ts for run and merge,
// verify-html.ts for verify): one self-contained document, inline CSS and a few lines of JS, no
// network (its Content-Security-Policy forbids it), and the escaping and number formats they use.

import { LADDER_CSS } from './ladder-html.js';
import { groupDigits } from '../text.js';

export const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
export const count = groupDigits;
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

const CSS = `
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1280px;padding:0 24px 48px;color:#1d2329;background:#fbfbfa}
h1{font-size:22px;margin:24px 0 4px}h2{font-size:17px;margin:32px 0 8px;border-bottom:1px solid #d8dadd;padding-bottom:4px}
code,pre{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f1f2f3;border:1px solid #dfe1e4;border-radius:4px;padding:8px 10px;overflow-x:auto;margin:6px 0}
table{border-collapse:collapse;background:#fff}th,td{border:1px solid #d8dadd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f2;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-size:16px;font-weight:600;padding:8px 12px;border-radius:4px;display:inline-block}
.verdict.ok{background:#e3f4e6;color:#1e6b2e}.verdict.bad{background:#fde7e7;color:#a01c1c}.verdict.stop{background:#fff3d6;color:#7a5300}
dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:6px 16px;margin:0}
dl.figures div{background:#fff;border:1px solid #dfe1e4;border-radius:4px;padding:6px 10px}dt{color:#5b6570;font-size:12px}dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.badge{display:inline-block;border-radius:3px;padding:0 5px;font-size:11px;font-weight:700;letter-spacing:.02em}
.new{background:#fde7e7;color:#a01c1c}.known{background:#fff1d9;color:#7a4a00}.design{background:#eceff3;color:#4b5560}
.corpus{background:#e4eefb;color:#1f4f8f}.lost{background:#a01c1c;color:#fff}.replayed{background:#e3f4e6;color:#1e6b2e}
.missing{color:#7a4a00}.absent{color:#9aa3ad}td.cell a{font-weight:600}tr.gap td{border:0;height:8px;background:transparent}
td.problem{font-weight:700;color:#5b6570}
details.finding{background:#fff;border:1px solid #dfe1e4;border-radius:4px;margin:8px 0;padding:4px 10px}
details.finding>summary{cursor:pointer;padding:4px 0}details.finding>summary .t{color:#5b6570;font-size:12px;margin-left:6px}
.legend{color:#5b6570;font-size:12px}
.coverage-target{background:#fff;border:1px solid #dfe1e4;border-radius:4px;margin:12px 0;padding:4px 12px 12px}
.transitions{margin:6px 0 14px}.transitions td,.transitions th{padding:2px 8px;vertical-align:top}.undeclared{color:#b00020}
.coverage-target h3{font-size:15px;margin:8px 0 4px}.charts{display:flex;flex-wrap:wrap;gap:16px 32px;align-items:flex-start}
.charts figure{margin:0}.charts figcaption{color:#5b6570;font-size:12px;margin-bottom:4px}
`;

/** Opens the <details> a link's #hash names. */
const SCRIPT = `
function openFromHash(){var el=document.getElementById(decodeURIComponent(location.hash.slice(1)));
if(el&&el.tagName==='DETAILS'){el.open=true;el.scrollIntoView({block:'start'});}}
addEventListener('hashchange',openFromHash);openFromHash();
`;

/** Figures as a grid of labelled boxes. */
export function figureList(items: readonly (readonly [string, string])[]): string {
  return `<dl class="figures">${items.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${esc(v)}</dd></div>`).join('')}</dl>`;
}

/** The whole document: `title` in the tab, `body` (already HTML) inside <body>. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${CSS}${LADDER_CSS}</style></head>
<body>
${body}
<script>${SCRIPT}</script>
</body></html>
`;
}
