import { Page } from '@playwright/test';

/** Tokens longer than this are free text (a 300-character note) and may wrap anywhere. */
const SHORT_TOKEN = 40;

/**
 * Every short token on the page (an id, a status, a time, a header, a number: any run of
 * characters without a space, up to 40 long) that the browser broke across lines, with the
 * element it stands in. A token is broken when its text lies on more than one line box.
 */
export async function brokenTokens(page: Page): Promise<string[]> {
  return page.evaluate((limit) => {
    const broken: string[] = [];
    const range = document.createRange();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('script, style, template, pre')) continue;
      // Not rendered (display: none, a closed <details>, a folded menu): nobody reads it.
      if (!parent.checkVisibility({ contentVisibilityAuto: true })) continue;
      const text = node.textContent ?? '';
      for (const match of text.matchAll(/\S+/g)) {
        if (match[0].length > limit) continue;
        range.setStart(node, match.index!);
        range.setEnd(node, match.index! + match[0].length);
        const lines = new Set(
          Array.from(range.getClientRects())
            .filter((r) => r.width > 0 && r.height > 0)
            .map((r) => Math.round(r.top)),
        );
        if (lines.size > 1) {
          const where = parent.tagName.toLowerCase() + (parent.className ? `.${String(parent.className).replace(/ /g, '.')}` : '');
          broken.push(`"${match[0]}" in <${where}> on ${lines.size} lines`);
        }
      }
    }
    return broken;
  }, SHORT_TOKEN);
}
