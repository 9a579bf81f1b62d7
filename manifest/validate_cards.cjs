#!/usr/bin/env node
// Validates Adaptive Cards with the adaptivecards renderer library's own parser.
//
// stdin:  JSON array of {"name": string, "card": object}
// stdout: JSON array of {"name": string, "errors": [string], "warnings": [string]}
//
// No JSON schema for Adaptive Cards 1.5 ships on npm, so the renderer's parser is the
// reference: it reports unknown element/action types while parsing, and inputs without
// id, duplicate ids, bad versions etc. from validateProperties().
// Teams renders at most 1.5, so parsing targets 1.5: elements, actions and enum values
// introduced later count as unknown, and a card declaring a higher version fails.
"use strict";

// Plain require('adaptivecards') loads the ES module build, which fails in Node 20.
const AC = require("adaptivecards/dist/adaptivecards.js");

const TARGET_VERSION = AC.Versions.v1_5;
// Hints and deprecations do not stop Teams from rendering the card.
const WARNING_EVENTS = new Set([AC.ValidationEvent.Hint, AC.ValidationEvent.Deprecated]);
// Keys that Teams or the card format accept but the renderer's schema does not list:
// Teams extensions and the collections that the renderer parses by hand.
const EXTRA_KEYS = new Set([
  "type", "$schema", "msteams", "fallback", "requires",
  "body", "actions", "items", "columns", "rows", "cells", "card", "inlines",
]);

AC.SerializableObject.defaultMaxVersion = TARGET_VERSION;

/** Names a card object for a message: its type and, when set, its id. */
function describe(source) {
  if (!source || typeof source.getJsonTypeName !== "function") {
    return "";
  }
  const id = source.id ? ` id="${source.id}"` : "";
  return `${source.getJsonTypeName()}${id}: `;
}

/** Formats one validation event of the library as a readable line. */
function formatEvent(ev) {
  const kind = AC.ValidationEvent[ev.event] || String(ev.event);
  return `${kind}: ${describe(ev.source)}${ev.message}`;
}

/** Lists the JSON property names that an object's schema knows. */
function knownKeys(obj) {
  const schema = obj.getSchema();
  const names = new Set(EXTRA_KEYS);
  for (let i = 0; i < schema.getCount(); i++) {
    names.add(schema.getItemAt(i).name);
  }
  return names;
}

/** Validates one card and returns its errors and warnings. */
function validateCard(card) {
  const errors = [];
  const warnings = [];
  if (!card || typeof card !== "object" || Array.isArray(card)) {
    return { errors: ["card is not a JSON object"], warnings };
  }
  const context = new AC.SerializationContext(TARGET_VERSION);
  const checkKeys = (obj, source) => {
    if (!source || typeof source !== "object") {
      return;
    }
    const known = knownKeys(obj);
    for (const key of Object.keys(source)) {
      if (!known.has(key)) {
        warnings.push(`UnknownProperty: ${describe(obj)}property "${key}" is not known`);
      }
    }
  };
  context.onParseElement = checkKeys;
  context.onParseAction = checkKeys;

  const adaptiveCard = new AC.AdaptiveCard();
  try {
    adaptiveCard.parse(card, context);
  } catch (err) {
    errors.push(`parse failed: ${err && err.message ? err.message : String(err)}`);
    return { errors, warnings };
  }
  checkKeys(adaptiveCard, card);

  const events = [];
  for (let i = 0; i < context.eventCount; i++) {
    events.push(context.getEventAt(i));
  }
  events.push(...adaptiveCard.validateProperties().validationEvents);
  for (const ev of events) {
    const line = formatEvent(ev);
    const target = WARNING_EVENTS.has(ev.event) ? warnings : errors;
    if (!target.includes(line)) {
      target.push(line);
    }
  }
  return { errors, warnings };
}

/** Reads all of stdin as text. */
function readStdin() {
  return require("fs").readFileSync(0, "utf8");
}

function main() {
  let items;
  try {
    items = JSON.parse(readStdin());
  } catch (err) {
    process.stderr.write(`validate_cards: stdin is not JSON: ${err.message}\n`);
    return 2;
  }
  if (!Array.isArray(items)) {
    process.stderr.write("validate_cards: stdin must be a JSON array of {name, card}\n");
    return 2;
  }
  const results = items.map((item, index) => {
    const name = item && typeof item.name === "string" ? item.name : `#${index}`;
    return { name, ...validateCard(item ? item.card : undefined) };
  });
  process.stdout.write(JSON.stringify(results, null, 1) + "\n");
  return 0;
}

process.exitCode = main();
