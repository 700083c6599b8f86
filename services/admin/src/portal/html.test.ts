import { describe, expect, test } from "vitest";
import { html, trusted } from "./html.js";

describe("html", () => {
  test("escapes every interpolated string, attribute quotes included", () => {
    const description = `"><script>alert('x')</script>&`;
    expect(html`<p title="${description}">${description}</p>`.text).toBe(
      `<p title="&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;">&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;</p>`,
    );
  });

  test("nests templates without escaping them twice, joins arrays, drops null, undefined and false", () => {
    const items = ["a<b", "c"].map((item) => html`<li>${item}</li>`);
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${0}`.text).toBe("<ul><li>a&lt;b</li><li>c</li></ul>0");
  });

  test("inserts trusted markup as is", () => {
    expect(html`<div>${trusted("<svg></svg>")}</div>`.text).toBe("<div><svg></svg></div>");
  });
});
