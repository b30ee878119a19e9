/** Step Functions hands inputs, outputs and causes over as text: the two ways the remote CLI reads them. */

/** The parsed value, or undefined when the text is absent or not JSON. */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** For showing: the parsed value, the text itself when it is not JSON, null when absent. */
export function jsonOrText(text: string | undefined): unknown {
  if (text === undefined) return null;
  const v = parseJson(text);
  return v === undefined ? text : v;
}
