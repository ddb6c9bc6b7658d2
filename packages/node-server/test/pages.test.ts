import { describe, expect, it } from "vitest";
import { failurePage, PALETTE, strayPage, successPage } from "../src/pages.js";

function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a: string, b: string): number {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p) as [number, number];
  return (x + 0.05) / (y + 0.05);
}

const pages = {
  success: successPage({ endpointName: "login.example.com" }),
  failure: failurePage({}, "The authorization server refused the login (access_denied)."),
  stray: strayPage("The callback's state does not match this login."),
};

describe("result pages", () => {
  it("S28: self-contained: no external images, fonts, scripts or links", () => {
    for (const html of Object.values(pages)) {
      expect(html).not.toMatch(/\b(src|href|action)=|url\(|@import|<script|<link|<img/i);
    }
  });

  it("are accessible: a language, a title, exactly one h1, a decorative mark hidden from screen readers", () => {
    for (const html of Object.values(pages)) {
      expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
      expect(html).toMatch(/<title>[^<]+<\/title>/);
      expect(html.match(/<h1>/g)).toHaveLength(1);
      expect(html).toContain('<main class="');
      expect(html).toContain('aria-hidden="true"');
      expect(html).toContain('name="viewport"');
    }
  });

  it("say what to do next", () => {
    expect(pages.success).toContain("Successfully logged into login.example.com");
    expect(pages.success).toContain("You can close this tab and return to the terminal.");
    expect(pages.failure).toContain("run the login again");
    expect(pages.stray).toContain("The login is still waiting.");
  });

  it("every text colour has a WCAG AA contrast (4.5:1) with its background, light and dark", () => {
    for (const scheme of [PALETTE.light, PALETTE.dark]) {
      for (const colour of [scheme.text, scheme.muted, scheme.ok, scheme.fail]) {
        expect(contrast(colour, scheme.card), `${colour} on ${scheme.card}`).toBeGreaterThanOrEqual(
          4.5,
        );
      }
      expect(contrast(scheme.text, scheme.background)).toBeGreaterThanOrEqual(4.5);
      // The white / card-coloured mark on its coloured disc.
      for (const disc of [scheme.ok, scheme.fail]) {
        const markColour = scheme === PALETTE.light ? "#ffffff" : scheme.card;
        expect(contrast(markColour, disc), `mark on ${disc}`).toBeGreaterThanOrEqual(4.5);
      }
    }
  });

  it("custom pages replace the defaults (defect 4), the endpoint name is escaped (S27)", () => {
    expect(successPage({ successHtml: "<p>ok</p>" })).toBe("<p>ok</p>");
    expect(failurePage({ failureHtml: "<p>no</p>" }, "x")).toBe("<p>no</p>");
    expect(successPage({ endpointName: "<img src=x>" })).toContain("&#60;img src=x&#62;");
  });
});
