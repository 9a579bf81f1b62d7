#!/usr/bin/env node
// A new employee's journey through Omtanke in the Microsoft 365 Agents Playground, then the RUG
// side of their proposal (endorsement, the case card in RUG's channel, a decision, the notice),
// a group chat, an idea in the employee's own words, a declined question escalated to the
// coordinators and answered by one, and a phone-width check, driven in headless Chromium by
// playwright-core.
//
// Expects the employee's playground page at JOURNEY_URL (default http://127.0.0.1:56150/) and
// the RUG member's at JOURNEY_RUG_URL (default http://127.0.0.1:56151/), the bot behind both.
// Run it through tests/browser/run_journey.sh, which starts the bot and the playgrounds inside a
// loopback-only network namespace.
//
// Prints one JSON object per line on stdout: {"stage": …, "ok": true, …} for each stage,
// then {"result": "passed"|"failed", "stages": […]}. Exits 1 on the first failed stage,
// with a screenshot (failure-<stage>.png) and the chat's last messages on stderr.
//
// Environment:
//   JOURNEY_URL               the employee's playground page (default http://127.0.0.1:56150/)
//   JOURNEY_RUG_URL           the RUG member's playground page (default http://127.0.0.1:56151/)
//   JOURNEY_ARTIFACTS         screenshot folder (default tests/artifacts/playground)
//   JOURNEY_STAGE_TIMEOUT_MS  bound for each stage's wait (default 20000)
//   JOURNEY_TOTAL_TIMEOUT_MS  watchdog for the whole script (default 240000)
//   JOURNEY_CHROMIUM          browser executable (default /usr/bin/chromium)
//   JOURNEY_MAX_STEPS         most proposal cards walked before giving up (default 30)
//
// Second use: `node journey.cjs locale-proxy PORT TARGET [LOCALE]`, the loopback proxy that
// makes the playground's messages carry a Swedish client's locale (see localeProxy below).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..', '..');
const URL = process.env.JOURNEY_URL || 'http://127.0.0.1:56150/';
const RUG_URL = process.env.JOURNEY_RUG_URL || 'http://127.0.0.1:56151/';
const ARTIFACTS = path.resolve(process.env.JOURNEY_ARTIFACTS || path.join(ROOT, 'tests', 'artifacts', 'playground'));
const STAGE_MS = Number(process.env.JOURNEY_STAGE_TIMEOUT_MS || 20000);
const TOTAL_MS = Number(process.env.JOURNEY_TOTAL_TIMEOUT_MS || 240000);
const CHROMIUM = process.env.JOURNEY_CHROMIUM || '/usr/bin/chromium';
const MAX_STEPS = Number(process.env.JOURNEY_MAX_STEPS || 30);
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// What the employee types and picks. Realistic text so that length checks in the dialog pass.
const QUESTION = 'Vad är nära vård?';
const IDEA_TITLE = 'Digital hälsokoll för äldre i hemmet';
const IDEA_TEXT = 'Vi vill pröva digitala hembesök tillsammans med kommunens hemsjukvård och '
  + 'vårdcentralen, så att de mest sjuka äldre får en tryggare och mer sammanhållen vård nära hemmet.';
const MUNICIPALITIES = /Kungsbacka|Varberg|Falkenberg|Hylte|Halmstad|Laholm/i;

const SEL = {
  textbox: 'div[role="textbox"][contenteditable="true"]',
  message: '.fai-OutputCard',
  card: '.ac-adaptiveCard',
  // A post in a team channel (the new-post composer is one too: it has no card and no bot name).
  post: 'div.fui-Card[role="group"]',
};
// The bot's display name in the playground (its config's bot.name).
const BOT_NAME = 'Test Bot';

const stages = [];
// The page the helpers act on (the employee's or the RUG member's client) and how that page's
// current conversation shows the bot's messages (chat bubbles, or posts in a team channel).
let page = null;
let messageSel = SEL.message;
let context = null;
let shotNo = 0;

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function log(msg) {
  process.stderr.write(`[journey] ${msg}\n`);
}

class StageError extends Error {}

function fail(msg) {
  throw new StageError(msg);
}

