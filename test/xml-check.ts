// A tiny XML well-formedness check for the SVG tests: balanced tags, quoted attributes, escaped text.

/** Returns null when `xml` is well formed, else what is wrong. Also counts the elements by name. */
export function checkXml(xml: string): { error: string | null; counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const stack: string[] = [];
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g;
  const badText = (t: string): boolean => /[<>]/.test(t) || /&/.test(t.replace(entity, ''));
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*"[^"]*")*)\s*(\/?)>/g;
  let pos = 0, m: RegExpExecArray | null, roots = 0;
  while ((m = tag.exec(xml)) !== null) {
    const text = xml.slice(pos, m.index);
    if (badText(text)) return { error: `bad text ${JSON.stringify(text.slice(0, 60))} at ${pos}`, counts };
    if (stack.length === 0 && text.trim() !== '') return { error: `text outside the root at ${pos}`, counts };
    const [, close, name, attrs, selfClose] = m;
    for (const a of attrs!.matchAll(/"([^"]*)"/g)) if (badText(a[1]!)) return { error: `bad attribute value ${a[1]}`, counts };
    if (close) {
      if (stack.pop() !== name) return { error: `</${name}> does not close the open element`, counts };
    } else {
      if (stack.length === 0 && ++roots > 1) return { error: 'more than one root element', counts };
      counts.set(name!, (counts.get(name!) ?? 0) + 1);
      if (!selfClose) stack.push(name!);
    }
    pos = tag.lastIndex;
  }
  if (badText(xml.slice(pos)) || xml.slice(pos).trim() !== '') return { error: 'trailing text or an unparsed tag', counts };
  if (stack.length > 0) return { error: `unclosed <${stack.join('>, <')}>`, counts };
  if (roots !== 1) return { error: 'no root element', counts };
  return { error: null, counts };
}

/** Occurrences of a class attribute value, e.g. count(svg, 'point'). */
export function countClass(xml: string, cls: string): number {
  return xml.split(`class="${cls}"`).length - 1;
}
