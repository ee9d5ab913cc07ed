// Calendar dates and times as the log writes them (verifiable/log/fields.py:
// format_date, format_time). A date is the string "YYYY-MM-DD"; a time is a
// Number of POSIX seconds, UTC, whole. Days are counted with integer
// arithmetic (the proleptic Gregorian calendar, as Python's date), never
// through Date, whose two-digit years and local time zones would get in the way.

import { MalformedError } from "./errors.js";

export const DAY = 86400;

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function floorDiv(a, b) {
  return Math.floor(a / b);
}

// Days from 1970-01-01 to year-month-day (H. Hinnant's days_from_civil).
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = y - era * 400;
  const doy = floorDiv(153 * (month + (month > 2 ? -3 : 9)) + 2, 5) + day - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days) {
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = z - era * 146097;
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

export function isLeapYear(year) {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year, month) {
  return [31, isLeapYear(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

// The date's [year, month, day], or MalformedError for a string that is not
// a calendar date of years 1 to 9999 (Python's date range).
export function dateParts(text) {
  const m = typeof text === "string" ? DATE.exec(text) : null;
  if (m === null) throw new MalformedError(`expected a date YYYY-MM-DD, got ${typeof text}`);
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new MalformedError(`${JSON.stringify(text)} is not a calendar date`);
  }
  return [year, month, day];
}

export function makeDate(year, month, day) {
  const pad = (n, w) => String(n).padStart(w, "0");
  const text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
  dateParts(text);
  return text;
}

// Days since 1970-01-01 of a date "YYYY-MM-DD".
export function dateDays(text) {
  const [year, month, day] = dateParts(text);
  return daysFromCivil(year, month, day);
}

// The date "YYYY-MM-DD" that is `days` days after 1970-01-01.
export function daysDate(days) {
  const [year, month, day] = civilFromDays(days);
  return makeDate(year, month, day);
}

// The date of a time (POSIX seconds), as datetime.date() gives it in UTC.
export function timeDate(seconds) {
  return daysDate(floorDiv(seconds, DAY));
}

// 00:00 UTC of a date, in POSIX seconds.
export function dateTime(text) {
  return dateDays(text) * DAY;
}

// "YYYY-MM-DDTHH:MM:SSZ", as format_time writes a time.
export function formatTime(seconds) {
  const days = floorDiv(seconds, DAY);
  const rest = seconds - days * DAY;
  const pad = (n) => String(n).padStart(2, "0");
  const clock = `${pad(floorDiv(rest, 3600))}:${pad(floorDiv(rest, 60) % 60)}:${pad(rest % 60)}`;
  return `${daysDate(days)}T${clock}Z`;
}