async function screenshot(name) {
  shotNo += 1;
  const file = path.join(ARTIFACTS, `${String(shotNo).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, timeout: 10000 });
  return path.relative(ROOT, file);
}

// The bot's messages as the page shows them: index, text, whether it holds a card.
async function botMessages() {
  return page.evaluate(([sel, card]) => [...document.querySelectorAll(sel)].map((el, i) => ({
    i,
    text: (el.innerText || '').trim(),
    card: !!el.querySelector(card),
  })), [messageSel, SEL.card]);
}

// Act on page p from now on; `channel` when its open conversation is a team channel.
function use(p, { channel = false } = {}) {
  page = p;
  messageSel = channel ? SEL.post : SEL.message;
}

// Wait until a bot message with index >= from matches the predicate (text RegExp), or until
// the message at index `watch` (a card updated in place) does with a text other than
// `watchText`. Returns the message.
async function waitForMessage(from, pattern, what, { watch = -1, watchText = null, needCard = true } = {}) {
  const deadline = Date.now() + STAGE_MS;
  let last = [];
  while (Date.now() < deadline) {
    last = await botMessages();
    const hit = last.filter((m) => (m.i >= from || (m.i === watch && m.text !== watchText)) && (!needCard || m.card)
      && pattern.test(m.text));
    if (hit.length) return hit[hit.length - 1];
    await page.waitForTimeout(250);
  }
  const tail = last.slice(-3).map((m) => `#${m.i}: ${m.text.replace(/\s+/g, ' ').slice(0, 300)}`);
  fail(`no ${what} (${pattern}) within ${STAGE_MS} ms; last bot messages:\n  ${tail.join('\n  ') || '(none)'}`);
  return null;
}

function messageAt(i) {
  return page.locator(messageSel).nth(i);
}

async function buttonNames(scope) {
  return scope.locator('button[role="button"], button').evaluateAll((els) => els
    .map((e) => (e.getAttribute('aria-label') || e.innerText || '').trim())
    .filter((t) => t && !/^(Show more information|Open|Close)$/i.test(t)));
}

async function sendText(text) {
  const box = page.locator(SEL.textbox).first();
  await box.click({ timeout: STAGE_MS });
  await box.fill(text, { timeout: STAGE_MS });
  await box.press('Enter');
}

// In a group chat Teams gives the bot only messages that @mention it, and so does the playground:
// type "@", pick the bot from the suggestions, then the text.
async function sendMention(text) {
  const box = page.locator(SEL.textbox).first();
  await box.click({ timeout: STAGE_MS });
  await page.keyboard.type(`@${BOT_NAME.split(' ')[0]}`);
  await page.getByRole('menuitem', { name: BOT_NAME }).first().click({ timeout: STAGE_MS });
  await page.keyboard.type(` ${text}`);
  await page.keyboard.press('Enter');
}

async function stage(name, fn) {
  const started = Date.now();
  log(`stage ${name} …`);
  try {
    const details = (await fn()) || {};
    const rec = { stage: name, ok: true, ms: Date.now() - started, ...details };
    stages.push(rec);
    emit(rec);
    return rec;
  } catch (err) {
    let shot = null;
    try {
      shot = await screenshot(`failure-${name}`);
    } catch (e) {
      log(`could not take failure screenshot: ${e.message}`);
    }
    const rec = { stage: name, ok: false, ms: Date.now() - started, error: String(err.message || err), screenshot: shot };
    stages.push(rec);
    emit(rec);
    throw err;
  }
}

// ---- filling a card's inputs -------------------------------------------------------------

// What to type, from the input's label and the step's question (the card's first lines).
function textFor(label, question) {
  const l = `${label || ''} ${question || ''}`.toLowerCase();
  if (/titel|namn på|rubrik|kort namn|vad heter/.test(l)) return IDEA_TITLE;
  if (/var arbetar du|organisation och enhet|din enhet/.test(l)) return 'Region Halland, Närsjukvården Varberg';
  if (/e-?post|mejl|mail/.test(l)) return 'anna.andersson@example.org';
  if (/telefon/.test(l)) return '035-123 45 67';
  if (/antal|hur många|siffra/.test(l)) return '12';
  return IDEA_TEXT;
}

async function labelOf(loc) {
  return loc.evaluate((el) => {
    const parts = [el.getAttribute('aria-label') || '', el.getAttribute('placeholder') || ''];
    for (const id of (el.getAttribute('aria-labelledby') || '').split(/\s+/)) {
      const ref = id && document.getElementById(id);
      if (ref) parts.push(ref.innerText || '');
    }
    const seen = [];
    for (const t of parts.map((x) => x.replace(/\s+/g, ' ').trim())) if (t && !seen.includes(t)) seen.push(t);
    return seen.join(' / ');
  });
}

// Choose which options of a choice set to pick: Region Halland and a municipality where
// offered (skallkrav 1), otherwise the first option.
function pickOptions(names, multi) {
  const picks = [];
  const region = names.findIndex((n) => /region halland/i.test(n));
  const muni = names.findIndex((n) => MUNICIPALITIES.test(n));
  if (region >= 0) picks.push(region);
  if (multi && muni >= 0) picks.push(muni);
  if (!multi && picks.length === 0 && muni >= 0) picks.push(muni);
  if (picks.length === 0 && names.length) picks.push(0);
  return multi ? picks : picks.slice(0, 1);
}

async function fillCard(card, cardText) {
  const filled = [];
  const question = cardText.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 3).join(' ');
  const hasChoices = (await card.getByRole('combobox').count()) + (await card.getByRole('checkbox').count())
    + (await card.getByRole('radio').count()) > 0;
  // Input.Text (single and multi-line): rendered as textbox with aria-label = placeholder.
  const boxes = card.getByRole('textbox');
  for (let k = 0; k < await boxes.count(); k += 1) {
    const box = boxes.nth(k);
    if (!(await box.isEditable())) continue;
    if ((await box.inputValue()).trim()) continue; // kept from an earlier visit (Tillbaka)
    const label = await labelOf(box);
    if (hasChoices && /annat|övrig|skriv fritt/i.test(label)) continue; // free text beside the choices
    const value = textFor(label, question);
    await box.fill(value, { timeout: STAGE_MS });
    filled.push({ kind: 'text', label, value });
  }
  // Compact Input.ChoiceSet: a combobox; multi-select options are menuitemcheckbox.
  const combos = card.getByRole('combobox');
  for (let k = 0; k < await combos.count(); k += 1) {
    const combo = combos.nth(k);
    if ((await combo.inputValue()).trim()) continue;
    const label = await labelOf(combo);
    await combo.click({ timeout: STAGE_MS });
    const multiItems = page.getByRole('menuitemcheckbox');
    const singleItems = page.getByRole('option');
    await Promise.race([
      multiItems.first().waitFor({ timeout: STAGE_MS }),
      singleItems.first().waitFor({ timeout: STAGE_MS }),
    ]);
    const multi = (await multiItems.count()) > 0;
    const items = multi ? multiItems : singleItems;
    const names = (await items.allInnerTexts()).map((t) => t.trim());
    const picks = pickOptions(names, multi);
    for (const p of picks) {
      if ((await items.count()) === 0) await combo.click();
      await items.nth(p).click({ timeout: STAGE_MS });
    }
    if (multi) await page.keyboard.press('Escape');
    filled.push({ kind: multi ? 'multiselect' : 'select', label, value: picks.map((p) => names[p]) });
  }
  // Expanded Input.ChoiceSet (checkboxes / radios) and Input.Toggle (a lone checkbox), grouped
  // by the input container they sit in; a group with nothing checked gets a pick.
  for (const role of ['checkbox', 'radio']) {
    const opts = card.getByRole(role);
    const n = await opts.count();
    if (n === 0) continue;
    const groups = new Map();
    const containers = [];
    for (let k = 0; k < n; k += 1) {
      const handle = await opts.nth(k).elementHandle();
      const container = await handle.evaluateHandle((el) => el.closest('.ac-input-container') || el.parentElement);
      let key = -1;
      for (let c = 0; c < containers.length; c += 1) {
        if (await page.evaluate(([a, b]) => a === b, [containers[c], container])) key = c;
      }
      if (key < 0) { containers.push(container); key = containers.length - 1; }
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push({ k, name: await labelOf(opts.nth(k)).catch(() => ''), checked: await opts.nth(k).isChecked() });
    }
    for (const members of groups.values()) {
      if (members.some((m) => m.checked)) continue;
      const names = members.map((m) => m.name);
      const picks = pickOptions(names, role === 'checkbox');
      for (const p of picks) await opts.nth(members[p].k).check({ timeout: STAGE_MS });
      filled.push({ kind: members.length === 1 && role === 'checkbox' ? 'toggle' : role, value: picks.map((p) => names[p]) });
    }
  }
  return filled;
}

const FORWARD = /^(Nästa|Fortsätt|Granska|Visa sammanfattning|Sammanfattning|Klar)\b/i;
const STEP = /Steg\s+(\d+)\s+av\s+(\d+)/i;
const SUMMARY = /skallkrav/i;
// The summary: mentions the skallkrav and is no step card (or is one titled as the summary).
function isSummary(text) {
  return SUMMARY.test(text) && (!STEP.test(text) || /sammanfattning|granska/i.test(text));
}

async function forwardButton(card) {
  const names = await buttonNames(card);
  const name = names.find((n) => FORWARD.test(n));
  if (!name) fail(`no forward button on the step card; buttons: ${JSON.stringify(names)}`);
  return { name, button: card.getByRole('button', { name, exact: true }).first() };
}

// ---- the journey ---------------------------------------------------------------------------

