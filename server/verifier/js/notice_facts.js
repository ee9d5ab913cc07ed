// The structured facts of a public notice (claim.noticed's optional
// `facts`, notice facts v1; docs/format.md): a port of the decoding part of
// verifiable/log/notice_facts.py. This module holds only what reading a
// body needs (the grades, the regions, the provinces' codes and the reader);
// the rest of the Python module (the populations, the coarsening rule)
// belongs with the notice's checks and may be added here. monthsBetween is
// here for notice_check.js.
//
// The facts are {diagnosed_month, months_member, waiting_met,
// hospital_grade, requested, capped, place}: the Python dataclass's fields,
// hospital_grade and place null where withheld.

import { dateParts, daysInMonth } from "./dates.js";
import { MalformedError } from "./errors.js";
import { describe, isObject, readBool, readEnum, readFen, readInt, readObject } from "./fields.js";

export const HOSPITAL_GRADES = Object.freeze(["tertiary-a", "tertiary", "secondary", "primary", "unrated"]);

export const REGIONS = Object.freeze(["north", "northeast", "east", "central", "south", "southwest", "northwest"]);

// GB/T 2260 two-digit codes of the 31 mainland provincial divisions, by region.
const CODES = [
  ["north", ["11", "12", "13", "14", "15"]],
  ["northeast", ["21", "22", "23"]],
  ["east", ["31", "32", "33", "34", "35", "36", "37"]],
  ["central", ["41", "42", "43"]],
  ["south", ["44", "45", "46"]],
  ["southwest", ["50", "51", "52", "53", "54"]],
  ["northwest", ["61", "62", "63", "64", "65"]],
];

// Each province's code and its region.
export const PROVINCE_REGION = Object.freeze(
  Object.fromEntries(CODES.flatMap(([region, codes]) => codes.map((code) => [code, region]))),
);

const MONTH = /^([0-9]{4})-(0[1-9]|1[0-2])$/;
const REQUIRED = ["diagnosed_month", "months_member", "waiting_met", "requested", "capped"];
const MAX_MONTHS = 12 * 100;

const has = (obj, key) => Object.prototype.hasOwnProperty.call(obj, key);

// The region of `place`, a province code or a region's token.
export function placeRegion(place) {
  if (has(PROVINCE_REGION, place)) return PROVINCE_REGION[place];
  if (REGIONS.includes(place)) return place;
  throw new MalformedError(`${JSON.stringify(place)} is not a province code or a region`);
}

// Whole months from `start` to `end` ("YYYY-MM-DD"; 0 if `end` is earlier):
// a month is complete on the same day of the month, or on the month's last
// day where it has no such day (31 January to 28 February is one).
export function monthsBetween(start, end) {
  const [sy, sm, sd] = dateParts(start);
  const [ey, em, ed] = dateParts(end);
  let months = (ey - sy) * 12 + em - sm;
  if (ed < sd && ed !== daysInMonth(ey, em)) months -= 1;
  return Math.max(months, 0);
}

// NoticeFacts.from_json. A "place" of null reads as withheld, as Python's
// dict.get reads it; a "hospital_grade" present must be a grade.
export function readNoticeFacts(value, where) {
  let place = null;
  let grade = null;
  if (isObject(value) && (has(value, "place") || has(value, "hospital_grade"))) {
    place = has(value, "place") ? value.place : null;
    if (has(value, "hospital_grade")) grade = readEnum(value.hospital_grade, `${where}.hospital_grade`, HOSPITAL_GRADES);
    value = Object.fromEntries(Object.entries(value).filter(([k]) => k !== "place" && k !== "hospital_grade"));
  }
  const raw = readObject(value, where, REQUIRED);
  const month = raw.diagnosed_month;
  if (typeof month !== "string" || !MONTH.test(month)) {
    throw new MalformedError(`${where}.diagnosed_month: expected a month YYYY-MM`);
  }
  if (place !== null && (typeof place !== "string" || !(has(PROVINCE_REGION, place) || REGIONS.includes(place)))) {
    throw new MalformedError(`${where}.place: expected a GB/T 2260 province code or a region, got ${describe(place)}`);
  }
  const facts = Object.freeze({
    diagnosed_month: month,
    months_member: readInt(raw.months_member, `${where}.months_member`, 0, MAX_MONTHS),
    waiting_met: readBool(raw.waiting_met, `${where}.waiting_met`),
    hospital_grade: grade,
    requested: readFen(raw.requested, `${where}.requested`, true),
    capped: readFen(raw.capped, `${where}.capped`, true),
    place,
  });
  if (facts.capped > facts.requested) {
    throw new MalformedError(`${where}.capped: at most the amount requested (${facts.requested}), got ${facts.capped}`);
  }
  return facts;
}

// NoticeFacts.month: the diagnosed month as [year, month].
export function factsMonth(facts) {
  return [Number(facts.diagnosed_month.slice(0, 4)), Number(facts.diagnosed_month.slice(5))];
}
