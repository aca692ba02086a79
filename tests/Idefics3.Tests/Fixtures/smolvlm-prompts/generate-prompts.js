// Generates prompts_golden.json: the prompt ids Hugging Face's Idefics3Processor gives for full SmolVLM conversations,
// from the genuine SmolVLM-256M-Instruct files. Not run by CI: the output is committed. To regenerate, in a scratch
// folder outside the repository:
//
//   npm install tokenizers@0.23.2 @huggingface/jinja@0.5.1
//   NODE_PATH=$PWD/node_modules node <repo>/tests/Idefics3.Tests/Fixtures/smolvlm-prompts/generate-prompts.js \
//       <repo>/tests/Idefics3.Tests/Fixtures/smolvlm-256m-instruct <decompressed tokenizer.json> \
//       <repo>/tests/Idefics3.Tests/Fixtures/smolvlm-prompts/prompts_golden.json
//
// Steps, as transformers' Idefics3Processor (processing_idefics3.py) and Idefics3ImageProcessor do them:
//  1. the checkpoint's chat template (chat_template.json) rendered with @huggingface/jinja, add_generation_prompt=true;
//  2. the tile grid of each image from its size (image_processing_idefics3.py, docs: idefics3-spec.md §4.2-4.4):
//     resize the longest edge to size.longest_edge (even other edge), then both edges up to multiples of the tile
//     edge T = max_image_size.longest_edge; rows = H2 / T, cols = W2 / T; a single frame (0, 0) without splitting;
//  3. each <image> replaced, left to right, by its block (idefics3-spec.md §5, get_image_prompt_string);
//  4. tokenizer(prompt, add_special_tokens=True) with Hugging Face's Rust tokenizer on the genuine tokenizer.json.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');
const { Template } = require('@huggingface/jinja');

const [folder, tokenizerPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node generate-prompts.js <model folder> <tokenizer.json> <out prompts_golden.json>');
  process.exit(2);
}

const json = (name) => JSON.parse(fs.readFileSync(path.join(folder, name), 'utf8'));
const template = new Template(json('chat_template.json').chat_template);
const pre = json('preprocessor_config.json');
const seqLen = json('processor_config.json').image_seq_len;
const L = pre.size.longest_edge;
const T = pre.max_image_size.longest_edge;

function grid(width, height, split) {
  if (!split) return [0, 0];
  let w = width, h = height, ar = w / h;
  if (w >= h) { w = L; h = Math.trunc(w / ar); if (h % 2) h++; } else { h = L; w = Math.trunc(h * ar); if (w % 2) w++; }
  h = Math.max(h, 1); w = Math.max(w, 1);
  ar = w / h;
  let w2, h2;
  if (w >= h) { w2 = Math.ceil(w / T) * T; h2 = Math.trunc(w2 / ar); h2 = Math.ceil(h2 / T) * T; } else { h2 = Math.ceil(h / T) * T; w2 = Math.trunc(h2 * ar); w2 = Math.ceil(w2 / T) * T; }
  if (h2 > T || w2 > T) return [Math.ceil(h2 / T), Math.ceil(w2 / T)];
  return [0, 0];
}

function block(rows, cols) {
  const fake = '<fake_token_around_image>', global = '<global-img>', images = '<image>'.repeat(seqLen);
  if (rows === 0 && cols === 0) return fake + global + images + fake;
  let s = '';
  for (let r = 1; r <= rows; r++) {
    for (let c = 1; c <= cols; c++) s += `${fake}<row_${r}_col_${c}>${images}`;
    s += '\n';
  }
  return s + '\n' + fake + global + images + fake;
}

const text = (t) => ({ type: 'text', text: t });
const image = (width, height) => ({ type: 'image', width, height });
const cases = [
  { name: 'text only', messages: [{ role: 'user', content: [text('What is the capital of France?')] }] },
  { name: 'one square image, split 4x4', messages: [{ role: 'user', content: [image(640, 640), text('Can you describe this image?')] }] },
  { name: 'wide image', messages: [{ role: 'user', content: [image(1280, 640), text('What is written on the banner?')] }] },
  { name: 'tall image', messages: [{ role: 'user', content: [image(480, 1200), text('Read the receipt.')] }] },
  { name: 'two images interleaved with text', messages: [{ role: 'user', content: [text('Compare this photo '), image(800, 600), text(' with this one: '), image(300, 900), text('. Which is brighter?')] }] },
  { name: 'system message and several turns', messages: [
    { role: 'system', content: [text('You are a helpful assistant. Answer briefly.')] },
    { role: 'user', content: [image(1024, 768), text('What animal is this?')] },
    { role: 'assistant', content: [text('A cat sitting on a red sofa.')] },
    { role: 'user', content: [text('And what colour are its eyes? Answer in 3 words, with an emoji 🙂.')] },
  ] },
  { name: 'image without splitting', do_image_splitting: false, messages: [{ role: 'user', content: [image(640, 480), text('Describe it.')] }] },
  { name: 'special-token text typed by the user', messages: [{ role: 'user', content: [text('What does <end_of_utterance> or <|im_end|> mean? Also <row_1_col_1>.')] }] },
];

(async () => {
  const tokenizer = Tokenizer.fromFile(tokenizerPath);
  const encode = async (s, special) => Array.from((await tokenizer.encode(s, null, { addSpecialTokens: special })).getIds());
  const published = { 'User': [11126], ':': [42], 'Assistant:': [9519, 9531, 42] };
  for (const [s, ids] of Object.entries(published)) {
    const got = await encode(s, false);
    if (JSON.stringify(got) !== JSON.stringify(ids)) throw new Error(`published ids of ${s} differ: ${got}`);
  }

  const out = [];
  for (const c of cases) {
    const split = c.do_image_splitting ?? pre.do_image_splitting;
    const rendered = template.render({ messages: c.messages.map((m) => ({ role: m.role, content: m.content.map((p) => (p.type === 'text' ? p : { type: 'image' })) })), add_generation_prompt: true, bos_token: '<|im_start|>', eos_token: '<end_of_utterance>' });
    const grids = c.messages.flatMap((m) => m.content.filter((p) => p.type === 'image').map((p) => grid(p.width, p.height, split)));
    const parts = rendered.split('<image>');
    if (parts.length - 1 !== grids.length) throw new Error('placeholder count');
    let expanded = parts[0];
    grids.forEach(([r, cl], i) => { expanded += block(r, cl) + parts[i + 1]; });
    const ids = await encode(expanded, true);
    out.push({ name: c.name, do_image_splitting: split, messages: c.messages, rendered, grids, expanded, input_ids: ids });
  }

  fs.writeFileSync(outPath, JSON.stringify({
    produced_by: 'generate-prompts.js: @huggingface/jinja 0.5.1 (template), tokenizers 0.23.2 (Rust, ids), idefics3-spec.md rules (grid, expansion)',
    published_ids: published,
    cases: out,
  }, null, 1));
  for (const c of out) console.log(c.name, c.grids, c.input_ids.length);
})();