async function journey() {
  const { chromium } = require(path.join(ROOT, 'node_modules', 'playwright-core'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omtanke-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1400, height: 1000 },
    locale: 'sv-SE',
  });
  context.setDefaultTimeout(STAGE_MS);
  // The page asks a CDN for fonts; nothing but loopback is allowed (the namespace blocks it too).
  await context.route((u) => !/^(https?|wss?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(u.href),
    (route) => route.abort());
  page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => log(`page error: ${e.message}`));

  await stage('page', async () => {
    await page.goto(URL, { timeout: STAGE_MS, waitUntil: 'domcontentloaded' });
    await page.locator(SEL.textbox).first().waitFor({ state: 'visible', timeout: STAGE_MS });
    const title = await page.title();
    return { title, screenshot: await screenshot('page') };
  });

  // The playground sends installationUpdate and conversationUpdate (membersAdded: user and bot)
  // for the personal chat when the page connects; the bot answers with its welcome card.
  let welcome;
  await stage('welcome', async () => {
    const msg = await waitForMessage(0, /Jag har en idé/i, 'welcome card');
    welcome = messageAt(msg.i);
    const buttons = await buttonNames(welcome);
    for (const want of [/^Jag har en idé/i, /nära vård/i]) {
      if (!buttons.some((b) => want.test(b))) fail(`welcome card lacks a button ${want}; buttons: ${JSON.stringify(buttons)}`);
    }
    await welcome.scrollIntoViewIfNeeded();
    return { message: msg.i, buttons, text: msg.text.slice(0, 400), screenshot: await screenshot('welcome') };
  });

  await stage('question', async () => {
    const before = (await botMessages()).length;
    await sendText(QUESTION);
    const msg = await waitForMessage(before, /Källa:/, 'answer card with "Källa:"');
    const answer = messageAt(msg.i);
    await answer.scrollIntoViewIfNeeded();
    const source = (msg.text.match(/Källa:[^\n]*/) || [''])[0];
    return { message: msg.i, question: QUESTION, source, text: msg.text.slice(0, 600), buttons: await buttonNames(answer), screenshot: await screenshot('question') };
  });

  let stepCard;
  let stepMsg;
  await stage('proposal_start', async () => {
    const before = (await botMessages()).length;
    await welcome.getByRole('button', { name: /^Jag har en idé/i }).first().click({ timeout: STAGE_MS });
    stepMsg = await waitForMessage(before, /Steg\s+1\s+av\s+\d+/i, 'first proposal step ("Steg 1 av")');
    stepCard = messageAt(stepMsg.i);
    await stepCard.scrollIntoViewIfNeeded();
    const [, n, of] = stepMsg.text.match(STEP);
    return { message: stepMsg.i, step: Number(n), of: Number(of), buttons: await buttonNames(stepCard), text: stepMsg.text.slice(0, 400), screenshot: await screenshot('proposal-step-1') };
  });

  // Walk the steps: fill the card's inputs, press the forward button, expect the next card (a
  // new step, a sub-step such as "Steg 6 av 12 – Trygg", or the summary). Optional steps with
  // "Hoppa över" are skipped. The first step's submit is its own stage: a card input filled and
  // submitted. A step card shown again unchanged means the bot refused the answer: fail then.
  const typed = [];
  let summary = null;
  let current = stepMsg;
  const seen = new Map();
  for (let walked = 0; walked < MAX_STEPS && !summary; walked += 1) {
    const header = (current.text.match(STEP) || ['?'])[0];
    const n = (current.text.match(STEP) || [null, '?'])[1];
    const of = (current.text.match(STEP) || [null, null, '?'])[2];
    const visits = (seen.get(current.text) || 0) + 1;
    seen.set(current.text, visits);
    const sameStep = [...seen.keys()].filter((t) => (t.match(STEP) || [])[1] === n).length;
    const name = walked === 0 ? 'card_input' : `step_${n}${sameStep > 1 ? `_${sameStep}` : ''}${visits > 1 ? '_again' : ''}`;
    await stage(name, async () => {
      if (visits > 1) fail(`the bot showed the same card again (answer refused?): ${current.text.replace(/\s+/g, ' ').slice(0, 400)}`);
      const card = messageAt(current.i).locator(SEL.card).last();
      const buttons = await buttonNames(card);
      const skip = walked > 0 ? buttons.find((b) => /^Hoppa över/i.test(b)) : undefined;
      const filled = skip ? [] : await fillCard(card, current.text);
      for (const f of filled) if (f.kind === 'text') typed.push(f.value);
      if (walked === 0 && !filled.length) fail(`step 1 card has no input to fill; text: ${current.text.slice(0, 300)}`);
      await card.scrollIntoViewIfNeeded();
      const filledShot = await screenshot(`step-${n}-${skip ? 'skip' : 'filled'}`);
      let forward = skip;
      let button = skip ? card.getByRole('button', { name: skip, exact: true }).first() : null;
      if (!skip) ({ name: forward, button } = await forwardButton(card));
      const before = (await botMessages()).length;
      await button.click({ timeout: STAGE_MS });
      const next = await waitForMessage(before, /Steg\s+\d+\s+av\s+\d+|skallkrav/i,
        `the card after "${header}" (next step or summary)`, { watch: current.i, watchText: current.text });
      const between = (await botMessages()).filter((m) => m.i >= before && m.i < next.i && !m.card)
        .map((m) => m.text.replace(/\s+/g, ' ').slice(0, 200));
      current = next;
      if (isSummary(next.text)) summary = next;
      const nextCard = messageAt(next.i);
      await nextCard.scrollIntoViewIfNeeded();
      return {
        step: Number(n), of: Number(of), header, filled, pressed: forward, bot_said: between,
        next: summary ? 'summary' : (next.text.match(STEP) || [''])[0],
        screenshot: filledShot, after: await screenshot(summary ? 'summary' : `step-${n}-submitted`),
      };
    });
  }

  await stage('summary', async () => {
    if (!summary) fail(`no summary card with its skallkrav checklist after ${MAX_STEPS} steps`);
    const card = messageAt(summary.i);
    const lines = summary.text.split('\n').map((l) => l.trim()).filter(Boolean);
    const start = lines.findIndex((l) => SUMMARY.test(l));
    const checklist = lines.slice(start + 1).filter((l) => /^\S*\s*[1-4]\.\s/.test(l)).slice(0, 4);
    if (checklist.length !== 4) fail(`summary card lacks the four numbered skallkrav lines: ${JSON.stringify(lines.slice(start))}`);
    const met = checklist.filter((l) => /^[✔✅☑✓]/.test(l)).length;
    const echoed = typed.filter((t) => summary.text.includes(t.slice(0, 30)));
    if (typed.length && !echoed.length) fail(`summary shows none of the typed values ${JSON.stringify(typed.map((t) => t.slice(0, 40)))}`);
    await card.scrollIntoViewIfNeeded();
    // The card is taller than the chat pane: a tall window shows it whole.
    const box = await card.boundingBox();
    await page.setViewportSize({ width: 1400, height: Math.min(4000, Math.ceil((box ? box.height : 0) + 400)) });
    await card.scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    const cardShot = path.join(ROOT, await screenshot('summary-whole-card'));
    await page.setViewportSize({ width: 1400, height: 1000 });
    return { message: summary.i, checklist, met, whole_card: path.relative(ROOT, cardShot), echoed: echoed.map((t) => t.slice(0, 40)), buttons: await buttonNames(card), text: summary.text.slice(0, 1200), screenshot: await screenshot('summary-card') };
  });
  await rugSide(page, summary);
}

// ---- the RUG side -----------------------------------------------------------------------
// A second playground is the RUG member's Teams (Megan Bowen, in the bot's RUG list); the
// employee (Alex Wilber) is not in RUG. Both talk to the same bot.

