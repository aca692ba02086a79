// Generates the tokenizer corpus goldens (corpus.json) with Hugging Face's own tokenizer (the Rust `tokenizers`
// library, published on npm). Not run by CI: the output is committed. To regenerate, in a scratch folder outside the
// repository:
//
//   npm install tokenizers@0.23.2
//   NODE_PATH=$PWD/node_modules node <repo>/tests/Idefics3.Tests/Fixtures/tokenizer-corpus/generate-corpus.js \
//       <smolvlm tokenizer.json> <llama3 tokenizer.json> <repo>/tests/Idefics3.Tests/Fixtures/tokenizer-corpus/corpus.json
//
// The strings are generated from a fixed seed (the same list for both vocabularies), so the output is reproducible.
// For each string and vocabulary the file holds the ids without special tokens, and the decode of those ids with and
// without skip_special_tokens where it differs from the string. corpus.json is then gzipped (gzip -9n).
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

const [smolPath, llamaPath, outPath] = process.argv.slice(2);
if (!outPath) {
  console.error('usage: node generate-corpus.js <smolvlm tokenizer.json> <llama3 tokenizer.json> <out corpus.json>');
  process.exit(2);
}

// mulberry32: a small seeded generator, so the corpus is the same on every run.
let seed = 0x1DEF1C53;
function rnd() {
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (n) => Math.floor(rnd() * n);
const pick = (a) => a[int(a.length)];
const range = (from, to) => { const r = []; for (let c = from; c <= to; c++) r.push(String.fromCodePoint(c)); return r; };
const many = (n, f, sep = '') => Array.from({ length: n }, f).join(sep);

const words = ('the of and to in is you that it he was for on are as with his they at be this have from or one had by ' +
  'word but not what all were we when your can said there use an each which she do how their if will up other about ' +
  'out many then them these so some her would make like him into time has look two more write go see number no way ' +
  'could people my than first water been call who oil its now find long down day did get come made may part Hello ' +
  'World OpenAI JSON HTTP GPU TorchSharp Idefics3 SmolVLM isn\'t don\'t I\'m we\'ve they\'re she\'ll he\'d IT\'S ' +
  'WE\'LL naïve café résumé coöperate façade Straße İstanbul ǅemal ǈudevit').split(' ');
const scripts = {
  cyrillic: 'Съешь же ещё этих мягких французских булок да выпей чаю Привет мир Ёжик',
  greek: 'Ξεσκεπάζω την ψυχοφθόρα βδελυγμία Καλημέρα κόσμε ΆΈΉΊΌΎΏ ΐΰ',
  arabic: 'صِف خَلقَ خَودِ كَمِثلِ الشَمسِ إِذ بَزَغَت مرحبا بالعالم ١٢٣٤٥',
  hebrew: 'דג סקרן שט בים מאוכזב ולפתע מצא חברה שלום עולם',
  devanagari: 'ऋषियों को सताने वाले दुष्ट राक्षसों के राजा रावण का सर्वनाश करने वाले विष्णुवतार भगवान श्रीराम ०१२३',
  thai: 'เป็นมนุษย์สุดประเสริฐเลิศคุณค่า กว่าบรรดาฝูงสัตว์เดรัจฉาน ๑๒๓',
  cjk: '我能吞下玻璃而不伤身体 こんにちは世界 カタカナ ひらがな 漢字 한국어 키스의 고유조건은 입술끼리 만나야 하고',
  georgian: 'გამარჯობა მსოფლიო ქართული ენა',
  armenian: 'Բարեւ աշխարհ Հայերեն',
  ethiopic: 'ሰላም ልዑል ዓለም ኢትዮጵያ',
  tamil: 'வணக்கம் உலகம் தமிழ் ௧௨௩',
  bengali: 'ওহে বিশ্ব বাংলা ভাষা ১২৩',
  vietnamese: 'Tiếng Việt có dấu: Chào thế giới, đường phố Hà Nội',
  combining: 'e\u0301 a\u0308 n\u0303 o\u0302\u0323 Z\u0351\u0358\u0361a\u036B\u0307l\u0313g\u0315o',
};
const astralLetters = [
  ...range(0x1D400, 0x1D433), // mathematical bold A..z
  ...range(0x1D434, 0x1D454), ...range(0x1D456, 0x1D467), // mathematical italic (U+1D455 is unassigned)
  ...range(0x1D4D0, 0x1D503), // mathematical bold script
  ...range(0x20000, 0x2001F), ...range(0x2A700, 0x2A70F), ...range(0x2B740, 0x2B74F), // CJK Ext B, C, D
  ...range(0x30000, 0x3000F), // CJK Ext G (Unicode 13)
  ...range(0x10330, 0x1034A), // Gothic
  ...range(0x10400, 0x1044F), // Deseret (cased)
  ...range(0x104B0, 0x104D3), ...range(0x104D8, 0x104FB), // Osage (cased)
  ...range(0x1E900, 0x1E943), // Adlam (cased)
  ...range(0x10000, 0x1000B), // Linear B
  ...range(0x12000, 0x1200F), // Cuneiform
  ...range(0x16A40, 0x16A5E), // Mro
];
const astralDigits = [...range(0x1D7CE, 0x1D7FF), ...range(0x104A0, 0x104A9), ...range(0x1E950, 0x1E959), ...range(0x11066, 0x1106F)];
const astralNumbers = [...range(0x10107, 0x10133), ...range(0x12400, 0x1240F), ...range(0x1D360, 0x1D371)]; // No, Nl
const astralSymbols = [...range(0x1D100, 0x1D126), ...range(0x1F300, 0x1F32F), ...range(0x1F680, 0x1F6A0), ...range(0x1F900, 0x1F92F), ...range(0x1F030, 0x1F04F)];
const astralMarks = [...range(0x1D165, 0x1D169), ...range(0x11000, 0x11002), ...range(0x1E944, 0x1E94A)];
// Letters and digits of recent Unicode versions (14.0 to 17.0), where the Unicode tables of .NET and of Hugging Face's
// regex engine may differ: Vithkuqi, Cypro-Minoan, Toto (14.0); Kawi, Nag Mundari, CJK Ext H, Cyrillic modifiers
// (15.0); CJK Ext I (15.1); Garay, Tulu-Tigalari, Ol Onal, Gurung Khema, Kirat Rai, Sunuwar, outlined digits (16.0);
// Sidetic, Tolong Siki, Beria Erfe, Tai Yo, CJK Ext J (17.0).
const recentLetters = [...range(0x10570, 0x1057A), ...range(0x12F90, 0x12F9F), ...range(0x1E290, 0x1E2AD), ...range(0x11F04, 0x11F10),
  ...range(0x1E4D0, 0x1E4EB), ...range(0x31350, 0x3135F), ...range(0x1E030, 0x1E03F), ...range(0x2EBF0, 0x2EBFF), ...range(0x10D4A, 0x10D65),
  ...range(0x11380, 0x11389), ...range(0x1E5D0, 0x1E5ED), ...range(0x16100, 0x1611D), ...range(0x16D43, 0x16D6A), ...range(0x11BC0, 0x11BE0),
  ...range(0x10940, 0x10959), ...range(0x11DB0, 0x11DD8), ...range(0x16EA0, 0x16EB8), ...range(0x1E6C0, 0x1E6DE), ...range(0x323B0, 0x323BF)];
const recentDigits = [...range(0x1CCF0, 0x1CCF9), ...range(0x11F50, 0x11F59), ...range(0x16130, 0x16139), ...range(0x1E5F1, 0x1E5FA), ...range(0x16D70, 0x16D79), ...range(0x11BF0, 0x11BF9)];
const digits = [...'0123456789', ...'٠١٢٣٤٥٦٧٨٩', ...'०१२३४५६७८९', ...'０１２３４５６７８９', ...'²³¹¼½¾⅓⅔', ...'ⅠⅡⅢⅣⅫⅰⅱ', ...'①②③⑳'];
const spaces = [' ', '  ', '   ', '\t', '\n', '\n\n', '\r\n', '\r', '\u00A0', '\u3000', '\u2009', '\u202F', '\u2028', '\u0085', ' \n ', '\t\t', '\u000B', '\u000C'];
const punct = [...'.,;:!?\'"()[]{}<>-_/\\|@#$%^&*+=~`', '...', '—', '–', '«', '»', '“', '”', '‘', '’', '¿', '¡', '…', '・', '。', '、', '！', '？'];
const emoji = ['🙂', '😀', '👍', '👍🏽', '👍🏿', '❤️', '❤', '✨', '🔥', '🎉', '🇫🇷', '🇯🇵', '🇺🇸', '🏳️‍🌈', '👨‍👩‍👧‍👦',
  '👩🏽‍💻', '🧑‍🚀', '👁️‍🗨️', '🏴‍☠️', '1️⃣', '#️⃣', '🫠', '🫶🏼', '🪿', '🐈‍⬛', '🧔🏻‍♀️', '👩‍❤️‍💋‍👨', '☕', '⌚', '©️', '™', '🈚', '🀄', '🂡'];
const specials = ['<image>', '<fake_token_around_image>', '<global-img>', '<row_1_col_1>', '<row_6_col_6>', '<row_3_col_2>',
  '<end_of_utterance>', '<|im_start|>', '<|im_end|>', '<|endoftext|>', '<|begin_of_text|>', '<|end_of_text|>',
  '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>', '<|reserved_special_token_0|>', '<|reserved_special_token_87|>',
  '<repo_name>', '<file_sep>', '<jupyter_code>', '<image', 'image>', '<|im_start', '<row_7_col_1>', '<imag>', '<IMAGE>'];
const codes = [
  'def f(x):\n    return x ** 2  # square\n',
  'for (int i = 0; i < n; i++) { sum += a[i]; }',
  'const x = await fetch(`https://api.example.com/v1/items?id=${id}&q=42`);',
  '{"name": "Idefics3", "layers": [1, 2, 3], "ok": true, "pi": 3.14159}',
  '<div class="a b">Hello &amp; goodbye</div>',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC;',
  'if __name__ == "__main__":\n\tmain()\r\n',
  'public sealed record Foo(int Id, string? Name);',
  'x=>x*2;y+=1;z&&=w||v??u',
  '#include <stdio.h>\nint main(void){printf("%d\\n", 0x7FFF);}',
  '    \n        indented\n\t\tmixed   \n',
  'git commit -m "fix: a\'s b" && echo $?',
  'λx.λy.x y ∀x∈ℝ: x²≥0 ∑_{i=1}^{n} i = n(n+1)/2',
  '$$\\frac{a}{b} \\cdot \\sqrt{x^2+y^2}$$',
];
const urls = ['https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct', 'http://example.com:8080/path/to/file.html?a=1&b=2#frag',
  'mailto:someone@example.org', 'ftp://ftp.example.net/pub/file_v2.3.tar.gz', 'https://例え.テスト/パス?検索=値',
  'https://xn--r8jz45g.xn--zckzah/', 'C:\\Users\\me\\Documents\\report (1).pdf', '/usr/local/lib/python3.11/site-packages/',
  'user.name+tag@sub.example.co.uk', 'https://en.wikipedia.org/wiki/Unicode_(disambiguation)', 'www.example.com/~user/index.php'];

const categories = [];
function add(name, count, gen) { categories.push({ name, count, gen }); }

add('words', 250, () => many(1 + int(12), () => pick(words), pick([' ', ' ', ' ', ', ', '. ', '  ', '\n'])) + pick(['', '.', '!', '?', '...', ' ']));
add('scripts', 300, () => { const s = scripts[pick(Object.keys(scripts))].split(' '); const i = int(s.length); return s.slice(i, i + 1 + int(6)).join(pick([' ', '  ', ', ', '\n'])) + pick(['', '.', '!', '?', '。', ' 123', '']); });
add('mixed-scripts', 200, () => many(2 + int(6), () => { const s = scripts[pick(Object.keys(scripts))].split(' '); return pick(s); }, pick([' ', '', '-', '/'])));
add('digits', 250, () => many(1 + int(5), () => pick([
  () => String(int(10 ** (1 + int(9)))), () => many(1 + int(8), () => pick(digits)), () => `${int(1000)}.${int(1000)}`,
  () => `${int(100)},${String(int(1000)).padStart(3, '0')}`, () => `-${int(50)}e${int(20)}`, () => `v${int(10)}.${int(10)}.${int(30)}`,
  () => `${int(24)}:${String(int(60)).padStart(2, '0')}`, () => `1${'0'.repeat(int(20))}`, () => many(1 + int(4), () => pick(astralDigits)),
  () => pick(words) + int(1000) + pick(words), () => pick(astralNumbers) + int(10)])(), pick([' ', '', ' + ', 'x', '-'])));
add('whitespace', 300, () => many(1 + int(8), () => pick([() => pick(words), () => pick(spaces), () => pick(spaces) + pick(spaces), () => pick(punct), () => pick(digits)])()) + pick(['', ' ', '   ', '\n', '\n\n', '\t', ' \n']));
add('emoji', 300, () => many(1 + int(6), () => pick([() => pick(emoji), () => pick(emoji) + pick(emoji), () => pick(words), () => pick(punct), () => pick(astralSymbols)])(), pick([' ', '', ' ', '\u200D', '\uFE0F'])));
add('code', 250, () => { const c = pick(codes); const i = int(c.length); return pick([c, c.slice(i), c.slice(0, i), c + pick(codes)]) || c; });
add('urls', 150, () => pick(['', 'See ', 'Link: ', '(', '<', '"']) + pick(urls) + pick(['', '.', ')', '>', '"', ', and more', ' 🙂']));
add('astral-letters', 450, () => many(1 + int(6), () => pick([
  () => many(1 + int(4), () => pick(astralLetters)), () => pick(punct) + pick(astralLetters), () => pick(astralLetters) + pick(punct),
  () => pick(astralLetters) + pick(punct) + pick(astralLetters), () => "'" + pick(astralLetters), () => pick(words) + pick(astralLetters),
  () => pick(astralLetters) + pick(digits), () => ' ' + pick(astralLetters), () => pick(astralLetters) + pick(astralMarks),
  () => pick(astralDigits) + pick(astralLetters), () => pick(spaces) + pick(astralLetters) + '\n'])(), pick(['', ' ', '', '-'])));
add('recent-unicode', 150, () => many(1 + int(5), () => pick([
  () => pick(punct) + pick(recentLetters) + pick(recentLetters), () => pick(recentLetters) + pick(punct), () => "'" + pick(recentLetters),
  () => pick(words) + pick(recentLetters), () => pick(recentDigits) + pick(recentDigits) + pick(recentDigits) + pick(recentDigits),
  () => ' ' + pick(recentLetters) + pick(digits), () => pick(recentLetters) + pick(recentDigits)])(), pick(['', ' ', ','])));
add('specials', 250, () => many(1 + int(5), () => pick([() => pick(specials), () => pick(words), () => ' ' + pick(specials) + ' ', () => pick(specials) + pick(specials), () => '\n' + pick(specials)])(), pick(['', ' ', '\n'])));
add('contractions', 150, () => many(1 + int(6), () => pick(["'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'ve", "'VE", "'m", "'M", "'ll", "'LL", "'d", "'D", "'ſ", "'K", "'x", "''", "' s", "’s"]) + pick(['', ' ', 'x', '.', pick(words)]), pick(['', ' ', pick(words)])));
add('random-codepoints', 400, () => {
  const pools = [() => 0x20 + int(0x5F), () => 0xA0 + int(0x2F60), () => 0x3000 + int(0x7000), () => 0xAC00 + int(0x2BA4), () => 0xF900 + int(0x600),
    () => 0x10000 + int(0x2000), () => 0x1D400 + int(0x400), () => 0x1F300 + int(0x700), () => 0x20000 + int(0xA6E0), () => 0x2F800 + int(0x220)];
  let s = '';
  const n = 1 + int(14);
  for (let i = 0; i < n; i++) {
    const cp = pick(pools)();
    if ((cp >= 0xD800 && cp <= 0xDFFF) || cp === 0xFFFE || cp === 0xFFFF) continue;
    s += String.fromCodePoint(cp);
  }
  return s || 'x';
});
add('long', 50, () => many(20 + int(40), () => pick([() => pick(words), () => pick(emoji), () => pick(astralLetters), () => pick(digits), () => pick(punct), () => String(int(99999))])(), pick([' ', ' ', '\n', ''])));

const strings = [];
const seen = new Set();
for (const c of categories) {
  let made = 0;
  let tries = 0;
  while (made < c.count && tries < c.count * 20) {
    tries++;
    const s = c.gen();
    if (s.length === 0 || seen.has(s) || !s.isWellFormed()) continue;
    seen.add(s);
    strings.push({ category: c.name, text: s });
    made++;
  }
}

async function run(path) {
  const tokenizer = Tokenizer.fromFile(path);
  const out = [];
  for (const { text } of strings) {
    const enc = await tokenizer.encode(text, null, { addSpecialTokens: false });
    const ids = Array.from(enc.getIds());
    const decoded = await tokenizer.decode(ids, false);
    const decodedSkip = await tokenizer.decode(ids, true);
    const row = { ids };
    if (decoded !== text) row.decoded = decoded;
    if (decodedSkip !== decoded) row.decoded_skip_special = decodedSkip;
    out.push(row);
  }
  return out;
}

(async () => {
  const smol = await run(smolPath);
  const llama = await run(llamaPath);
  const cases = strings.map((s, i) => ({ category: s.category, text: s.text, smolvlm: smol[i], llama3: llama[i] }));
  const doc = {
    produced_by: 'tokenizers (Hugging Face, Rust) 0.23.2 via npm; generate-corpus.js in this folder',
    vocabularies: { smolvlm: 'HuggingFaceTB/SmolVLM-256M-Instruct tokenizer.json', llama3: 'Idefics3-8B-Llama3 tokenizer.json (Llama 3.1 + 3 added tokens)' },
    cases,
  };
  fs.writeFileSync(outPath, JSON.stringify(doc));
  const counts = {};
  for (const s of strings) counts[s.category] = (counts[s.category] || 0) + 1;
  console.log(strings.length, 'strings', counts);
})();
