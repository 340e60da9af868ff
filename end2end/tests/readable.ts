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

/**
 * Every action on the page (a button, a link to an action, the summary of a confirmation) that
 * does not wear one of the three looks of components/action.rs, and every weight whose actions
 * do not all look alike (background, text colour, border, corners). The clock's toggles and
 * the timeline's version links are controls, not actions.
 */
export async function actionsOutOfLook(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const wrong: string[] = [];
    const looks = new Map<string, string>();
    const actions = document.querySelectorAll<HTMLElement>(
      'button, a.action, details.confirm > summary',
    );
    for (const el of Array.from(actions)) {
      if (el.closest('.clock') || el.classList.contains('link')) continue;
      if (!el.checkVisibility()) continue;
      const name = `<${el.tagName.toLowerCase()}> "${(el.textContent ?? '').trim().slice(0, 40)}"`;
      const weights = ['primary', 'secondary', 'danger'].filter((w) => el.classList.contains(w));
      if (!el.classList.contains('action') || weights.length !== 1) {
        wrong.push(`${name} has classes "${el.className}"`);
        continue;
      }
      const s = getComputedStyle(el);
      const look = [s.backgroundColor, s.color, s.borderTopColor, s.borderTopLeftRadius, s.fontWeight].join(' ');
      const seen = looks.get(weights[0]);
      if (seen === undefined) looks.set(weights[0], look);
      else if (seen !== look) wrong.push(`${name} (${weights[0]}) looks like "${look}", not "${seen}"`);
    }
    return wrong;
  });
}