const PID = /OH-\d{4}-\d{4}/;
const MOTIVATION = 'Väl förankrat hos kommunen och vårdcentralen; RUG vill följa resultaten efter ett halvår.';
const MOBILE = { width: 390, height: 844 };
// The width a card gets on a 390 px phone in Teams (the window less 16 px on each side).
const MOBILE_CARD_PX = MOBILE.width - 32;

// Open a conversation in the playground's left pane (Personal Chat, Group Chat, a team channel).
async function openConversation(name, { channel = false } = {}) {
  await page.getByRole('treeitem', { name, exact: true }).click({ timeout: STAGE_MS });
  use(page, { channel });
}

// The bot's posts in the open team channel (the composer and the person's own posts left out).
async function botPosts() {
  return (await botMessages()).filter((m) => m.text.startsWith(BOT_NAME));
}

async function waitForPost(pattern, what, { card = true, not = null } = {}) {
  const deadline = Date.now() + STAGE_MS;
  let last = [];
  while (Date.now() < deadline) {
    last = await botPosts();
    const hit = last.filter((m) => (!card || m.card) && pattern.test(m.text) && !(not && not.test(m.text)));
    if (hit.length) return hit[hit.length - 1];
    await page.waitForTimeout(250);
  }
  const tail = last.slice(-3).map((m) => `#${m.i}: ${m.text.replace(/\s+/g, ' ').slice(0, 300)}`);
  fail(`no ${what} (${pattern}) in the channel within ${STAGE_MS} ms; last bot posts:\n  ${tail.join('\n  ') || '(none)'}`);
  return null;
}

// Mark a message's element, to tell later whether a change came to the same message (updated in
// place: the playground keeps the element and changes its content) or as a new one.
async function mark(i, name) {
  await messageAt(i).evaluate((el, n) => el.setAttribute('data-journey', n), name);
}

async function marked(name) {
  const all = await botMessages();
  const index = await page.evaluate(([sel, n]) => [...document.querySelectorAll(sel)]
    .findIndex((el) => el.getAttribute('data-journey') === n), [messageSel, name]);
  return index >= 0 ? all[index] : null;
}

// A screenshot of a whole message: a window tall enough for it, then the usual size again.
async function wholeShot(i, name) {
  const size = page.viewportSize();
  const box = await messageAt(i).boundingBox();
  await page.setViewportSize({ width: size.width, height: Math.min(4000, Math.ceil((box ? box.height : 0) + 300)) });
  await messageAt(i).scrollIntoViewIfNeeded();
  const shot = await screenshot(name);
  await page.setViewportSize(size);
  return shot;
}

// Horizontal overflow of the cards in message i at the current viewport: every element of each
// card must fit in its own box (scrollWidth <= clientWidth + 1) and in the card's, and the card
// in the window. Returns the offenders (at most 10) and the sizes.
async function overflowOf(i) {
  return messageAt(i).evaluate(overflowIn);
}

// What makes the card as wide as it is in the playground: the card and its ancestors, with their
// rendered width and the CSS width / min-width / max-width they have.
async function widthChain(i) {
  return messageAt(i).evaluate((msg) => {
    const chain = [];
    let el = msg.querySelector('.ac-adaptiveCard');
    while (el && chain.length < 8) {
      const cs = getComputedStyle(el);
      chain.push(`${el.tagName.toLowerCase()}.${String(el.className).split(/\s+/)[0]} ${Math.round(el.getBoundingClientRect().width)}px (width ${cs.width}, min ${cs.minWidth}, max ${cs.maxWidth})`);
      el = el.parentElement;
    }
    return chain;
  });
}

// Give the cards a phone's card width: the playground lays them out at a fixed width wider than
// a phone (see README.md), so the check sets the card's own width, as Teams on a phone does.
async function phoneCardWidth(on) {
  await page.evaluate(([px, enable]) => {
    let style = document.getElementById('journey-phone-cards');
    if (!enable) { if (style) style.remove(); return; }
    if (!style) { style = document.createElement('style'); style.id = 'journey-phone-cards'; document.head.appendChild(style); }
    style.textContent = `.ac-adaptiveCard { width: ${px}px !important; max-width: ${px}px !important; min-width: 0 !important; box-sizing: border-box !important; }`;
  }, [MOBILE_CARD_PX, on]);
}

// WCAG contrast of every piece of text in the cards of message i against the background it is
// drawn on (the nearest ancestor with an opaque background). Returns the lowest ratio and the
// texts below `min` (at most 10).
async function contrastOf(i, min = 4.5) {
  return messageAt(i).evaluate((msg, floor) => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el) => {
      for (let x = el; x; x = x.parentElement) {
        const c = rgb(getComputedStyle(x).backgroundColor);
        if (c.length >= 3 && (c.length < 4 || c[3] > 0.99)) return c;
      }
      return [255, 255, 255];
    };
    const out = { lowest: null, checked: 0, offenders: [] };
    for (const card of msg.querySelectorAll('.ac-adaptiveCard')) {
      for (const el of card.querySelectorAll('*')) {
        const own = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
        if (!own || !el.getBoundingClientRect().width) continue;
        const cs = getComputedStyle(el);
        const bg = background(el);
        const raw = rgb(cs.color);
        const alpha = raw.length > 3 ? raw[3] * Number(cs.opacity || 1) : Number(cs.opacity || 1);
        // A translucent colour is seen blended over its background.
        const fg = [0, 1, 2].map((k) => alpha * raw[k] + (1 - alpha) * bg[k]);
        const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
        const ratio = Math.round(((a + 0.05) / (b + 0.05)) * 100) / 100;
        out.checked += 1;
        if (out.lowest === null || ratio < out.lowest.ratio) out.lowest = { ratio, text: own.slice(0, 60), color: cs.color };
        if (ratio < floor && out.offenders.length < 10) out.offenders.push(`"${own.slice(0, 60)}" ${cs.color} on rgb(${bg.slice(0, 3).join(', ')}): ${ratio}:1`);
      }
    }
    return out;
  }, min);
}

