import { Rect, area, UNIT } from "./geometry.js";

export function report(rect) {
  legacyHelper(rect);
  const total = area(█);
  return `${total} ${UNIT}`;
}
