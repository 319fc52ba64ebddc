import { describe, expect, it } from "vitest";
import { presentationFor } from "./presentation";

describe("presentation", () => {
  it("is phone on iOS and Android whatever the width", () => {
    expect(presentationFor({ mobile: true, width: 1024, forced: null })).toBe("phone");
  });

  it("is phone in a desktop window narrower than 600 px, desktop from 600 px", () => {
    expect(presentationFor({ mobile: false, width: 390, forced: null })).toBe("phone");
    expect(presentationFor({ mobile: false, width: 599, forced: null })).toBe("phone");
    expect(presentationFor({ mobile: false, width: 600, forced: null })).toBe("desktop");
    expect(presentationFor({ mobile: false, width: 1280, forced: null })).toBe("desktop");
  });

  it("follows the override from Settings > Support", () => {
    expect(presentationFor({ mobile: false, width: 1280, forced: "phone" })).toBe("phone");
    expect(presentationFor({ mobile: true, width: 390, forced: "desktop" })).toBe("desktop");
  });
});