function overflowIn(msg) {
  const vw = document.documentElement.clientWidth;
  const out = { viewport: vw, cards: [], offenders: [] };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? `.${el.className.trim().split(/\s+/).slice(0, 2).join('.')}` : ''} "${(el.innerText || el.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ').slice(0, 60)}"`;
  for (const card of msg.querySelectorAll('.ac-adaptiveCard')) {
    const box = card.getBoundingClientRect();
    out.cards.push({ left: Math.round(box.left), right: Math.round(box.right), width: Math.round(box.width), scrollWidth: card.scrollWidth, clientWidth: card.clientWidth });
    for (const el of [card, ...card.querySelectorAll('*')]) {
      const r = el.getBoundingClientRect();
      if (!r.width || !r.height || getComputedStyle(el).visibility === 'hidden') continue;
      if (el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1) {
        out.offenders.push(`${describe(el)} scrolls: scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth}`);
      } else if (r.right > box.right + 1 || r.left < box.left - 1) {
        out.offenders.push(`${describe(el)} sticks out of the card: ${Math.round(r.left)}–${Math.round(r.right)} px, card ${Math.round(box.left)}–${Math.round(box.right)} px`);
      }
      if (out.offenders.length >= 10) return out;
    }
  }
  return out;
}

async function rugSide(employeePage, summary) {
  let rugPage;
  let pid;

  // The RUG member opens Teams (her personal chat gets the welcome card) and the team "My Team":
  // opening its General channel installs the bot there, added by a RUG member, so the bot makes
  // it RUG's channel (bot_added_to_channel) and says so.
  await stage('rug_channel', async () => {
    rugPage = await context.newPage();
    rugPage.on('pageerror', (e) => log(`page error (RUG): ${e.message}`));
    use(rugPage);
    await page.goto(RUG_URL, { timeout: STAGE_MS, waitUntil: 'domcontentloaded' });
    await page.locator(SEL.textbox).first().waitFor({ state: 'visible', timeout: STAGE_MS });
    const welcome = await waitForMessage(0, /Jag har en idé/i, 'welcome card in the RUG member\'s personal chat');
    await openConversation('My Team - General', { channel: true });
    const post = await waitForPost(/RUG:s kanal/, 'the bot\'s "this is RUG\'s channel" post', { card: false });
    return { user: await page.locator('text=Megan Bowen').first().innerText(), welcome: welcome.text.slice(0, 80), post: post.text.slice(0, 300), screenshot: await screenshot('rug-channel') };
  });

  // The employee submits the proposal from the summary card. They named no RUG contact (the step
  // was skipped), so the request for endorsement goes to the RUG channel.
  await stage('submit', async () => {
    use(employeePage);
    const card = messageAt(summary.i);
    const before = (await botMessages()).length;
    await card.getByRole('button', { name: 'Skicka in', exact: true }).first().click({ timeout: STAGE_MS });
    const msg = await waitForMessage(before, /inskickat/i, 'the "Tack! Ditt förslag … är inskickat" reply', { needCard: false });
    pid = (msg.text.match(PID) || [null])[0];
    if (!pid) fail(`the submit reply names no proposal id: ${msg.text.slice(0, 300)}`);
    await messageAt(msg.i).scrollIntoViewIfNeeded();
    return { proposal: pid, text: msg.text.slice(0, 400), screenshot: await screenshot('submitted') };
  });

  // In the RUG channel: the open request, which any RUG member but the initiator can endorse.
  let endorsePost;
  await stage('endorse_card', async () => {
    use(rugPage, { channel: true });
    const pidRe = new RegExp(pid);
    endorsePost = await waitForPost(new RegExp(`${pid}[\\s\\S]*Förankra`), `the request for endorsement of ${pid}`);
    const card = messageAt(endorsePost.i);
    const buttons = await buttonNames(card);
    if (!buttons.includes('Förankra')) fail(`the endorsement card has no "Förankra" button: ${JSON.stringify(buttons)}`);
    if (!pidRe.test(endorsePost.text)) fail('the endorsement card does not name the proposal');
    await card.scrollIntoViewIfNeeded();
    return { message: endorsePost.i, buttons, text: endorsePost.text.slice(0, 600), screenshot: await screenshot('endorse-card') };
  });

  // She endorses it: the request card says so, and the case card is posted in the channel.
  let casePost;
  await stage('endorse', async () => {
    const card = messageAt(endorsePost.i);
    await mark(endorsePost.i, 'endorse-card');
    await card.getByRole('button', { name: 'Förankra', exact: true }).first().click({ timeout: STAGE_MS });
    // The card is updated in place and the thanks is a reply in its thread: two messages,
    // which may show one after the other, so wait until both are there.
    const updated = await waitForPost(new RegExp(`^(?=[\\s\\S]*Tack! \\S+ är förankrat)[\\s\\S]*${pid}[\\s\\S]*Förankrat av Megan Bowen`), 'the endorsement card marked "Förankrat av Megan Bowen" with the "Tack! … är förankrat" reply in its thread', { not: /Nytt förslag till RUG/ });
    const same = await marked('endorse-card');
    if (!same || same.i !== updated.i) fail('the endorsement was not shown on the request card itself (updated in place)');
    const buttons = await buttonNames(messageAt(updated.i));
    if (buttons.includes('Förankra')) fail(`the endorsed request card still offers "Förankra": ${JSON.stringify(buttons)}`);
    await messageAt(updated.i).scrollIntoViewIfNeeded();
    return { message: updated.i, buttons, state: (updated.text.match(/Förankrat av Megan Bowen[^\n]*/) || [''])[0], text: updated.text.slice(0, 400), screenshot: await screenshot('endorsed') };
  });

  await stage('case_card', async () => {
    casePost = await waitForPost(new RegExp(`Nytt förslag till RUG[\\s\\S]*${pid}`), `the case card for ${pid} in the RUG channel`);
    const card = messageAt(casePost.i);
    const buttons = await buttonNames(card);
    for (const want of ['Bifall', 'Avslag', 'Begär komplettering']) {
      if (!buttons.includes(want)) fail(`the case card lacks "${want}": ${JSON.stringify(buttons)}`);
    }
    if (!/Förankrat av Megan Bowen/.test(casePost.text)) fail(`the case card does not say who endorsed it: ${casePost.text.slice(0, 400)}`);
    const contrast = await contrastOf(casePost.i);
    if (!contrast.checked) fail('found no text on the case card to check its contrast');
    if (contrast.offenders.length) fail(`text on the case card below 4.5:1 contrast:\n  ${contrast.offenders.join('\n  ')}`);
    await card.scrollIntoViewIfNeeded();
    return { message: casePost.i, buttons, contrast, text: casePost.text.slice(0, 800), whole_card: await wholeShot(casePost.i, 'case-card-whole'), screenshot: await screenshot('case-card') };
  });

  // "Ärenden hos RUG", typed by the RUG member in her personal chat while the case is open: the
  // list card names it, hos RUG. (After the decision the list would only say that none is open.)
  // She does it in a second tab of her playground: in 0.2.28, a card in a conversation that was
  // left and opened again submits only its action's data, without its inputs (the typed
  // motivation would be lost), so the channel tab stays on the channel. See README.md.
  await stage('rug_cases', async () => {
    const channelPage = page;
    const tab = await context.newPage();
    tab.on('pageerror', (e) => log(`page error (RUG, second tab): ${e.message}`));
    use(tab);
    try {
      await page.goto(RUG_URL, { timeout: STAGE_MS, waitUntil: 'domcontentloaded' });
      await page.locator(SEL.textbox).first().waitFor({ state: 'visible', timeout: STAGE_MS });
      await waitForMessage(0, /Jag har en idé/i, 'the welcome card in the second tab');
      const before = (await botMessages()).length;
      await sendText('Ärenden hos RUG');
      const msg = await waitForMessage(before, new RegExp(`Ärenden hos RUG[\\s\\S]*${pid}`), `the "Ärenden hos RUG" list card naming ${pid}`);
      const line = (msg.text.match(new RegExp(`${pid}[^\\n]*`)) || [''])[0];
      if (!/hos RUG/.test(line)) fail(`the list shows ${pid} but not as "hos RUG": ${line}`);
      await messageAt(msg.i).scrollIntoViewIfNeeded();
      return { message: msg.i, line, text: msg.text.slice(0, 600), buttons: await buttonNames(messageAt(msg.i)), screenshot: await screenshot('rug-cases') };
    } finally {
      await tab.close().catch(() => {});
      use(channelPage, { channel: true });
    }
  });

  // A decision with a typed motivation on the case card.
  let caseCount;
  await stage('decision', async () => {
    casePost = await waitForPost(new RegExp(`Nytt förslag till RUG[\\s\\S]*${pid}`), `the case card for ${pid}`);
    const card = messageAt(casePost.i);
    caseCount = (await botPosts()).filter((m) => /Nytt förslag till RUG/.test(m.text) && m.text.includes(pid)).length;
    await mark(casePost.i, 'case-card');
    const box = card.getByRole('textbox', { name: /Motivering/ }).first();
    await box.fill(MOTIVATION, { timeout: STAGE_MS });
    await card.scrollIntoViewIfNeeded();
    const filled = await screenshot('decision-typed');
    await card.getByRole('button', { name: 'Bifall', exact: true }).first().click({ timeout: STAGE_MS });
    const reply = await waitForPost(new RegExp(`Beslutet om ${pid} är registrerat`), 'the "Beslutet … är registrerat" reply', { card: false });
    return { motivation: MOTIVATION, reply: reply.text.replace(/\s+/g, ' ').slice(0, 300), screenshot: filled };
  });

  // The case card is updated in place: the same post, now with the decision, who and why, and no
  // buttons; no second case card.
  await stage('card_updated', async () => {
    const deadline = Date.now() + STAGE_MS;
    let now;
    while (Date.now() < deadline) {
      now = await marked('case-card');
      if (now && /Beslut: bifallen? av Megan Bowen/i.test(now.text) && now.text.includes(MOTIVATION)) break;
      now = null;
      await page.waitForTimeout(250);
    }
    if (!now) fail(`the case card (the same post) does not show the decision with its motivation: ${((await marked('case-card')) || { text: '(gone)' }).text.slice(0, 600)}`);
    const card = messageAt(now.i);
    const buttons = await buttonNames(card);
    if (buttons.some((b) => /^(Bifall|Avslag|Begär komplettering)$/.test(b))) fail(`the decided case card still has decision buttons: ${JSON.stringify(buttons)}`);
    const cases = (await botPosts()).filter((m) => /Nytt förslag till RUG/.test(m.text) && m.text.includes(pid)).length;
    const contrast = await contrastOf(now.i);
    if (contrast.offenders.length) fail(`text on the decided case card below 4.5:1 contrast:\n  ${contrast.offenders.join('\n  ')}`);
    if (cases !== caseCount) fail(`expected the case card updated in place, but there are now ${cases} case cards for ${pid} (was ${caseCount})`);
    await card.scrollIntoViewIfNeeded();
    return { message: now.i, case_cards: cases, buttons, contrast, decision: (now.text.match(/Beslut:[^\n]*/) || [''])[0].slice(0, 300), whole_card: await wholeShot(now.i, 'case-card-decided-whole'), screenshot: await screenshot('case-card-decided') };
  });

  // The initiator is told in their personal chat, with RUG's motivation.
  await stage('initiator_notice', async () => {
    use(employeePage);
    const msg = await waitForMessage(summary.i + 1, new RegExp(`RUG har bifallit ditt förslag ${pid}`), 'the decision notice in the employee\'s personal chat');
    if (!msg.text.includes(MOTIVATION.slice(0, 40))) fail(`the notice lacks RUG's motivation: ${msg.text.slice(0, 600)}`);
    const endorsed = (await botMessages()).some((m) => m.text.includes(`Ditt förslag ${pid} är förankrat`));
    await messageAt(msg.i).scrollIntoViewIfNeeded();
    return { message: msg.i, endorsed_notice: endorsed, text: msg.text.slice(0, 600), screenshot: await screenshot('initiator-notice') };
  });

  // A group chat with the employee in it: opening it adds the bot; a question that @mentions the
  // bot gets its answer.
  await stage('group_chat', async () => {
    use(employeePage);
    await openConversation('Group Chat');
    const intro = await waitForMessage(0, /Jag är Omtanke/, 'the bot\'s introduction in the group chat', { needCard: false });
    const before = (await botMessages()).length;
    await sendMention(QUESTION);
    const msg = await waitForMessage(before, /Källa:/, 'an answer card with "Källa:" in the group chat');
    await messageAt(msg.i).scrollIntoViewIfNeeded();
    return { intro: intro.text.replace(/\s+/g, ' ').slice(0, 300), message: msg.i, source: (msg.text.match(/Källa:[^\n]*/) || [''])[0], text: msg.text.slice(0, 400), screenshot: await screenshot('group-chat') };
  });

  await ideaInOwnWords(employeePage);
  await escalationLoop(employeePage);

  // A phone-width window (390 × 844): the decided case card in the RUG channel and the summary
  // card in the employee's personal chat must fit, nothing in them wider than its box.
  await stage('mobile', async () => {
    const result = {};
    use(rugPage, { channel: true });
    await page.setViewportSize(MOBILE);
    const decided = await marked('case-card');
    if (!decided) fail('the case card is gone from the channel');
    result.playground_width = await widthChain(decided.i);
    await phoneCardWidth(true);
    await messageAt(decided.i).scrollIntoViewIfNeeded();
    result.case_card = await overflowOf(decided.i);
    result.case_shot = await wholeShot(decided.i, 'mobile-case-card');
    use(employeePage);
    await openConversation('Personal Chat');
    await page.setViewportSize(MOBILE);
    const card = await waitForMessage(0, /Skicka in|skallkrav/i, 'the summary card in the personal chat');
    const again = (await botMessages()).filter((m) => m.card && isSummary(m.text)).pop() || card;
    await phoneCardWidth(true);
    await messageAt(again.i).scrollIntoViewIfNeeded();
    result.summary = await overflowOf(again.i);
    result.screenshot = await wholeShot(again.i, 'mobile-summary');
    const offenders = [...result.case_card.offenders.map((o) => `case card: ${o}`), ...result.summary.offenders.map((o) => `summary: ${o}`)];
    for (const c of [...result.case_card.cards, ...result.summary.cards]) {
      if (Math.abs(c.width - MOBILE_CARD_PX) > 1) offenders.push(`a card is ${c.width} px wide, not the phone's ${MOBILE_CARD_PX} px`);
    }
    if (offenders.length) fail(`cards overflow at ${MOBILE.width}×${MOBILE.height}:\n  ${offenders.join('\n  ')}`);
    return { viewport: MOBILE, ...result };
  });
  return { rugPage, pid };
}

