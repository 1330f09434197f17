// check.mjs runs the real Mermaid parser over diagrams, so a test can prove
// that what spine-sandbox writes into its Markdown report is valid Mermaid
// (issue 5: "the Markdown renders (Mermaid syntax valid)").
//
// Input, on standard input: a JSON array of diagram texts.
// Output, on standard output: a JSON array with one entry per diagram, in
// the same order: {"ok": true, "type": "sequence", "messages": [...]} or
// {"ok": false, "error": "Parse error on line 3: ..."}. For a sequence
// diagram, messages are its arrows as Mermaid understood them,
// "From->>To: text" (notes apart, in "notes": "From,To: text"), with entity codes (#59;) turned back into the
// characters Mermaid draws for them: a test compares them with the labels it
// meant, which catches text Mermaid parses but drops (after a '#').
// Exit status: 0 when every diagram parses, 1 when one does not, 2 when the
// input is not a JSON array of strings.
//
// mermaid.parse runs the diagram's own grammar and database (the same code
// mermaid.render starts with) and needs no DOM, so plain Node is enough.

import mermaid from 'mermaid';

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

let diagrams;
try {
  diagrams = JSON.parse(await readStdin());
  if (!Array.isArray(diagrams) || diagrams.some((d) => typeof d !== 'string')) {
    throw new Error('want a JSON array of strings');
  }
} catch (err) {
  process.stderr.write(`mermaid-check: ${err.message}\n`);
  process.exit(2);
}

// Mermaid's own numbers for the arrow types (sequenceDb LINETYPE).
const arrows = { 0: '->>', 1: '-->>', 3: '-x', 4: '--x', 5: '->', 6: '-->' };

// Mermaid swaps each entity code for a placeholder before parsing
// (ﬂ°°59¶ß for #59;, ﬂ°lt¶ß for #lt;) and turns it into an HTML entity in
// the drawn SVG; this turns it into the character that entity shows.
const named = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: '\u00a0' };
function decodeEntities(text) {
  return text
    .replace(/\uFB02\u00B0\u00B0(\d+)\u00B6\u00DF/g, (_, n) => String.fromCodePoint(Number(n)))
    .replace(/\uFB02\u00B0(\w+)\u00B6\u00DF/g, (m, name) => named[name] ?? `&${name};`);
}

mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });

const results = [];
for (const text of diagrams) {
  try {
    const parsed = await mermaid.parse(text);
    const result = { ok: true, type: parsed.diagramType };
    if (parsed.diagramType === 'sequence') {
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      // Notes (LINETYPE.NOTE, 2) are listed apart from the arrows.
      const NOTE = 2;
      const all = diagram.db.getMessages().filter((m) => m.from && m.to);
      result.notes = all
        .filter((m) => m.type === NOTE)
        .map((m) => `${m.from},${m.to}: ${decodeEntities(m.message)}`);
      result.messages = all
        .filter((m) => m.type !== NOTE)
        .map((m) => `${m.from}${arrows[m.type] ?? `(${m.type})`}${m.to}: ${decodeEntities(m.message)}`);
    }
    results.push(result);
  } catch (err) {
    results.push({ ok: false, error: String(err && err.message ? err.message : err) });
  }
}
// exitCode, not process.exit(): exiting at once cuts a large answer short
// when standard output is a pipe (the library's report is over 64 KiB).
process.stdout.write(JSON.stringify(results) + '\n');
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