// ---- an idea in the user's own words -----------------------------------------------------
// The employee writes their idea as a sentence instead of pressing "Jag har en idé": the bot
// offers the guided dialog with the words after "om" as the title; "Ja" starts it at the step
// after the title. The journey then cancels it ("avbryt", "Ja, avbryt"): the draft is kept, and
// nothing else in the journey depends on it.

const IDEA_WORDS = 'Jag har en idé om videomöten vid utskrivning';
const IDEA_WORDS_TITLE = 'videomöten vid utskrivning';
const TITLE_NOTE = /Jag skriver in ”([^”]+)” som titel/;

async function ideaInOwnWords(employeePage) {
  let offer;
  await stage('idea_offer', async () => {
    use(employeePage);
    await openConversation('Personal Chat');
    await waitForMessage(0, /Jag har en idé/i, 'the welcome card in the personal chat');
    const before = (await botMessages()).length;
    await sendText(IDEA_WORDS);
    offer = await waitForMessage(before, /Vad roligt! Vill du att jag guidar dig/, 'the "Vad roligt! …" offer of the guided dialog');
    const title = (offer.text.match(TITLE_NOTE) || [null, null])[1];
    if (!title) fail(`the offer does not say which title it will use: ${offer.text.slice(0, 400)}`);
    if (title.toLowerCase() !== IDEA_WORDS_TITLE) fail(`the offer's title is "${title}", not the words after "om" ("${IDEA_WORDS_TITLE}")`);
    const buttons = await buttonNames(messageAt(offer.i));
    for (const want of ['Ja', 'Nej, tack']) {
      if (!buttons.includes(want)) fail(`the offer lacks the button "${want}": ${JSON.stringify(buttons)}`);
    }
    await messageAt(offer.i).scrollIntoViewIfNeeded();
    return { typed: IDEA_WORDS, message: offer.i, title, buttons, text: offer.text.slice(0, 500), screenshot: await screenshot('idea-offer') };
  });

  await stage('idea_guided', async () => {
    const before = (await botMessages()).length;
    await messageAt(offer.i).getByRole('button', { name: 'Ja', exact: true }).first().click({ timeout: STAGE_MS });
    const step = await waitForMessage(before, STEP, 'the guided dialog\'s first card after "Ja"');
    const [, n, of] = step.text.match(STEP);
    // The title was given: the dialog starts at the step after it, and says which title it took.
    if (Number(n) !== 2) fail(`after "Ja" the dialog shows step ${n}, not step 2 (the title step should be done): ${step.text.slice(0, 300)}`);
    const notes = (await botMessages()).filter((m) => m.i >= before && TITLE_NOTE.test(m.text));
    if (!notes.length) fail('the dialog does not show the title it took from the sentence');
    const title = notes[notes.length - 1].text.match(TITLE_NOTE)[1];
    if (title.toLowerCase() !== IDEA_WORDS_TITLE) fail(`the dialog took the title "${title}", not "${IDEA_WORDS_TITLE}"`);
    await messageAt(step.i).scrollIntoViewIfNeeded();
    const stepShot = await screenshot('idea-guided-step');
    // Out again: "avbryt", then "Ja, avbryt" on the question card.
    const beforeCancel = (await botMessages()).length;
    await sendText('avbryt');
    const ask = await waitForMessage(beforeCancel, /Vill du avbryta\?/, 'the "Vill du avbryta?" card');
    await messageAt(ask.i).getByRole('button', { name: 'Ja, avbryt', exact: true }).first().click({ timeout: STAGE_MS });
    const done = await waitForMessage(beforeCancel, /jag har avbrutit/i, 'the "Okej, jag har avbrutit" reply', { needCard: false });
    await messageAt(done.i).scrollIntoViewIfNeeded();
    return {
      step: Number(n), of: Number(of), title, title_note: notes[notes.length - 1].text.slice(0, 300),
      cancelled: done.text.slice(0, 300), screenshot: stepShot, after: await screenshot('idea-cancelled'),
    };
  });
}

// ---- the escalation loop ------------------------------------------------------------------
// A question the knowledge base declines goes, at the employee's click, to the coordinators'
// channel; a coordinator (Megan Bowen, on the coordinators' list run_journey.sh gives the bot)
// answers in the card; the employee gets the answer in their personal chat; the card is updated
// in place. The coordinators' channel is the team's other channel, "Announcements", registered
// by typing "registrera samordnarkanal" in it. It is opened in a second tab of Megan's
// playground that stays on it (a card in a channel that was left and opened again submits
// without its inputs, see README.md), so the RUG channel's tab keeps its marked case card.

const PARKING = 'Var kan jag parkera vid sjukhuset?';
const COORDINATOR_ANSWER = 'Parkeringen vid sjukhusen sköts av Regionfastigheter; personalparkering söker du på intranätet.';
const COORDINATORS_CHANNEL = 'My Team - Announcements';

function escapeRe(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Any post in the open channel (the bot's or a person's, whose thread holds the bot's reply)
// that matches.
async function waitForAnyPost(pattern, what) {
  const deadline = Date.now() + STAGE_MS;
  let last = [];
  while (Date.now() < deadline) {
    last = await botMessages();
    const hit = last.filter((m) => pattern.test(m.text));
    if (hit.length) return hit[0];
    await page.waitForTimeout(250);
  }
  const head = last.slice(0, 3).map((m) => `#${m.i}: ${m.text.replace(/\s+/g, ' ').slice(0, 300)}`);
  fail(`no ${what} (${pattern}) in the channel within ${STAGE_MS} ms; newest posts:\n  ${head.join('\n  ') || '(none)'}`);
  return null;
}

async function escalationCards() {
  return (await botPosts()).filter((m) => m.card && /Fråga till samordnarna/.test(m.text) && m.text.includes(PARKING));
}

async function escalationLoop(employeePage) {
  let coordPage;
  let intro = null;
  await stage('coordinators_channel', async () => {
    coordPage = await context.newPage();
    coordPage.on('pageerror', (e) => log(`page error (coordinator): ${e.message}`));
    use(coordPage);
    await page.goto(RUG_URL, { timeout: STAGE_MS, waitUntil: 'domcontentloaded' });
    await page.locator(SEL.textbox).first().waitFor({ state: 'visible', timeout: STAGE_MS });
    await waitForMessage(0, /Jag har en idé/i, 'the welcome card in the coordinator\'s second tab');
    await openConversation(COORDINATORS_CHANNEL, { channel: true });
    // Opening the channel the first time installs the bot there: its introduction.
    intro = await waitForPost(/Jag är Omtanke/, `the bot's introduction in "${COORDINATORS_CHANNEL}"`, { card: false });
    // In a channel, as in Teams, only posts that @mention the bot reach it.
    await sendMention('registrera samordnarkanal');
    const reply = await waitForAnyPost(/Den här kanalen är nu samordnarnas kanal/, 'the "… är nu samordnarnas kanal" reply');
    return { channel: COORDINATORS_CHANNEL, intro: intro.text.replace(/\s+/g, ' ').slice(0, 300), reply: reply.text.replace(/\s+/g, ' ').slice(0, 400), screenshot: await screenshot('coordinators-channel') };
  });

  let employeeFrom;
  await stage('escalate', async () => {
    use(employeePage);
    employeeFrom = (await botMessages()).length;
    await sendText(PARKING);
    const decline = await waitForMessage(employeeFrom, /utanför det jag kan hjälpa till med|Det kan jag tyvärr inte/, 'the bot declining the parking question');
    const card = messageAt(decline.i);
    const buttons = await buttonNames(card);
    const escalate = 'Skicka frågan till samordnarna';
    if (!buttons.includes(escalate)) fail(`the decline offers no "${escalate}" button: ${JSON.stringify(buttons)}`);
    if (/Källa:/.test(decline.text)) fail(`the parking question was answered, not declined: ${decline.text.slice(0, 300)}`);
    await card.scrollIntoViewIfNeeded();
    const declineShot = await screenshot('escalate-declined');
    const before = (await botMessages()).length;
    await card.getByRole('button', { name: escalate, exact: true }).first().click({ timeout: STAGE_MS });
    const sent = await waitForMessage(before, /skickat din fråga vidare till samordnarna/, 'the "… skickat din fråga vidare till samordnarna" reply', { needCard: false });
    await messageAt(sent.i).scrollIntoViewIfNeeded();
    return { question: PARKING, decline: decline.text.replace(/\s+/g, ' ').slice(0, 400), buttons, reply: sent.text.slice(0, 300), screenshot: declineShot, after: await screenshot('escalated') };
  });

  let escPost;
  await stage('escalation_card', async () => {
    use(coordPage, { channel: true });
    escPost = await waitForPost(new RegExp(`Fråga till samordnarna[\\s\\S]*${escapeRe(PARKING)}`), 'the escalated question\'s card in the coordinators\' channel');
    const card = messageAt(escPost.i);
    const buttons = await buttonNames(card);
    for (const want of ['Skicka svar', 'Markera som klar']) {
      if (!buttons.includes(want)) fail(`the escalation card lacks "${want}": ${JSON.stringify(buttons)}`);
    }
    if (!/Från:?\s*Alex Wilber/.test(escPost.text)) fail(`the escalation card does not say who asked: ${escPost.text.slice(0, 400)}`);
    const boxes = await card.locator(SEL.card).getByRole('textbox').count();
    if (boxes !== 1) fail(`the escalation card has ${boxes} text boxes, not one answer box`);
    await card.scrollIntoViewIfNeeded();
    return { message: escPost.i, buttons, answer_boxes: boxes, cards: (await escalationCards()).length, text: escPost.text.slice(0, 600), screenshot: await screenshot('escalation-card') };
  });

  await stage('escalation_answer', async () => {
    const card = messageAt(escPost.i);
    await mark(escPost.i, 'escalation-card');
    await card.locator(SEL.card).getByRole('textbox').first().fill(COORDINATOR_ANSWER, { timeout: STAGE_MS });
    await card.scrollIntoViewIfNeeded();
    const typed = await screenshot('escalation-answer-typed');
    await card.getByRole('button', { name: 'Skicka svar', exact: true }).first().click({ timeout: STAGE_MS });
    const reply = await waitForPost(/Svaret är skickat till Alex Wilber/, 'the "Tack! Svaret är skickat till Alex Wilber" reply', { card: false });
    return { answer: COORDINATOR_ANSWER, reply: (reply.text.match(/Tack! Svaret är skickat[^\n]*/) || [''])[0], screenshot: typed };
  });

  await stage('escalation_reply', async () => {
    use(employeePage);
    const msg = await waitForMessage(employeeFrom, new RegExp(`Svar på din fråga om ”${escapeRe(PARKING)}”`), 'the coordinator\'s answer in the employee\'s personal chat', { needCard: false });
    if (!msg.text.includes(COORDINATOR_ANSWER)) fail(`the answer's text is not in the message: ${msg.text.slice(0, 400)}`);
    if (!/Megan Bowen/.test(msg.text)) fail(`the answer does not say which coordinator wrote it: ${msg.text.slice(0, 400)}`);
    await messageAt(msg.i).scrollIntoViewIfNeeded();
    return { message: msg.i, text: msg.text.slice(0, 500), screenshot: await screenshot('escalation-reply') };
  });

  await stage('escalation_card_updated', async () => {
    use(coordPage, { channel: true });
    const deadline = Date.now() + STAGE_MS;
    let now = null;
    while (Date.now() < deadline) {
      now = await marked('escalation-card');
      if (now && /Besvarad av Megan Bowen/.test(now.text) && now.text.includes(COORDINATOR_ANSWER)) break;
      now = null;
      await page.waitForTimeout(250);
    }
    if (!now) fail(`the escalation card (the same post) does not show who answered and the answer: ${((await marked('escalation-card')) || { text: '(gone)' }).text.slice(0, 600)}`);
    const card = messageAt(now.i);
    const buttons = await buttonNames(card);
    if (buttons.some((b) => /^(Skicka svar|Markera som klar)$/.test(b))) fail(`the answered card still has its buttons: ${JSON.stringify(buttons)}`);
    const boxes = await card.locator(SEL.card).getByRole('textbox').count();
    if (boxes) fail(`the answered card still has ${boxes} answer box(es)`);
    const cards = (await escalationCards()).length;
    if (cards !== 1) fail(`expected the escalation card updated in place, but there are ${cards} cards for the question`);
    await card.scrollIntoViewIfNeeded();
    const shot = await screenshot('escalation-card-answered');
    await coordPage.close().catch(() => {});
    use(employeePage);
    return { message: now.i, cards, buttons, answer_boxes: boxes, state: (now.text.match(/Besvarad av Megan Bowen[^\n]*/) || [''])[0], text: now.text.slice(0, 600), screenshot: shot };
  });
}

// ---- the client-locale proxy ------------------------------------------------------------
// The playground (0.2.28) stamps every message it sends with locale "en-US", so the bot, which
// answers in the Teams client's language, would speak English. A Swedish employee's Teams
// sends "sv-SE": this loopback proxy between the playground and the bot sets that locale
// (the activity's and its clientInfo entity's) and passes everything else through unchanged.
//   node journey.cjs locale-proxy LISTEN_PORT TARGET_URL [LOCALE]
function localeProxy(listenPort, target, locale) {
  const http = require('http');
  const upstream = new (require('url').URL)(target);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: upstream.host };
      if (/json/i.test(req.headers['content-type'] || '') && body.length) {
        try {
          const activity = JSON.parse(body.toString('utf8'));
          if (activity && typeof activity === 'object') {
            if (activity.locale) activity.locale = locale;
            for (const e of activity.entities || []) if (e && e.type === 'clientInfo' && e.locale) e.locale = locale;
            body = Buffer.from(JSON.stringify(activity), 'utf8');
          }
        } catch (e) {
          // not JSON after all: pass it on as it came
        }
      }
      headers['content-length'] = String(body.length);
      const out = http.request({
        hostname: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers,
      }, (up) => {
        res.writeHead(up.statusCode || 502, up.headers);
        up.pipe(res);
      });
      out.on('error', (e) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`locale proxy: ${e.message}`);
      });
      out.end(body);
    });
  });
  server.listen(Number(listenPort), '127.0.0.1', () => log(`locale proxy 127.0.0.1:${listenPort} -> ${target} (locale ${locale})`));
}

async function main() {
  const watchdog = setTimeout(() => {
    emit({ result: 'failed', error: `journey watchdog: not done within ${TOTAL_MS} ms`, stages });
    process.exit(2);
  }, TOTAL_MS);
  let code = 0;
  try {
    await journey();
    emit({ result: 'passed', stages: stages.map((s) => s.stage) });
  } catch (err) {
    code = 1;
    const msg = err instanceof StageError ? err.message : (err.stack || String(err));
    log(`FAILED: ${msg}`);
    emit({ result: 'failed', error: msg, stages: stages.map((s) => `${s.stage}:${s.ok ? 'ok' : 'failed'}`) });
  } finally {
    if (context) await context.close().catch(() => {});
    clearTimeout(watchdog);
  }
  process.exit(code);
}

if (process.argv[2] === 'locale-proxy') {
  localeProxy(process.argv[3], process.argv[4], process.argv[5] || 'sv-SE');
} else {
  main();
}
